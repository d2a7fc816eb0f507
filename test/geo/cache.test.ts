import { describe, expect, it } from 'vitest';
import { cachedGeo } from '../../src/3-geo/index.ts';
import type { GeoDatabase, GeoLocation } from '../../src/3-geo/types.ts';

/** A database that knows 192.0.2.0/24 and counts how often it is asked. */
function counting(): GeoDatabase & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    description: 'counting test database',
    lookup(address: string): GeoLocation | null {
      calls.push(address);
      return address.startsWith('192.0.2.') ? { country: 'NL', continent: 'EU', prefix: 24 } : null;
    },
  };
}

describe('cachedGeo', () => {
  it('asks the database once per address, found or not', () => {
    const db = counting();
    const cached = cachedGeo(db);
    for (let i = 0; i < 3; i++) {
      expect(cached.lookup('192.0.2.1')).toEqual({ country: 'NL', continent: 'EU', prefix: 24 });
      expect(cached.lookup('10.0.0.1')).toBeNull();
    }
    expect(db.calls).toEqual(['192.0.2.1', '10.0.0.1']);
  });

  it('forgets the least recently used address beyond its size', () => {
    const db = counting();
    const cached = cachedGeo(db, 2);
    for (const a of ['192.0.2.1', '192.0.2.2', '192.0.2.1', '192.0.2.3', '192.0.2.2']) cached.lookup(a);
    // .2 was the least recently used when .3 arrived, so it is asked for again.
    expect(db.calls).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.2']);
  });

  it('keeps the description of the database it wraps', () => {
    expect(cachedGeo(counting()).description).toBe('counting test database');
  });
});
