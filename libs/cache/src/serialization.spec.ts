import { deserialize, serialize } from './serialization';

describe('serialization', () => {
  it('round-trips Dates at any depth and leaves everything else alone', () => {
    const value = {
      at: new Date('2026-01-02T03:04:05.678Z'),
      nested: { list: [new Date(0), { when: new Date(1) }], text: 'x', n: 1, none: null },
      flag: true,
    };
    const back = deserialize<typeof value>(serialize(value));
    expect(back).toEqual(value);
    expect(back.at).toBeInstanceOf(Date);
    expect(back.nested.list[0]).toBeInstanceOf(Date);
  });

  it('does not mistake an ordinary object for a Date', () => {
    expect(deserialize(serialize({ $date: 5, other: 1 }))).toEqual({ $date: 5, other: 1 });
    expect(deserialize('"plain"')).toBe('plain');
  });
});
