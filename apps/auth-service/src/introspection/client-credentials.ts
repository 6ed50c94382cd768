import { Inject, Injectable } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { secretDigest } from '../crypto/secret-tokens';

/** HTTP Basic client authentication (RFC 7662 §2.1) against INTROSPECTION_CLIENTS, in constant time. */
@Injectable()
export class ClientCredentials {
  /** Each client's secret as its SHA-256, computed once: a request hashes only what it presents. */
  private readonly secretDigests: ReadonlyMap<string, Buffer>;
  private readonly unknownClientDigest = secretDigest('\0no-such-client');

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.secretDigests = new Map(
      [...config.introspectionClients].map(([id, secret]) => [id, secretDigest(secret)]),
    );
  }

  /** The id of the client an Authorization header authenticates; undefined when it does not. */
  authenticate(header: string | undefined): string | undefined {
    const credentials = parseBasic(header);
    // Compare against something even for an unknown id, so timing does not reveal which ids exist;
    // equal-length digests make the comparison independent of the secrets' lengths.
    const expected = credentials ? this.secretDigests.get(credentials.id) : undefined;
    const presented = secretDigest(credentials?.secret ?? '');
    const ok = timingSafeEqual(presented, expected ?? this.unknownClientDigest) && expected !== undefined;
    return ok ? credentials!.id : undefined;
  }
}

function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const encoded = header ? /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim())?.[1] : undefined;
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i <= 0) return undefined;
  // RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding.
  try {
    return { id: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
  } catch {
    return undefined;
  }
}
