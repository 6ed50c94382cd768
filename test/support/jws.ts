import { decodeJwt } from 'jose';

/** The three base64url parts of a compact JWS; fails the test when the token has another shape. */
export function jwsParts(token: string): { header: string; payload: string; signature: string } {
  const [header, payload, signature, ...rest] = token.split('.');
  if (header === undefined || payload === undefined || signature === undefined || rest.length > 0)
    throw new Error('not a compact JWS: expected three dot-separated parts');
  return { header, payload, signature };
}

/** A JSON part of a JWS (its header or payload), decoded from base64url. */
export function decodeJwsPart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** The session id (`sid` claim) an access token stands for. */
export function sidOf(accessToken: string): string {
  const { sid } = decodeJwt(accessToken);
  if (typeof sid !== 'string') throw new Error('the access token carries no sid claim');
  return sid;
}
