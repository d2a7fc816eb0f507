// The client a pool decision is about: the ECS subnet when the query has one, else the source
// address. Over loopback the end-to-end tests can only send from 127.0.0.1 (no location), so the
// source-address path with a located address is shown here, with a database that records lookups.

import { describe, expect, it } from 'vitest';
import { makeClient } from '../../src/4-gslb/client.ts';
import type { GeoDatabase, GeoLocation } from '../../src/3-geo/types.ts';
import { clientSubnet } from '../helpers/pool-queries.ts';

function recordingDb(): GeoDatabase & { asked: string[] } {
  const asked: string[] = [];
  return {
    description: 'test',
    asked,
    lookup(address: string): GeoLocation | null {
      asked.push(address);
      return { country: 'NL', continent: 'EU', point: { lat: 52.37, lon: 4.9 }, prefix: 20 };
    },
  };
}

describe('makeClient', () => {
  it('without ECS is the source address, all 32 bits known, located once on first use', () => {
    const db = recordingDb();
    const c = makeClient('198.51.100.7', null, db);
    expect([c.address, c.family, c.prefix]).toEqual(['198.51.100.7', 4, 32]);
    expect(db.asked).toEqual([]);
    expect(c.location()?.country).toBe('NL');
    c.location();
    expect(db.asked).toEqual(['198.51.100.7']);
  });

  it('reads an IPv4-mapped IPv6 source (a dual-stack socket) as the IPv4 address', () => {
    const db = recordingDb();
    const c = makeClient('::ffff:198.51.100.7', null, db);
    expect([c.address, c.family, c.prefix]).toEqual(['198.51.100.7', 4, 32]);
    c.location();
    expect(db.asked).toEqual(['198.51.100.7']);
  });

  it('with ECS is the subnet, not the source: its address and source prefix', () => {
    const db = recordingDb();
    const v4 = makeClient('127.0.0.1', clientSubnet('203.0.113.0/24'), db);
    expect([v4.address, v4.family, v4.prefix]).toEqual(['203.0.113.0', 4, 24]);
    const v6 = makeClient('127.0.0.1', clientSubnet('2001:db8:aa:bb00::/56'), db);
    expect([v6.address, v6.family, v6.prefix]).toEqual(['2001:db8:aa:bb00::', 6, 56]);
    v4.location();
    v6.location();
    expect(db.asked).toEqual(['203.0.113.0', '2001:db8:aa:bb00::']);
  });

  it('does not look up an ECS source prefix of 0 (RFC 7871 §7.1.2: the client asked not to be located)', () => {
    const db = recordingDb();
    const c = makeClient('198.51.100.7', clientSubnet('0.0.0.0/0'), db);
    expect(c.location()).toBeNull();
    expect(db.asked).toEqual([]);
  });

  it('has no location without a database', () => {
    expect(makeClient('198.51.100.7', null, null).location()).toBeNull();
  });
});
