/**
 * Password/ACL user and TLS for the Redis topologies, as one object that knows how every party
 * applies them: the servers' config, redis-cli's flags and the ioredis clients' options.
 */
import type { RedisOptions } from 'ioredis';
import { generateTls, TlsMaterial } from './tls';

export interface RedisSecurityOptions {
  /** `requirepass`; with `username`, an ACL user instead and the default user switched off. */
  auth?: { username?: string; password: string };
  /** TLS only: the plain port is closed; clients, replication and the cluster bus all use TLS. */
  tls?: boolean;
}

export type RedisClientSecurity = Pick<RedisOptions, 'username' | 'password' | 'tls'>;

export class RedisSecurity {
  readonly auth?: { username?: string; password: string };
  readonly tls?: TlsMaterial;

  constructor(options: RedisSecurityOptions, dir: string) {
    this.auth = options.auth;
    this.tls = options.tls ? generateTls(dir) : undefined;
  }

  /** The lines that make a server (data node or sentinel) listen on `port`, and TLS's files. */
  listen(port: number): string[] {
    if (!this.tls) return [`port ${port}`];
    return [
      'port 0',
      `tls-port ${port}`,
      `tls-cert-file ${this.tls.certFile}`,
      `tls-key-file ${this.tls.keyFile}`,
      `tls-ca-cert-file ${this.tls.caFile}`,
      // Server-authenticated TLS with a password, as managed Redis offers it: no client certificate.
      'tls-auth-clients no',
      'tls-replication yes',
      'tls-cluster yes',
    ];
  }

  /** The lines a data node needs: who may connect, and how it authenticates to its master. */
  dataNodeAuth(): string[] {
    if (!this.auth) return [];
    const { username, password } = this.auth;
    if (!username) return [`requirepass ${password}`, `masterauth ${password}`];
    return [...aclUser(username, password), `masteruser ${username}`, `masterauth ${password}`];
  }

  /** The lines a sentinel needs: its own users, and how it authenticates to its peers. */
  sentinelAuth(): string[] {
    if (!this.auth) return [];
    const { username, password } = this.auth;
    if (!username) return [`requirepass ${password}`, `sentinel sentinel-pass ${password}`];
    return [
      ...aclUser(username, password),
      `sentinel sentinel-user ${username}`,
      `sentinel sentinel-pass ${password}`,
    ];
  }

  /** redis-cli's flags (the password goes through REDISCLI_AUTH: see `cliEnv`). */
  cliArgs(): string[] {
    const args = this.auth?.username ? ['--user', this.auth.username] : [];
    return this.tls ? [...args, '--tls', '--cacert', this.tls.caFile] : args;
  }

  cliEnv(): NodeJS.ProcessEnv {
    return this.auth ? { ...process.env, REDISCLI_AUTH: this.auth.password } : process.env;
  }

  /** ioredis options for a data node or a sentinel. */
  client(): RedisClientSecurity {
    return {
      ...(this.auth?.username ? { username: this.auth.username } : {}),
      ...(this.auth ? { password: this.auth.password } : {}),
      ...(this.tls ? { tls: { ca: this.tls.ca } } : {}),
    };
  }
}

function aclUser(username: string, password: string): string[] {
  return ['user default off', `user ${username} on >${password} ~* &* +@all`];
}
