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
});
