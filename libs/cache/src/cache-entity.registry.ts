import { Injectable } from '@nestjs/common';
import type { CacheEntity, CacheEntityRegistration, Consistency } from './cache-entity';

/** A registered entity as the cache uses it. */
export interface RegisteredEntity {
  readonly name: string;
  readonly ttlSeconds: number;
  readonly consistency: Consistency;
  readonly encrypted: boolean;
}

/**
 * The entities the app registered (CacheModule.forFeature), each once. Every registration is made
 * while the app is created, so a duplicate stops the start; `verify` (at module init) refuses an
 * entity the cache's own options name but nobody registered, and encryption without a key.
 */
@Injectable()
export class CacheEntityRegistry {
  private readonly entities = new Map<string, RegisteredEntity>();

  register(registrations: readonly CacheEntityRegistration[]): void {
    for (const { entity, ttlSeconds, consistency, encrypted } of registrations) {
      if (this.entities.has(entity.name)) {
        throw new Error(`Cache entity "${entity.name}" is registered twice: register each entity once`);
      }
      if (!(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) {
        throw new Error(`Cache entity "${entity.name}": ttlSeconds must be a positive number`);
      }
      this.entities.set(entity.name, {
        name: entity.name,
        ttlSeconds,
        consistency,
        encrypted: encrypted ?? false,
      });
    }
  }

  /** How to cache `entity`; an entity nobody registered is a programming error, refused loudly. */
  settings(entity: CacheEntity<unknown>): RegisteredEntity {
    const found = this.entities.get(entity.name);
    if (!found) throw unknownEntity(entity.name);
    return found;
  }

  /**
   * Start-up checks once every registration is in: the entities the options name (`required`)
   * are registered, and entities registered `encrypted` have a key to be sealed with.
   */
  verify(required: readonly CacheEntity<unknown>[], hasEncryptionKey: boolean): void {
    for (const entity of required) this.settings(entity);
    const sealed = [...this.entities.values()].filter((e) => e.encrypted).map((e) => e.name);
    if (sealed.length > 0 && !hasEncryptionKey) {
      throw new Error(
        `Cache entities ${sealed.join(', ')} are registered encrypted, but no encryptionKey is set`,
      );
    }
  }
}

function unknownEntity(name: string): Error {
  return new Error(`Unknown cache entity "${name}": register it with CacheModule.forFeature`);
}
