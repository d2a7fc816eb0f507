// The .mmdb adapter against databases the test writes itself (mmdb-writer.ts), read through the
// real `maxmind` package.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GslbError } from '../../src/0-base/errors.ts';
import { cachedGeo, openGeoDatabase } from '../../src/3-geo/index.ts';
import { openMmdb } from '../../src/3-geo/mmdb.ts';
import { runGeoConformance } from './conformance.ts';
import { double, writeMmdb, type MmdbValue } from './mmdb-writer.ts';

const city = (iso: string, continent: string | undefined, lat?: number, lon?: number): MmdbValue => ({
  ...(continent && { continent: { code: continent, geoname_id: 1, names: { en: continent } } }),
  country: { iso_code: iso, geoname_id: 2, names: { en: iso } },
  ...(lat !== undefined &&
    lon !== undefined && { location: { latitude: double(lat), longitude: double(lon), accuracy_radius: 50 } }),
});

const NETWORKS = [
  { network: '192.0.2.0/24', data: city('NL', 'EU', 52.3759, 4.8975) },
  { network: '198.51.100.0/25', data: city('US', 'NA') },
  // GeoLite2 gives some networks (anycast, satellite) only a registered country.
  {
    network: '203.0.113.0/24',
    data: { registered_country: { iso_code: 'JP', geoname_id: 3, names: { en: 'Japan' } } },
  },
  { network: '2001:db8::/32', data: city('DE', 'EU', 51, 9) },
  { network: '2001:db8:1::/48', data: city('FR', 'EU', 48.8582, 2.3387) },
];

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gslbd-geo-'));
  const v6 = writeMmdb(NETWORKS, { databaseType: 'GeoLite2-City' });
  await writeFile(file('city.mmdb'), v6);
  await writeFile(
    file('v4.mmdb'),
    writeMmdb(
      NETWORKS.filter((n) => !n.network.includes(':')),
      { ipVersion: 4 },
    ),
  );
  await writeFile(file('garbage.mmdb'), Buffer.from('this is not a MaxMind database\n'.repeat(100)));
  // Search tree cut short; the metadata (the file's tail) still says how big it should be.
  await writeFile(file('truncated.mmdb'), v6.subarray(v6.indexOf('\xab\xcd\xefMaxMind.com', 0, 'latin1') - 40));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('mmdb adapter', () => {
  it('reads country, continent and coordinates of a City record, with its network prefix', async () => {
    const db = await openMmdb(file('city.mmdb'));
    expect(db.lookup('192.0.2.55')).toEqual({
      country: 'NL',
      continent: 'EU',
      point: { lat: 52.3759, lon: 4.8975 },
      prefix: 24,
    });
    expect(db.lookup('198.51.100.7')).toEqual({ country: 'US', continent: 'NA', prefix: 25 });
    expect(db.lookup('2001:db8:1:2::1')).toEqual({
      country: 'FR',
      continent: 'EU',
      point: { lat: 48.8582, lon: 2.3387 },
      prefix: 48,
    });
  });

  it('reports the depth of the tree, which a more specific network splits', async () => {
    // 2001:db8::/32 minus 2001:db8:1::/48: 2001:db8:2::1 lies in the remaining 2001:db8:2::/47.
    const db = await openMmdb(file('city.mmdb'));
    expect(db.lookup('2001:db8:2::1')).toEqual({
      country: 'DE',
      continent: 'EU',
      point: { lat: 51, lon: 9 },
      prefix: 47,
    });
  });

  it('falls back to the registered country and derives the continent from it', async () => {
    const db = await openMmdb(file('city.mmdb'));
    expect(db.lookup('203.0.113.9')).toEqual({ country: 'JP', continent: 'AS', prefix: 24 });
  });

  it('returns null where the database has no data', async () => {
    const db = await openMmdb(file('city.mmdb'));
    for (const address of ['198.51.100.200', '10.1.2.3', '127.0.0.1', '::1', '2001:db9::1']) {
      expect(db.lookup(address), address).toBeNull();
    }
  });

  it('answers IPv4 from an IPv4-only database and null for IPv6', async () => {
    const db = await openMmdb(file('v4.mmdb'));
    expect(db.lookup('192.0.2.1')).toEqual({
      country: 'NL',
      continent: 'EU',
      point: { lat: 52.3759, lon: 4.8975 },
      prefix: 24,
    });
    expect(db.lookup('::ffff:192.0.2.1')?.prefix).toBe(120);
    expect(db.lookup('2001:db8:1::1')).toBeNull();
  });

  it('names the file and the database type in its description', async () => {
    const db = await openGeoDatabase({ type: 'mmdb', path: file('city.mmdb') });
    expect(db.description).toBe(`mmdb ${file('city.mmdb')} (GeoLite2-City, built 2023-11-14)`);
  });
});

describe('mmdb open errors', () => {
  for (const [name, reason] of [
    ['missing.mmdb', /no such file/],
    ['garbage.mmdb', /not an \.mmdb file/],
    ['truncated.mmdb', /larger than the file/],
  ] as const) {
    it(`rejects ${name} with ERR_CONFIG naming the file and the reason`, async () => {
      const err = await openGeoDatabase({ type: 'mmdb', path: file(name) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GslbError);
      expect((err as GslbError).code).toBe('ERR_CONFIG');
      expect((err as GslbError).message).toContain(file(name));
      expect((err as GslbError).message).toMatch(reason);
    });
  }
});

const KNOWN = ['192.0.2.55', '198.51.100.7', '203.0.113.9', '2001:db8:1:2::1', '2001:db8:2::1', '2001:db8:ffff::1'];
runGeoConformance('mmdb (IPv6 tree)', () => openMmdb(file('city.mmdb')), KNOWN);
runGeoConformance(
  'mmdb (IPv4 tree)',
  () => openMmdb(file('v4.mmdb')),
  KNOWN.filter((a) => !a.includes(':')),
);
runGeoConformance('cachedGeo over mmdb', async () => cachedGeo(await openMmdb(file('city.mmdb'))), KNOWN);
