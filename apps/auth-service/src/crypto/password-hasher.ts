import { Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import * as argon2 from 'argon2';
import pLimit, { LimitFunction } from 'p-limit';
import { APP_CONFIG, AppConfig, defaultHashConcurrency } from '../config/app-config';
import { traced } from '../observability/spans';

/**
 * argon2id at OWASP's minimum (19 MiB, t=2, p=1). The `argon2` binding hashes on libuv's thread
 * pool, so the event loop keeps serving other requests while a hash runs.
 */
const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/**
 * At most PASSWORD_HASH_CONCURRENCY hashes run at once (default: one core fewer than the machine
 * has): a burst of logins queues here instead of taking every core from the requests that need
 * none (bench/RESULTS.md measures /auth/me latency under a login flood).
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when the email is unknown, so both paths cost one argon2 verification. */
  private dummyHash!: string;
  private readonly limit: LimitFunction;

  constructor(@Optional() @Inject(APP_CONFIG) config?: AppConfig) {
    this.limit = pLimit(config?.passwordHashConcurrency ?? defaultHashConcurrency());
  }

  async onModuleInit(): Promise<void> {
    this.dummyHash = await this.hash('not-a-real-password-only-for-equal-timing');
  }

  hash(password: string): Promise<string> {
    return traced('argon2.hash', () => this.limit(() => argon2.hash(password, ARGON2_OPTIONS)));
  }

  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    try {
      // One span name for both paths: a trace must not tell an unknown email from a known one.
      if (!hash) {
        await traced('argon2.verify', () => this.limit(() => argon2.verify(this.dummyHash, password)));
        return false;
      }
      return await traced('argon2.verify', () => this.limit(() => argon2.verify(hash, password)));
    } catch {
      return false;
    }
  }
}
