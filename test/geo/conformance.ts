// What every GeoDatabase must do (src/3-geo/types.ts), run against each implementation:
// runGeoConformance(name, () => db, addressesItKnows).

import { beforeAll, describe, expect, it } from 'vitest';
import type { GeoDatabase } from '../../src/3-geo/types.ts';
import { parseIPv4 } from '../../src/0-base/address.ts';
import { blockEnds, inBlock, sampler } from './blocks.ts';

const CONTINENTS = ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA'];

export function runGeoConformance(
  name: string,
  make: () => GeoDatabase | Promise<GeoDatabase>,
  known: readonly string[],
): void {
  describe(`GeoDatabase conformance: ${name}`, () => {
    let db: GeoDatabase;
    beforeAll(async () => {
      db = await make();
    });

    it('returns null, without throwing, for text that is not an address', () => {
      for (const text of [
        '',
        'example.com',
        '1.2.3',
        '1.2.3.4.5',
        '01.2.3.4',
        '256.1.1.1',
        '::g',
        'fe80::1%eth0',
        ' 1.2.3.4',
      ]) {
        expect(db.lookup(text), text).toBeNull();
      }
    });

    it('gives an upper-case country, a continent code and a prefix within the family', () => {
      for (const address of known) {
        const loc = db.lookup(address);
        expect(loc, address).not.toBeNull();
        if (loc?.country !== undefined) expect(loc.country).toMatch(/^[A-Z]{2}$/);
        if (loc?.continent !== undefined) expect(CONTINENTS).toContain(loc.continent);
        expect(Number.isInteger(loc?.prefix)).toBe(true);
        expect(loc?.prefix).toBeGreaterThanOrEqual(0);
        expect(loc?.prefix).toBeLessThanOrEqual(address.includes(':') ? 128 : 32);
      }
    });

    it('gives every address of the reported prefix the same location', () => {
      // The ends, and addresses inside: ends alone miss a different range in the middle.
      const random = sampler(1);
      for (const address of known) {
        const loc = db.lookup(address)!;
        const inside = Array.from({ length: 8 }, () => inBlock(address, loc.prefix, random));
        for (const other of [...blockEnds(address, loc.prefix), ...inside]) {
          expect(db.lookup(other), `${other} in ${address}/${loc.prefix}`).toEqual(loc);
        }
      }
    });

    it('answers an IPv4-mapped IPv6 address as its IPv4 address, with the prefix in IPv6 bits', () => {
      for (const address of known.filter((a) => !a.includes(':'))) {
        const v4 = db.lookup(address)!;
        const expected = { ...v4, prefix: v4.prefix + 96 };
        expect(db.lookup(`::ffff:${address}`)).toEqual(expected);
        const hex = parseIPv4(address)!.toString('hex');
        expect(db.lookup(`::ffff:${hex.slice(0, 4)}:${hex.slice(4)}`)).toEqual(expected);
      }
    });
  });
}
