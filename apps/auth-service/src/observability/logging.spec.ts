import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadConfig } from '../config/app-config';
import { createRootLogger, PinoNestLogger, scrubText } from './logging';

describe('logging', () => {
  const capture = () => {
    const lines: string[] = [];
    const logger = createRootLogger('trace', { write: (s: string) => void lines.push(s) });
    return { lines, logger, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  };

  it('redacts secret fields at any depth', () => {
    const { logger, lines } = capture();
    logger.info({
      password: 'p4ssw0rd-top',
      body: { refreshToken: 'rt-secret-1', nested: { newPassword: 'np-secret-2' } },
      req: { headers: { authorization: 'Bearer abc.def', cookie: 'refresh_token=ck-secret-3' } },
    });
    const text = lines.join('');
    for (const secret of ['p4ssw0rd-top', 'rt-secret-1', 'np-secret-2', 'abc.def', 'ck-secret-3']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('[Redacted]');
  });

  it('standard output is written asynchronously, and every buffered line is out when the process exits', () => {
    // 20,000 lines are far more than one asynchronous write takes: without the flush on exit
    // (or with a signal instead of process.exit) most of them would be lost.
    const script = [
      `const { createRootLogger } = require(${JSON.stringify(join(__dirname, 'logging.ts'))});`,
      "const logger = createRootLogger('info');",
      "for (let i = 0; i < 20000; i++) logger.info({ i }, 'line');",
      'process.exit(0);',
    ].join('\n');
    const child = spawnSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      timeout: 60_000,
    });
    expect(child.status).toBe(0);
    const lines = child.stdout.trim().split('\n');
    expect(lines).toHaveLength(20_000);
    expect(JSON.parse(lines[19_999]!)).toEqual(expect.objectContaining({ i: 19_999, msg: 'line' }));
  });

  it('scrubs bearer credentials, JWTs and argon2 hashes inside messages', () => {
    const jwt = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLXZhbHVl';
    expect(scrubText(`got Bearer ${jwt} and $argon2id$v=19$m=19456,t=2,p=1$abc$def`)).toBe(
      'got Bearer [Redacted] and [Redacted hash]',
    );
    expect(scrubText(`token ${jwt}`)).toBe('token [Redacted JWT]');
  });

  it("routes Nest's Logger calls with their context and level", () => {
    const { logger, parsed } = capture();
    const nest = new PinoNestLogger(logger);
    nest.log('hello', 'Ctx');
    nest.warn('careful', 'Other');
    nest.error('boom', 'stack line', 'Err');
    expect(parsed()).toEqual([
      expect.objectContaining({ level: 'info', msg: 'hello', context: 'Ctx' }),
      expect.objectContaining({ level: 'warn', msg: 'careful', context: 'Other' }),
      expect.objectContaining({ level: 'error', msg: 'boom', context: 'Err', stack: 'stack line' }),
    ]);
  });

  it('config: cache health thresholds and background jobs have the documented defaults', () => {
    const dev = loadConfig({});
    expect(dev.cacheHealth).toEqual({
      hitRate: { warning: 80, critical: 60 },
      errorRate: { warning: 1, critical: 5 },
      latencyMs: { warning: 10, critical: 50 },
      memoryUsage: { warning: 80, critical: 95 },
    });
    expect(dev.cacheOps).toEqual(
      expect.objectContaining({
        warmOnStart: true,
        consistencySampleIntervalMs: 60_000,
        activityFlushIntervalMs: 5_000,
      }),
    );
    const off = loadConfig({
      CACHE_WARM_ON_START: 'false',
      CACHE_CONSISTENCY_SAMPLE_INTERVAL_MS: '0',
      ACTIVITY_FLUSH_INTERVAL_MS: '0',
    });
    expect(off.cacheOps).toEqual(
      expect.objectContaining({
        warmOnStart: false,
        consistencySampleIntervalMs: 0,
        activityFlushIntervalMs: 0,
      }),
    );
    expect(loadConfig({ ACTIVITY_FLUSH_INTERVAL_MS: '750' }).cacheOps.activityFlushIntervalMs).toBe(750);
    expect(() => loadConfig({ CACHE_HEALTH_HIT_RATE_WARNING: '120' })).toThrow(
      /CACHE_HEALTH_HIT_RATE_WARNING/,
    );
  });
});
