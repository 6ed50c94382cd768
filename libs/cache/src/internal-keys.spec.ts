import { CacheInternalKeys } from './internal-keys';

describe('CacheInternalKeys', () => {
  const keys = new CacheInternalKeys({ keyPrefix: 'auth', schemaVersion: 'v2' });

  it('puts the prefix and schema version in front of every key and channel', () => {
    expect(keys.writeBehindSet('activity')).toBe('auth:v2:wb:activity');
    expect(keys.invalidationChannel()).toBe('auth:v2:invalidate');
    expect(keys.acknowledgementChannel('i1')).toBe('auth:v2:invalidate:ack:i1');
  });

  it('hash-tags a tag set with its tag, so entries tagged alike can share its Redis Cluster slot', () => {
    expect(keys.tagSet('user:u1')).toBe('auth:v2:tag:{user:u1}');
  });

  it("keeps an entry's version key in the entry's Redis Cluster slot: the entry's hash tag, or the whole key as one", () => {
    expect(keys.version('auth:v2:{user:u1}:session:s1')).toBe('auth:v2:ver:auth:v2:{user:u1}:session:s1');
    expect(keys.version('auth:v2:email:ab12')).toBe('auth:v2:ver:{auth:v2:email:ab12}');
  });
});
