import { ApiError } from '../common/api-error';
import { PasswordPolicy } from './password-policy';

describe('PasswordPolicy', () => {
  const policy = new PasswordPolicy();

  it.each(['password', 'Password123', '12345678', 'qwertyuiop', 'iloveyou'])(
    'refuses the common password %s',
    (password) => {
      expect(() => policy.assertStrong(password)).toThrow(ApiError);
      try {
        policy.assertStrong(password);
      } catch (error) {
        expect((error as ApiError).code).toBe('weak_password');
      }
    },
  );

  it('refuses the local part of the email as the password', () => {
    expect(() => policy.assertStrong('ada.lovelace', { email: 'ada.lovelace@example.com' })).toThrow(
      ApiError,
    );
  });

  it('accepts an uncommon passphrase', () => {
    expect(() => policy.assertStrong('correct horse battery staple 42')).not.toThrow();
  });
});
