// The cost curve's live sessions: users and sessions inserted straight into PostgreSQL (the real
// tables, the columns the migrations define), access tokens minted with the service's own active
// signing key, and, past what the service's start-up warmer covers, Redis entries written in the
// very text the service writes (copied from entries the service wrote itself, and checked), sealed
// with the service's cache encryption key where the service seals (users: personal data).
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type Redis from 'ioredis';
import { importPKCS8, SignJWT } from 'jose';
import type { Client } from 'pg';
import { CacheInternalKeys } from '../libs/cache/src/internal-keys';
import { ValueCipher } from '../libs/cache/src/value-cipher';
import { KEY_SCHEMA_VERSION, RedisKeys } from '../apps/auth-service/src/common/redis-keys';

export interface SeededSession {
  userId: string;
  sessionId: string;
}

const INSERT_BATCH = 20_000;

/**
 * N users with one live session each, in batches of one INSERT … SELECT FROM unnest(…) per table.
 * Every row carries the same dates (`at`), so the cached texts of two users differ only in their
 * ids, emails and names (seedRedisEntries relies on it).
 */
export async function seedSessions(db: Client, count: number, at: Date): Promise<SeededSession[]> {
  const seeded: SeededSession[] = [];
  const expiresAt = new Date(at.getTime() + 30 * 86_400_000);
  for (let start = 0; start < count; start += INSERT_BATCH) {
    const batch = Array.from({ length: Math.min(INSERT_BATCH, count - start) }, () => ({
      userId: randomUUID(),
      sessionId: randomUUID(),
    }));
    await db.query(
      `INSERT INTO users (id, email, name, email_verified, created_at, updated_at)
       SELECT u, 'curve.' || ($2::int + i) || '@example.test', 'Curve ' || ($2::int + i), true, $3, $3
       FROM unnest($1::uuid[]) WITH ORDINALITY AS t(u, i)`,
      [batch.map((b) => b.userId), start, at],
    );
    await db.query(
      `INSERT INTO sessions (id, user_id, refresh_token_hash, expires_at, amr, auth_time)
       SELECT s, u, encode(sha256(convert_to(s::text, 'UTF8')), 'hex'), $3, '{pwd}', $4
       FROM unnest($1::uuid[], $2::uuid[]) AS t(s, u)`,
      [batch.map((b) => b.sessionId), batch.map((b) => b.userId), expiresAt, at],
    );
    seeded.push(...batch);
  }
  return seeded;
}

