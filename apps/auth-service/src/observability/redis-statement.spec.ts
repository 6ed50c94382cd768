import { redisStatement } from './redis-statement';

describe('redisStatement (a Redis span’s db.query.text)', () => {
  it('keeps the command and its key, counts the rest', () => {
    expect(redisStatement('set', ['auth:user:1', '{"secret":1}', 'PX', 900])).toBe(
      'SET auth:user:1 [3 more arguments]',
    );
    expect(redisStatement('get', ['auth:user:1'])).toBe('GET auth:user:1');
    expect(redisStatement('multi', [])).toBe('MULTI');
    expect(redisStatement('get', [Buffer.from('auth:k')])).toBe('GET auth:k');
  });

  it('never shows the first argument of a script, a password or a subcommand', () => {
    expect(redisStatement('evalsha', ['abc123', 1, 'key', 'value'])).toBe('EVALSHA [4 arguments]');
    expect(redisStatement('auth', ['user', 'hunter2'])).toBe('AUTH [2 arguments]');
    expect(redisStatement('config', ['set', 'requirepass', 'x'])).toBe('CONFIG [3 arguments]');
  });
});
