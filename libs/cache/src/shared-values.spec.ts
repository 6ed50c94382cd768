import { serialize } from './serialization';
import { sharedJson, sharedValue } from './shared-values';

describe('shared cached values', () => {
  const text = serialize({ id: 'u1', roles: ['user'], createdAt: new Date('2026-01-02T03:04:05.000Z') });

  it('parses a text once: the same text gives the same object, Dates included', () => {
    const first = sharedValue<{ createdAt: Date }>(text);
    expect(sharedValue(text)).toBe(first);
    expect(first.createdAt).toBeInstanceOf(Date);
    expect(sharedValue(serialize({ id: 'u1', roles: ['user'] }))).not.toBe(first);
  });

  it('freezes the shared value deeply, so no reader can change it for the others', () => {
    const value = sharedValue<{ id: string; roles: string[] }>(text);
    expect(Object.isFrozen(value)).toBe(true);
    expect(Object.isFrozen(value.roles)).toBe(true);
    expect(() => value.roles.push('admin')).toThrow(TypeError);
    expect(() => ((value as { id: string }).id = 'u2')).toThrow(TypeError);
  });

  it('serializes like JSON.stringify, remembering the JSON of shared values only', () => {
    const value = sharedValue<object>(text);
    const expected = JSON.stringify(value);
    expect(sharedJson(value)).toBe(expected);
    expect(sharedJson(value)).toBe(expected);
    const plain = { a: 1 };
    expect(sharedJson(plain)).toBe('{"a":1}');
    plain.a = 2;
    expect(sharedJson(plain)).toBe('{"a":2}');
    expect(sharedJson('text')).toBe('"text"');
    expect(sharedJson(null)).toBe('null');
  });
});