export interface TokenClaims {
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

/**
 * One access token per session, one a line in `path`, signed as AccessTokenService.issue signs:
 * the active key of the signing_keys table (stored unsealed: the bench sets no KEY_ENCRYPTION_KEY),
 * the same header and claims.
 */
export async function mintAccessTokens(
  db: Client,
  sessions: SeededSession[],
  claims: TokenClaims,
  path: string,
): Promise<void> {
  const { rows } = await db.query<{ kid: string; alg: string; private_pem: string }>(
    `SELECT kid, alg, private_pem FROM signing_keys
     WHERE retired_at IS NULL AND withdrawn_at IS NULL AND private_pem IS NOT NULL
     ORDER BY created_at DESC LIMIT 1`,
  );
  const row = rows[0];
  if (!row) throw new Error('no active signing key with a private half in signing_keys');
  if (row.private_pem.startsWith('kek1:'))
    throw new Error('the signing key is sealed: unset KEY_ENCRYPTION_KEY');
  const key = await importPKCS8(row.private_pem, row.alg);
  const authTime = Math.floor(Date.now() / 1000);
  const out = createWriteStream(path);
  for (const s of sessions) {
    const token = await new SignJWT({ sid: s.sessionId, roles: ['user'], amr: ['pwd'], auth_time: authTime })
      .setProtectedHeader({ alg: row.alg, kid: row.kid, typ: 'at+jwt' })
      .setIssuer(claims.issuer)
      .setAudience(claims.audience)
      .setSubject(s.userId)
      .setIssuedAt()
      .setExpirationTime(`${claims.ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(key);
    if (!out.write(`${token}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** The Redis keys of one seeded session: built by the service's own key builders. */
export function cacheKeysOf(prefix: string) {
  const keys = new RedisKeys(prefix, Buffer.alloc(32)); // the hashing key only feeds hashed keys: unused here
  const internal = new CacheInternalKeys({ keyPrefix: prefix, schemaVersion: KEY_SCHEMA_VERSION });
  return {
    session: (s: SeededSession) => keys.session(s.userId, s.sessionId),
    user: (s: SeededSession) => keys.user(s.userId),
    tagSet: (s: SeededSession) => internal.tagSet(keys.userTag(s.userId)),
  };
}

const SEED_BATCH = 5_000;

export interface RedisSeedResult {
  /** Service-written sessions (with their users) whose text this function's matched byte for byte (all, or it throws). */
  checked: number;
  /** Entries (sessions and users) written here: those the service had not cached. */
  written: number;
}

/**
 * Writes the session and user entries (and the user's tag set) of every seeded session that the
 * service has not cached yet, as the service's fill would (SET … PX ttl NX; SADD + PEXPIRE on the tag set).
 * The text is derived from an entry the service wrote for another seeded session, with that
 * session's ids, email and name swapped; every service-written entry among the probed ones is
 * compared with what this would have written, and any difference stops the bench.
 */
export async function seedRedisEntries(
  redis: Redis,
  prefix: string,
  sessions: SeededSession[],
  ttlMs: { session: number; user: number },
  /** The service's `cache-encryption-key` (service_secrets): users carry personal data, sealed in Redis. */
  encryptionKey: Buffer,
): Promise<RedisSeedResult> {
  const keys = cacheKeysOf(prefix);
  const cipher = new ValueCipher(encryptionKey);
  const sealed = (value: string | null | undefined) => value?.startsWith('enc2:') === true;
  const plain = (key: string, value: string | null | undefined) => {
    if (!value || !sealed(value)) return value ?? undefined;
    const text = cipher.open(key, value);
    if (text === undefined) throw new Error(`the cache encryption key does not open ${key}`);
    return text;
  };
  const indexOf = new Map(sessions.map((s, i) => [s.userId, i]));
  // The warmer takes the most recently seen sessions (the last batches inserted); the first session
  // answered one request (curve.ts checks its token) before this.
  const probe = [sessions[0]!, ...sessions.slice(-SEED_BATCH)];
  const found = await redis.mget(...probe.flatMap((s) => [keys.session(s), keys.user(s)]));
  const warmedAt = probe.findIndex((_, i) => found[2 * i] && found[2 * i + 1]);
  const template = probe[warmedAt];
  if (!template) throw new Error('the service cached none of the probed sessions: nothing to copy');
  const sessionSealed = sealed(found[2 * warmedAt]);
  const userSealed = sealed(found[2 * warmedAt + 1]);
  const sessionText = JSON.parse(plain(keys.session(template), found[2 * warmedAt])!) as Record<
    string,
    unknown
  >;
  const userText = JSON.parse(plain(keys.user(template), found[2 * warmedAt + 1])!) as Record<
    string,
    unknown
  >;
  const tagMembers = await redis.smembers(keys.tagSet(template));
  const swap = (text: string, s: SeededSession) => text.replaceAll(template.userId, s.userId);
  const entriesOf = (s: SeededSession) => {
    const i = indexOf.get(s.userId)!;
    return {
      session: JSON.stringify({ ...sessionText, id: s.sessionId, userId: s.userId }),
      user: JSON.stringify({
        ...userText,
        id: s.userId,
        email: `curve.${i + 1}@example.test`,
        name: `Curve ${i + 1}`,
      }),
      tagMembers: tagMembers.map((m) => swap(m, s)),
    };
  };

  let checked = 0;
  for (const [i, s] of probe.entries()) {
    const [session, user] = [plain(keys.session(s), found[2 * i]), plain(keys.user(s), found[2 * i + 1])];
    if (!session || !user) continue;
    const mine = entriesOf(s);
    if (mine.session !== session || mine.user !== user)
      throw new Error(`seeded text differs from the service's for session ${s.sessionId}:
  service: ${session} ${user}
  seeded:  ${mine.session} ${mine.user}`);
    checked++;
  }

  let written = 0;
  for (let start = 0; start < sessions.length; start += SEED_BATCH) {
    const pipeline = redis.pipeline();
    for (const s of sessions.slice(start, start + SEED_BATCH)) {
      const mine = entriesOf(s);
      // NX: an entry the service wrote (its warmer) stays as it is.
      const [sessionKey, userKey] = [keys.session(s), keys.user(s)];
      const session = sessionSealed ? cipher.seal(sessionKey, mine.session) : mine.session;
      const user = userSealed ? cipher.seal(userKey, mine.user) : mine.user;
      pipeline.set(sessionKey, session, 'PX', ttlMs.session, 'NX');
      pipeline.set(userKey, user, 'PX', ttlMs.user, 'NX');
      if (mine.tagMembers.length) {
        pipeline.sadd(keys.tagSet(s), ...mine.tagMembers);
        pipeline.pexpire(keys.tagSet(s), ttlMs.user, 'GT');
        pipeline.pexpire(keys.tagSet(s), ttlMs.user, 'NX');
      }
    }
    const results = (await pipeline.exec()) ?? [];
    written += results.filter(([error, reply]) => !error && reply === 'OK').length;
  }
  return { checked, written };
}
