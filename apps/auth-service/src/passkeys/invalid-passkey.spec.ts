import { challengeOf, invalidPasskey } from './invalid-passkey';

const clientData = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('challengeOf', () => {
  it('reads the challenge of a WebAuthn answer’s clientDataJSON', () => {
    expect(challengeOf({ response: { clientDataJSON: clientData({ challenge: 'abc_-1' }) } })).toBe('abc_-1');
  });

  it.each([
    ['no response', {}],
    ['a null answer', null],
    ['clientDataJSON not a string', { response: { clientDataJSON: 5 } }],
    ['clientDataJSON not JSON', { response: { clientDataJSON: Buffer.from('{no').toString('base64url') } }],
    ['JSON null', { response: { clientDataJSON: clientData(null) } }],
    ['no challenge', { response: { clientDataJSON: clientData({ type: 'webauthn.create' }) } }],
    ['an empty challenge', { response: { clientDataJSON: clientData({ challenge: '' }) } }],
    ['a challenge not a string', { response: { clientDataJSON: clientData({ challenge: ['x'] }) } }],
    ['an oversized clientDataJSON', { response: { clientDataJSON: 'A'.repeat(5000) } }],
  ])('answers null for %s', (_name, answer) => {
    expect(challengeOf(answer)).toBeNull();
  });
});

describe('invalidPasskey', () => {
  it('is 400 at registration and 401 at sign-in, with the same code', () => {
    expect(invalidPasskey('registration').getStatus()).toBe(400);
    expect(invalidPasskey('authentication').getStatus()).toBe(401);
    expect([invalidPasskey('registration').code, invalidPasskey('authentication').code]).toEqual([
      'invalid_passkey',
      'invalid_passkey',
    ]);
  });
});
