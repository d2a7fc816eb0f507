// geoip-lite's data format as the adapter reads it, on small data directories the test writes:
// merging, gaps, private ranges, overlapping IPv6 records, the country-file fallback, and files
// that are not valid. Where geoip-lite could read the same files, it is asked too.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GslbError } from '../../src/0-base/errors.ts';
import { GeoipLiteDatabase } from '../../src/3-geo/geoip-lite.ts';
import { parseIPv4, parseIPv6 } from '../../src/0-base/address.ts';
import { answerOf, geoipIn, v4Text } from './geoip-lite-oracle.ts';

const root = mkdtempSync(path.join(tmpdir(), 'gslbd-geoip-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const NONE = 0xffffffff;
type Files = Record<string, Buffer>;

/** A data directory holding `files`; a new one per call. */
let dirs = 0;
function dataDir(files: Files): string {
  const dir = path.join(root, String(dirs++));
  mkdirSync(dir);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes);
  return dir;
}

/** geoip-city-names.dat: one 88-byte location per country code ('' for none). */
function names(codes: string[]): Buffer {
  const b = Buffer.alloc(88 * codes.length);
  codes.forEach((code, i) => b.write(code, i * 88, 'latin1'));
  return b;
}

const v4 = (a: string) => parseIPv4(a)!.readUInt32BE(0);
const v6 = (a: string) => parseIPv6(a)!;

/** geoip-city.dat / geoip-city6.dat: [first, last, location id, lat, lon] with degrees as given. */
function city(rows: [string, string, number, number, number][]): Buffer {
  const six = rows[0]![0].includes(':');
  const size = six ? 48 : 24;
  const b = Buffer.alloc(size * rows.length);
  rows.forEach(([first, last, location, lat, lon], i) => {
    let at = i * size;
    if (six) {
      v6(first).copy(b, at);
      v6(last).copy(b, at + 16);
      at += 32;
    } else {
      b.writeUInt32BE(v4(first), at);
      b.writeUInt32BE(v4(last), at + 4);
      at += 8;
    }
    b.writeUInt32BE(location, at);
    b.writeInt32BE(Math.round(lat * 10000), at + 4);
    b.writeInt32BE(Math.round(lon * 10000), at + 8);
  });
  return b;
}

/** geoip-country.dat / geoip-country6.dat: [first, last, country]. */
function country(rows: [string, string, string][]): Buffer {
  const six = rows[0]![0].includes(':');
  const size = six ? 34 : 10;
  const b = Buffer.alloc(size * rows.length);
  rows.forEach(([first, last, code], i) => {
    const at = i * size;
    if (six) {
      v6(first).copy(b, at);
      v6(last).copy(b, at + 16);
    } else {
      b.writeUInt32BE(v4(first), at);
      b.writeUInt32BE(v4(last), at + 4);
    }
    b.write(code, at + size - 2, 'latin1');
  });
  return b;
}

const COUNTRY = {
  'geoip-country.dat': country([['1.0.0.0', '1.0.0.255', 'AU']]),
  'geoip-country6.dat': country([['2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'NL']]),
};
const CITY6 = city([['2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 1, 52.37, 4.89]]);

/** The adapter on `dir`, loaded. */
async function loaded(dir: string): Promise<GeoipLiteDatabase> {
  const db = new GeoipLiteDatabase({ dataDir: dir });
  await db.load();
  return db;
}

/** Adapter answers without continent, and geoip-lite's, for the same addresses. */
async function bothAnswers(dir: string, addresses: string[]): Promise<{ ours: unknown[]; geoipLite: unknown[] }> {
  const db = await loaded(dir);
  return {
    ours: addresses.map((a) => {
      const loc = db.lookup(a);
      return loc && { ...(loc.country && { country: loc.country }), ...(loc.point && { point: loc.point }) };
    }),
    geoipLite: geoipIn(dir, addresses).map(answerOf),
  };
}

describe('geoip-lite data files', () => {
  it("answers the location's country and the range's coordinates, as geoip-lite does", async () => {
    const dir = dataDir({
      'geoip-city-names.dat': names(['AU', 'NL', '']),
      'geoip-city.dat': city([
        ['1.0.0.0', '1.0.0.255', 0, -33.494, 143.2104],
        ['1.0.1.0', '1.0.1.255', 1, 0, 0], // coordinates unknown: country only
        ['1.0.2.0', '1.0.2.255', 2, 47, 8], // a point and no country
        ['1.0.3.0', '1.0.3.255', NONE, 10, 10], // no location: nothing
        ['1.0.4.0', '1.0.4.255', 2, 0, 0], // neither: nothing
      ]),
      'geoip-city6.dat': CITY6,
      ...COUNTRY,
    });
    const addresses = [
      '1.0.0.7',
      '1.0.1.7',
      '1.0.2.7',
      '1.0.3.7',
      '1.0.4.7',
      '1.0.5.7',
      '0.255.255.255',
      '2001:db8::1',
      '2001:db9::1',
    ];
    const { ours, geoipLite } = await bothAnswers(dir, addresses);
    expect(ours).toEqual(geoipLite);
    expect(ours.slice(0, 3)).toEqual([
      { country: 'AU', point: { lat: -33.494, lon: 143.2104 } },
      { country: 'NL' },
      { point: { lat: 47, lon: 8 } },
    ]);
  });

  it('gives contiguous ranges with the same answer one prefix, and stops it at a different answer or a gap', async () => {
    const dir = dataDir({
      'geoip-city-names.dat': names(['AU', 'NL']),
      'geoip-city.dat': city([
        ['1.0.0.0', '1.0.0.127', 0, 1, 2],
        ['1.0.0.128', '1.0.0.255', 0, 1, 2], // same answer: 1.0.0.0/24
        ['1.0.1.0', '1.0.1.255', 0, 1, 3], // other coordinates
        ['1.0.2.0', '1.0.2.255', 1, 1, 2], // other country
        ['1.0.4.0', '1.0.4.255', 1, 1, 2], // after a gap
      ]),
      ...COUNTRY,
    });
    const db = await loaded(dir);
    expect(
      ['1.0.0.1', '1.0.0.200', '1.0.1.1', '1.0.2.1', '1.0.3.1', '1.0.4.1'].map((a) => db.lookup(a)?.prefix ?? null),
    ).toEqual([24, 24, 24, 24, null, 24]);
  });

  it('answers nothing in 10/8, 172.16/12 and 192.168/16 even when a range covers them, as geoip-lite does', async () => {
    const dir = dataDir({
      'geoip-city-names.dat': names(['US']),
      'geoip-city.dat': city([
        ['8.0.0.0', '11.255.255.255', 0, 38, -97],
        ['172.0.0.0', '192.168.255.255', 0, 38, -97],
      ]),
      ...COUNTRY,
    });
    const addresses = [
      '9.1.2.3',
      '10.1.2.3',
      '11.1.2.3',
      '172.15.1.1',
      '172.16.1.1',
      '172.31.255.255',
      '172.32.0.0',
      '192.168.1.1',
      '192.167.1.1',
    ];
    const { ours, geoipLite } = await bothAnswers(dir, addresses);
    expect(ours).toEqual(geoipLite);
    expect(ours.map((a) => a !== null)).toEqual([true, false, true, true, false, false, true, false, true]);
    const db = await loaded(dir);
    // 8.0.0.0-9.255.255.255 is one /7; 11/8 is one /8: neither crosses into 10/8.
    expect(['9.1.2.3', '11.1.2.3', '172.15.1.1'].map((a) => db.lookup(a)?.prefix)).toEqual([7, 8, 12]);
  });

  it("answers a /64 that several IPv6 records split with the record geoip-lite's search finds", async () => {
    // Only the top 64 bits count, so 2001:db8:0:1::/64 is in all of the first three records.
    const rows: [string, string, number, number, number][] = [
      ['2001:db8::', '2001:db8:0:1:3fff:ffff:ffff:ffff', 0, 1, 1],
      ['2001:db8:0:1:4000::', '2001:db8:0:1:7fff:ffff:ffff:ffff', 0, 2, 2],
      ['2001:db8:0:1:8000::', '2001:db8:0:2:ffff:ffff:ffff:ffff', 0, 3, 3],
      ['2001:db8:0:3::', '2001:db8:0:3::ff', 0, 4, 4],
      ['2001:db8:0:3::100', '2001:db8:0:3:ffff:ffff:ffff:ffff', 0, 5, 5],
      // Out of order, as 151 records of geoip-lite 2.0.3's own file are.
      ['2001:db8:0:2::', '2001:db8:0:2::ffff', 0, 6, 6],
      ['2001:db8:0:5::', '2001:db8:0:5:ffff:ffff:ffff:ffff', 0, 7, 7],
    ];
    const dir = dataDir({
      'geoip-city-names.dat': names(['DE']),
      'geoip-city.dat': city([['1.0.0.0', '1.0.0.255', 0, 1, 1]]),
      'geoip-city6.dat': city(rows),
      ...COUNTRY,
    });
    const addresses = [
      '2001:db8::1',
      '2001:db8:0:1::1',
      '2001:db8:0:1:ffff::',
      '2001:db8:0:2::1',
      '2001:db8:0:3::1',
      '2001:db8:0:4::1',
      '2001:db8:0:5::1',
      '2001:db8:0:6::1',
      '2001:db7::1',
    ];
    const { ours, geoipLite } = await bothAnswers(dir, addresses);
    expect(ours).toEqual(geoipLite);
  });

  it('falls back to the country files when the city files are missing or empty, as geoip-lite does', async () => {
    for (const files of [
      { ...COUNTRY },
      {
        ...COUNTRY,
        'geoip-city-names.dat': Buffer.alloc(0),
        'geoip-city.dat': city([['1.0.0.0', '1.0.0.255', 0, 1, 1]]),
      },
      {
        ...COUNTRY,
        'geoip-city-names.dat': names(['US']),
        'geoip-city.dat': city([['1.0.0.0', '1.0.0.255', 0, 1, 1]]),
        'geoip-city6.dat': Buffer.alloc(0),
      },
      { ...COUNTRY, 'geoip-city-names.dat': names(['US', 'NL']), 'geoip-city6.dat': CITY6 },
    ]) {
      const { ours, geoipLite } = await bothAnswers(dataDir(files), ['1.0.0.1', '2001:db8::1']);
      expect(ours, Object.keys(files).join(' ')).toEqual(geoipLite);
    }
  });

  it('uses the IPv6 country file when geoip-city-names.dat is missing (geoip-lite would throw)', async () => {
    const db = await loaded(dataDir({ ...COUNTRY, 'geoip-city6.dat': CITY6 }));
    expect(db.lookup('2001:db8::1')).toEqual({ country: 'NL', continent: 'EU', prefix: 64 });
  });
});

describe('geoip-lite data files that are not valid', () => {
  const names2 = names(['AU', 'NL']);
  const cases: [string, Files, string, RegExp][] = [
    [
      'a truncated city file',
      { 'geoip-city-names.dat': names2, 'geoip-city.dat': city([['1.0.0.0', '1.0.0.255', 0, 1, 1]]).subarray(0, 23) },
      'geoip-city.dat',
      /23 bytes is not a whole number of 24-byte records/,
    ],
    [
      'a truncated names file',
      { 'geoip-city-names.dat': names2.subarray(0, 100) },
      'geoip-city-names.dat',
      /not a whole number of 88-byte records/,
    ],
    [
      'unsorted IPv4 ranges',
      {
        'geoip-city-names.dat': names2,
        'geoip-city.dat': city([
          ['1.0.1.0', '1.0.1.255', 0, 1, 1],
          ['1.0.0.0', '1.0.0.255', 0, 1, 1],
        ]),
      },
      'geoip-city.dat',
      /record 1: range starts inside the previous one/,
    ],
    [
      'overlapping IPv4 ranges',
      {
        'geoip-city-names.dat': names2,
        'geoip-city.dat': city([
          ['1.0.0.0', '1.0.1.0', 0, 1, 1],
          ['1.0.1.0', '1.0.1.255', 0, 1, 1],
        ]),
      },
      'geoip-city.dat',
      /record 1: range starts inside the previous one/,
    ],
    [
      'a range that ends before it starts',
      { 'geoip-city-names.dat': names2, 'geoip-city.dat': city([['1.0.1.0', '1.0.0.255', 0, 1, 1]]) },
      'geoip-city.dat',
      /record 0: range ends before it starts/,
    ],
    [
      'an IPv6 range that ends before it starts',
      {
        'geoip-city-names.dat': names2,
        'geoip-city.dat': city([['1.0.0.0', '1.0.0.255', 0, 1, 1]]),
        'geoip-city6.dat': city([
          ['2001:db8::', '2001:db8::1', 0, 1, 1],
          ['2001:db8:0:2::', '2001:db8:0:1::', 0, 1, 1],
        ]),
      },
      'geoip-city6.dat',
      /record 1: range ends before it starts/,
    ],
    [
      'a location id past the names file',
      { 'geoip-city-names.dat': names2, 'geoip-city.dat': city([['1.0.0.0', '1.0.0.255', 2, 1, 1]]) },
      'geoip-city.dat',
      /record 0: location id 2, but geoip-city-names.dat has 2/,
    ],
    [
      'a latitude past 90',
      { 'geoip-city-names.dat': names2, 'geoip-city.dat': city([['1.0.0.0', '1.0.0.255', 0, 90.0001, 1]]) },
      'geoip-city.dat',
      /record 0: coordinates 90.0001, 1 out of range/,
    ],
    [
      'no city files and an empty country file',
      { 'geoip-country.dat': Buffer.alloc(0) },
      'geoip-country.dat',
      /missing or empty/,
    ],
  ];

  it.each(cases)('fails with ERR_CONFIG naming the file: %s', async (_, files, file, reason) => {
    const dir = dataDir({ ...COUNTRY, ...files });
    const db = new GeoipLiteDatabase({ dataDir: dir });
    const error = await db.load().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(GslbError);
    expect((error as GslbError).code).toBe('ERR_CONFIG');
    expect((error as GslbError).message).toMatch(new RegExp(`^${path.join(dir, file)}: `));
    expect((error as GslbError).message).toMatch(reason);
    // Remembered: lookups and loads give the same error, without reading the files again.
    expect(() => db.lookup('1.0.0.1')).toThrow(error as Error);
    await expect(db.load()).rejects.toBe(error);
    expect(db.loaded).toBe(false);
  });

  it('fails with ERR_CONFIG naming the directory when it does not exist', async () => {
    const dir = path.join(root, 'missing');
    await expect(new GeoipLiteDatabase({ dataDir: dir }).load()).rejects.toThrow(
      `${path.join(dir, 'geoip-country.dat')}: missing or empty`,
    );
  });

  it('fails at a bad record far into a file, after reading it in several batches', async () => {
    // 40,000 /24s from 1.0.0.0, with the 30,000th out of order: three reads of 16,384 records, the
    // last one still in flight when the bad record is found.
    const rows: [string, string, number, number, number][] = Array.from({ length: 40_000 }, (_, i) => {
      const start = 0x01000000 + (i === 30_000 ? 0 : i) * 256;
      return [v4Text(start), v4Text(start + 255), 0, 1, 1];
    });
    const dir = dataDir({ ...COUNTRY, 'geoip-city-names.dat': names(['AU']), 'geoip-city.dat': city(rows) });
    await expect(new GeoipLiteDatabase({ dataDir: dir }).load()).rejects.toThrow(
      `${path.join(dir, 'geoip-city.dat')}: record 30000: range starts inside the previous one`,
    );
  });

  it('loads in a new instance once a bad file is fixed: a failure is not shared', async () => {
    const dir = dataDir({
      ...COUNTRY,
      'geoip-city-names.dat': names2,
      'geoip-city.dat': city([['1.0.1.0', '1.0.0.255', 0, 1, 1]]),
    });
    await expect(new GeoipLiteDatabase({ dataDir: dir }).load()).rejects.toThrow(
      /record 0: range ends before it starts/,
    );
    writeFileSync(path.join(dir, 'geoip-city.dat'), city([['1.0.0.0', '1.0.0.255', 0, 1, 1]]));
    const db = await loaded(dir);
    expect(db.lookup('1.0.0.1')?.country).toBe('AU');
  });
});
