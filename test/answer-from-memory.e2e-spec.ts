import { CacheService } from '@app/cache';
import { randomBytes } from 'node:crypto';
import { AccessTokenValidator } from '../apps/auth-service/src/access/access-token.validator';
import { RateLimitService } from '../apps/auth-service/src/rate-limit/rate-limit.service';
import { expectError, UserFactory } from './support/factories';
import { HttpResponse } from './support/http';
import { INTROSPECTION_CLIENT, Instance, startInstance } from './support/instance';
import { waitUntil } from './support/wait-until';

const ME = '/api/v1/auth/me';
const INTROSPECT = '/api/v1/auth/introspect';
const CLIENT = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:${INTROSPECTION_CLIENT.secret}`).toString('base64')}`;

/** Headers that differ between any two answers. */
const PER_ANSWER = new Set(['date', 'x-request-id', 'keep-alive', 'connection']);

function stableHeaders(res: HttpResponse): Record<string, string> {
  return Object.fromEntries([...res.headers.entries()].filter(([name]) => !PER_ANSWER.has(name)));
}

/**
 * The hot routes answer from memory, before Nest's pipeline, when everything they need is there
 * (me-from-memory.ts, introspection-from-memory.ts). These tests hold those answers to the
 * controller's, and check that nothing but a "yes" is ever answered that way.
 */
describe('answers from memory (GET /auth/me, POST /auth/introspect)', () => {
  let a: Instance;
  let b: Instance;
  let validate: jest.SpyInstance;

  beforeAll(async () => {
    [a, b] = await Promise.all([startInstance(), startInstance()]);
    await waitUntil(() => [a, b].map((i) => i.app.get(CacheService).strictL1Trusted), {
      what: 'both instances trusting strict entries in L1',
      until: (trusted) => trusted.every(Boolean),
      intervalMs: 10,
    });
    validate = jest.spyOn(AccessTokenValidator.prototype, 'validate');
  });
  afterAll(async () => {
    validate?.mockRestore();
    await Promise.all([a?.close(), b?.close()]);
  });

  const introspect = (on: Instance, token: string) =>
    on.http.post(INTROSPECT, undefined, {
      raw: new URLSearchParams({ token }).toString(),
      contentType: 'application/x-www-form-urlencoded',
      headers: { authorization: CLIENT },
    });

  it('GET /auth/me: the answer from memory is the controller answer, byte for byte, headers included', async () => {
    const user = await UserFactory.register(a.http);
    validate.mockClear();
    const first = await a.http.get(ME, { token: user.tokens.accessToken });
    expect(validate).toHaveBeenCalledTimes(1); // the controller's path filled memory
    validate.mockClear();
    const second = await a.http.get(ME, { token: user.tokens.accessToken });
    expect(validate).not.toHaveBeenCalled(); // answered from memory
    expect(second.status).toBe(200);
    expect(second.text).toBe(first.text);
    expect(stableHeaders(second)).toEqual(stableHeaders(first));
    expect(second.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('POST /auth/introspect: the answer from memory is the controller answer, byte for byte, headers included', async () => {
    const user = await UserFactory.register(a.http);
    validate.mockClear();
    const first = await introspect(a, user.tokens.accessToken);
    expect(validate).toHaveBeenCalledTimes(1);
    validate.mockClear();
    const second = await introspect(a, user.tokens.accessToken);
    expect(validate).not.toHaveBeenCalled();
    expect(second.status).toBe(200);
    expect(second.body.active).toBe(true);
    expect(second.text).toBe(first.text);
    expect(stableHeaders(second)).toEqual(stableHeaders(first));
    const third = await introspect(a, user.tokens.accessToken); // its serialized answer, reused
    expect(third.text).toBe(first.text);
    expect(stableHeaders(third)).toEqual(stableHeaders(first));
  });

  it('a logout on the other instance ends answers from memory at once: 401 and {active:false}', async () => {
    const user = await UserFactory.register(a.http);
    await a.http.get(ME, { token: user.tokens.accessToken });
    await introspect(a, user.tokens.accessToken);
    expect((await a.http.get(ME, { token: user.tokens.accessToken })).status).toBe(200);
    const out = await b.http.post('/api/v1/auth/logout', undefined, { token: user.tokens.accessToken });
    expect(out.status).toBe(204);
    expectError(await a.http.get(ME, { token: user.tokens.accessToken }), 401, 'invalid_token');
    expect((await introspect(a, user.tokens.accessToken)).body).toEqual({ active: false });
  });

  it('never answers a refusal from memory: a bad client, a bad body or a bad token go to the controller', async () => {
    const user = await UserFactory.register(a.http);
    await introspect(a, user.tokens.accessToken); // in memory now
    const badClient = await a.http.post(INTROSPECT, undefined, {
      raw: new URLSearchParams({ token: user.tokens.accessToken }).toString(),
      contentType: 'application/x-www-form-urlencoded',
      headers: {
        authorization: `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:wrong`).toString('base64')}`,
      },
    });
    expectError(badClient, 401, 'invalid_client');
    const extraField = await a.http.post(
      INTROSPECT,
      { token: user.tokens.accessToken, extra: 'x' },
      { headers: { authorization: CLIENT } },
    );
    expectError(extraField, 400, 'validation_failed');
    const tampered = `${user.tokens.accessToken.slice(0, -2)}xx`;
    expectError(await a.http.get(ME, { token: tampered }), 401, 'invalid_token');
    expect((await introspect(a, tampered)).body).toEqual({ active: false });
  });

  it('with rate limits on, answers from memory too; an IP over the limit gets 429 there as from the guard', async () => {
    const limited = await startInstance({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_INTROSPECT_IP: '3/60',
      // Its own counters: other suites' limited instances count this IP too.
      CACHE_KEY_PREFIX: `e2e_${process.env.E2E_RUN_ID}_mem_${randomBytes(3).toString('hex')}`,
    });
    try {
      await waitUntil(() => limited.app.get(CacheService).strictL1Trusted, {
        what: 'the instance trusting strict entries in L1',
        intervalMs: 10,
      });
      const user = await UserFactory.register(limited.http);
      validate.mockClear();
      const answers = [];
      for (let i = 0; i < 6; i++) answers.push(await introspect(limited, user.tokens.accessToken));
      // Authenticated calls are not counted: the first went on to the controller, the rest were
      // answered from memory.
      expect(answers.map((res) => res.body.active)).toEqual([true, true, true, true, true, true]);
      expect(validate).toHaveBeenCalledTimes(1);

      // Four wrong secrets put this IP over the limit; from then on the right one is refused too,
      // by the answer from memory, in the guard's shape.
      const wrong = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.id}:guess`).toString('base64')}`;
      const guesses = [];
      for (let i = 0; i < 4; i++)
        guesses.push(
          await limited.http.post(
            INTROSPECT,
            { token: user.tokens.accessToken },
            { headers: { authorization: wrong } },
          ),
        );
      expect(guesses.map((res) => res.status)).toEqual([401, 401, 401, 429]);
      const refused = await introspect(limited, user.tokens.accessToken);
      expectError(refused, 429, 'too_many_requests');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(validate).toHaveBeenCalledTimes(1);
      expect(limited.app.get(RateLimitService).rejections().introspect_ip).toBe(2);
    } finally {
      await limited.close();
    }
  });
});
