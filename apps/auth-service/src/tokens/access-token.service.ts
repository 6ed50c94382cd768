import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, JWTPayload, jwtVerify, SignJWT } from 'jose';
import { APP_CONFIG, AppConfig } from '../config/app-config';
import { CLOCK_SKEW_SECONDS, SigningKeysService } from './signing-keys.service';
import { VerifiedTokenCache } from './verified-token-cache';

export interface AccessTokenClaims {
  sub: string;
  sid: string;
  roles: string[];
  iat: number;
  exp: number;
  jti: string;
  iss: string;
  aud: string;
  /**
   * How the session was authenticated (RFC 8176) and when (seconds). Absent only in tokens issued
   * before these claims existed: such a token stays valid until it expires (15 min at most).
   */
  amr?: string[];
  auth_time?: number;
}

export interface AccessTokenSubject {
  userId: string;
  sessionId: string;
  roles: string[];
  amr: string[];
  /** Seconds since the epoch. */
  authTime: number;
}

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
}

const VERIFIED_TOKENS_MAX = 10_000;

/** Signs and verifies access tokens (JWT, `typ` at+jwt). Verification alone knows nothing of revocation. */
@Injectable()
export class AccessTokenService {
  private readonly verified = new VerifiedTokenCache(VERIFIED_TOKENS_MAX, CLOCK_SKEW_SECONDS);

  constructor(
    private readonly keys: SigningKeysService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    keys.onKeysWithdrawn(() => this.verified.clear());
  }

  async issue(subject: AccessTokenSubject): Promise<IssuedAccessToken> {
    const { kid, alg, privateKey } = this.keys.signingKey();
    const ttl = this.config.jwt.accessTtl;
    const token = await new SignJWT({
      sid: subject.sessionId,
      roles: subject.roles,
      amr: subject.amr,
      auth_time: subject.authTime,
    })
      .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
      .setIssuer(this.config.jwt.issuer)
      .setAudience(this.config.jwt.audience)
      .setSubject(subject.userId)
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .setJti(randomUUID())
      .sign(privateKey);
    return { token, expiresIn: ttl };
  }

  /** The claims of a well-formed, correctly signed, unexpired token; undefined for anything else. */
  async verify(token: string): Promise<AccessTokenClaims | undefined> {
    const remembered = this.verifiedBefore(token);
    if (remembered) return remembered;
    const claims = await this.verifySignatureAndClaims(token);
    if (claims) this.verified.set(token, claims);
    return claims;
  }

  /** The claims of a token that verified before and has not expired since; undefined otherwise. */
  verifiedBefore(token: string): AccessTokenClaims | undefined {
    return this.verified.get(token);
  }

  private async verifySignatureAndClaims(token: string): Promise<AccessTokenClaims | undefined> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    const key = await this.keys.verificationKey(kid);
    if (!key) return undefined;
    try {
      const { payload } = await jwtVerify(token, key.key, {
        algorithms: [key.alg],
        issuer: this.config.jwt.issuer,
        audience: this.config.jwt.audience,
        typ: 'at+jwt',
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ['sub', 'sid', 'exp', 'iat', 'jti'],
      });
      return toClaims(payload);
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
  }
}

function toClaims(payload: JWTPayload): AccessTokenClaims | undefined {
  const { sub, sid, roles, iat, exp, jti, iss, aud, amr, auth_time } = payload as JWTPayload & {
    sid?: unknown;
    roles?: unknown;
    amr?: unknown;
    auth_time?: unknown;
  };
  // jwtVerify checked that the audience is ours; with several, the first is the one reported.
  const audience = Array.isArray(aud) ? aud[0] : aud;
  if (typeof sid !== 'string' || !Array.isArray(roles) || !roles.every((r) => typeof r === 'string'))
    return undefined;
  if (typeof audience !== 'string') return undefined;
  if (amr !== undefined && !(Array.isArray(amr) && amr.every((m) => typeof m === 'string'))) return undefined;
  if (auth_time !== undefined && !Number.isSafeInteger(auth_time)) return undefined;
  return {
    sub: sub as string,
    sid,
    roles,
    iat: iat as number,
    exp: exp as number,
    jti: jti as string,
    iss: iss as string,
    aud: audience,
    ...(amr !== undefined ? { amr } : {}),
    ...(auth_time !== undefined ? { auth_time: auth_time as number } : {}),
  };
}
