// Entry point of src/3-geo: open a database from its configuration, and cache lookups.

import { LRUCache } from 'lru-cache';
import { GeoipLiteDatabase } from './geoip-lite.ts';
import { MmdbDatabase, openMmdb } from './mmdb.ts';
import type { GeoDatabase, GeoLocation, SharedGeo } from './types.ts';

export type { GeoDatabase, GeoLocation, GeoPoint, SharedGeo } from './types.ts';
export { continentOf } from './continents.ts';
export { GEOIP_LITE_V6_PREFIX, GeoipLiteDatabase } from './geoip-lite.ts';
export { MmdbDatabase, openMmdb } from './mmdb.ts';

export type GeoSpec = { readonly type: 'geoip-lite' } | { readonly type: 'mmdb'; readonly path: string };

/**
 * Opens the configured database and resolves once it answers: an .mmdb file read and checked,
 * geoip-lite's data loaded (in slices, without blocking the event loop for more than a few ms at
 * a time). Rejects with ERR_CONFIG naming the file that is missing or invalid.
 */
export async function openGeoDatabase(spec: GeoSpec): Promise<GeoDatabase> {
  if (spec.type === 'mmdb') return openMmdb(spec.path);
  const db = new GeoipLiteDatabase();
  await db.load();
  return db;
}

/** The database another thread opened (its `shared()`), over the same memory: nothing is read or copied. */
export function openSharedGeo(s: SharedGeo): GeoDatabase {
  if (s.type === 'mmdb') {
    const bytes = Buffer.from(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
    return new MmdbDatabase(s.path, bytes);
  }
  return GeoipLiteDatabase.fromShared(s);
}

// LRUCache cannot hold null, and "not in the database" is worth remembering too.
const NOT_FOUND = Symbol('not found');

/**
 * `db` with its last `max` answers remembered by address text. Answers are shared between
 * callers, which the readonly GeoLocation type already forbids them to modify. Each call makes
 * a new cache, so a reloaded database starts empty. `db` should answer already (as
 * openGeoDatabase gives it): a GeoipLiteDatabase still loading answers null, which would be kept.
 */
export function cachedGeo(db: GeoDatabase, max = 10_000): GeoDatabase {
  const cache = new LRUCache<string, GeoLocation | typeof NOT_FOUND>({ max });
  return {
    description: db.description,
    lookup(address: string): GeoLocation | null {
      let hit = cache.get(address);
      if (hit === undefined) {
        hit = db.lookup(address) ?? NOT_FOUND;
        cache.set(address, hit);
      }
      return hit === NOT_FOUND ? null : hit;
    },
  };
}
