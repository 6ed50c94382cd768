import { bodyProblem, MAX_BODY_DEPTH } from './input-limits.hook';

describe('bodyProblem', () => {
  const nested = (depth: number) => {
    let value: unknown = 'leaf';
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
    return value;
  };

  it('accepts ordinary bodies, Unicode included', () => {
    expect(bodyProblem({ email: 'a@b.test', name: 'Zoë 👩‍👩‍👧 İ', n: 1, ok: true, x: null })).toBeUndefined();
    expect(bodyProblem(undefined)).toBeUndefined();
    expect(bodyProblem(nested(MAX_BODY_DEPTH))).toBeUndefined();
  });

  it.each([
    ['a NUL in a value', { name: 'a\u0000b' }, /NUL/],
    ['a NUL in a key', { 'a\u0000': 1 }, /NUL/],
    ['a lone high surrogate', { email: 'x\ud800@b.test' }, /surrogate/],
    ['a lone low surrogate', ['\udfff'], /surrogate/],
    ['too deep', nested(MAX_BODY_DEPTH + 1), /nested/],
  ])('refuses %s', (_case, body, problem) => {
    expect(bodyProblem(body)).toMatch(problem);
  });

  it('walks a very deep body without overflowing the stack', () => {
    expect(bodyProblem(nested(200_000))).toMatch(/nested/);
  });
});
