import { beforeFirst } from './before-first';

describe('beforeFirst', () => {
  it.each([
    ['/api/v1/auth/me?x=1', '?', '/api/v1/auth/me'],
    ['/api/v1/auth/me', '?', '/api/v1/auth/me'],
    ['application/json; charset=utf-8', ';', 'application/json'],
    ['?only=query', '?', ''],
    ['', ';', ''],
    ['wrk 4.2.0 [epoll] Copyright', ' [', 'wrk 4.2.0'],
  ])('%j before %j is %j', (text, separator, expected) => {
    expect(beforeFirst(text, separator)).toBe(expected);
  });
});
