import { OVER_LIMIT_FRESH_MS, OverLimitMemo } from './over-limit-memo';

describe('OverLimitMemo', () => {
  const reader = (answers: Array<number | Error>) => {
    let calls = 0;
    const read = () => {
      const answer = answers[Math.min(calls++, answers.length - 1)]!;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    };
    return { read, calls: () => calls };
  };

  it('asks once for concurrent requests of a key, then answers from memory', async () => {
    const memo = new OverLimitMemo();
    const { read, calls } = reader([0]);
    expect(memo.known('introspect_ip', '1.2.3.4')).toBeUndefined();
    const answers = await Promise.all([1, 2, 3].map(() => memo.get('introspect_ip', '1.2.3.4', read)));
    expect(answers).toEqual([0, 0, 0]);
    expect(await memo.get('introspect_ip', '1.2.3.4', read)).toBe(0);
    expect(memo.known('introspect_ip', '1.2.3.4')).toBe(0);
    expect(calls()).toBe(1);
    // Another key, or the same key of another limit, is asked for.
    await memo.get('introspect_ip', '5.6.7.8', read);
    await memo.get('login_ip', '1.2.3.4', read);
    expect(calls()).toBe(3);
  });

  it('forgets an answer after the freshness window', async () => {
    const memo = new OverLimitMemo();
    const { read, calls } = reader([0, 42]);
    await memo.get('introspect_ip', 'k', read);
    await new Promise((r) => setTimeout(r, OVER_LIMIT_FRESH_MS + 50));
    expect(memo.known('introspect_ip', 'k')).toBeUndefined();
    expect(await memo.get('introspect_ip', 'k', read)).toBe(42);
    expect(calls()).toBe(2);
  });

  it('does not remember a failed read', async () => {
    const memo = new OverLimitMemo();
    const { read, calls } = reader([new Error('redis down'), 0]);
    await expect(memo.get('introspect_ip', 'k', read)).rejects.toThrow('redis down');
    expect(memo.known('introspect_ip', 'k')).toBeUndefined();
    expect(await memo.get('introspect_ip', 'k', read)).toBe(0);
    expect(calls()).toBe(2);
  });

  it("takes a counted request's answer at once", async () => {
    const memo = new OverLimitMemo();
    const { read, calls } = reader([0]);
    await memo.get('introspect_ip', 'k', read);
    memo.set('introspect_ip', 'k', 1_000_000);
    expect(await memo.get('introspect_ip', 'k', read)).toBe(1_000_000);
    expect(calls()).toBe(1);
  });
});
