import { plainIntrospectToken, TOKEN_MAX_LENGTH } from './introspect-request';

describe('plainIntrospectToken', () => {
  it.each([
    [{ token: 'abc' }, 'abc'],
    [{ token: 'abc', token_type_hint: 'access_token' }, 'abc'],
    [{ token_type_hint: 'refresh_token', token: 'abc' }, 'abc'],
    [{ token: 'x'.repeat(TOKEN_MAX_LENGTH) }, 'x'.repeat(TOKEN_MAX_LENGTH)],
  ])('takes %j', (body, token) => expect(plainIntrospectToken(body)).toBe(token));

  it.each([
    ['no body', undefined],
    ['null', null],
    ['a string', 'token=abc'],
    ['an array', [{ token: 'abc' }]],
    ['no token', {}],
    ['an empty token', { token: '' }],
    ['a token too long', { token: 'x'.repeat(TOKEN_MAX_LENGTH + 1) }],
    ['a token that is not a string', { token: 42 }],
    ['an unknown hint', { token: 'abc', token_type_hint: 'id_token' }],
    ['an extra field', { token: 'abc', extra: 1 }],
    ['a prototype key', JSON.parse('{"token":"abc","__proto__":{"x":1}}')],
  ])('leaves %s to the validation pipe', (_case, body) => expect(plainIntrospectToken(body)).toBeUndefined());
});
