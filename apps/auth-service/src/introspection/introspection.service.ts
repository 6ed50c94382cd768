import { Injectable } from '@nestjs/common';
import { AccessTokenValidator } from '../access/access-token.validator';
import type { AccessTokenClaims } from '../tokens/access-token.service';

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
    };

@Injectable()
export class IntrospectionService {
  constructor(private readonly validator: AccessTokenValidator) {}

  /** RFC 7662: anything but a valid, unrevoked access token is simply `{active:false}`. */
  async introspect(token: string): Promise<IntrospectionResponse> {
    const valid = await this.validator.validate(token);
    return valid ? activeAnswer(valid.claims) : { active: false };
  }
}

export function activeAnswer(claims: AccessTokenClaims): IntrospectionResponse {
  const { sub, sid, exp, iat, iss, aud, roles, jti } = claims;
  return { active: true, sub, sid, exp, iat, iss, aud, token_type: 'Bearer', roles, jti };
}
