import { Injectable } from '@nestjs/common';
import { AccessTokenValidator } from '../access/access-token.validator';
import type { AccessTokenClaims } from '../tokens/access-token.service';
import type { PublicUser } from '../users/public-user';

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      sub: string;
      sid: string;
      exp: number;
      iat: number;
      iss: string;
      aud: string;
      token_type: 'Bearer';
      roles: string[];
      jti: string;
      amr?: string[];
      auth_time?: number;
    };

@Injectable()
export class IntrospectionService {
  constructor(private readonly validator: AccessTokenValidator) {}

  /**
   * RFC 7662: anything but a valid, unrevoked access token is simply `{active:false}`. `roles`
   * are the user's roles now (read with the session, one cache round trip), not the token's:
   * an operator's change shows at once.
   */
  async introspect(token: string): Promise<IntrospectionResponse> {
    const valid = await this.validator.validate(token, { withUser: true });
    return valid?.user ? activeAnswer(valid.claims, valid.user) : { active: false };
  }
}

export function activeAnswer(
  claims: AccessTokenClaims,
  user: Pick<PublicUser, 'roles'>,
): IntrospectionResponse {
  const { sub, sid, exp, iat, iss, aud, jti, amr, auth_time } = claims;
  // amr and auth_time are the session's (signed into the token from its row, kept across refreshes).
  return {
    active: true,
    sub,
    sid,
    exp,
    iat,
    iss,
    aud,
    token_type: 'Bearer',
    roles: user.roles,
    jti,
    ...(amr ? { amr } : {}),
    ...(auth_time !== undefined ? { auth_time } : {}),
  };
}
