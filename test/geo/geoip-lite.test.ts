// The geoip-lite adapter against geoip-lite itself: every expectation is read from geoip-lite at
// test time, so the tests hold whatever data version is installed.

import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continentOf } from '../../src/3-geo/continents.ts';
import { alignedPrefix, GEOIP_LITE_V6_PREFIX, GeoipLiteDatabase } from '../../src/3-geo/geoip-lite.ts';
import { openGeoDatabase } from '../../src/3-geo/index.ts';
import { blockEnds, inBlock, sampler } from './blocks.ts';
import { runGeoConformance } from './conformance.ts';
import { geoip } from './geoip-lite-oracle.ts';

const rand = sampler(7);
const int = (n: number) => Math.floor(rand() * n);
const V4 = Array.from({ length: 3000 }, () => [int(256), int(256), int(256), int(256)].join('.'));
// Random IPv6 addresses are almost all unallocated: start them in the RIRs' blocks.
const V6_STARTS = [0x2001, 0x2400, 0x2403, 0x2600, 0x2604, 0x2800, 0x2a00, 0x2a01, 0x2a02, 0x2c0f];
const V6 = Array.from({ length: 2000 }, () =>
  [V6_STARTS[int(V6_STARTS.length)]!, ...Array.from({ length: 7 }, () => int(0x10000))]
    .map((g) => g.toString(16))
    .join(':'),
);

// Addresses the adapter must locate: geoip-lite has a country or coordinates for them.
const known = [...V4, ...V6].filter((a) => {
  const raw = geoip.lookup(a);
  return raw && (raw.country || (raw.ll[0] !== null && !(raw.ll[0] === 0 && raw.ll[1] === 0)));
});

describe('geoip-lite adapter', () => {
  const db = new GeoipLiteDatabase();
  beforeAll(() => db.load());

  it('locates enough of the sample for the checks below to mean something', () => {
    expect(known.filter((a) => !a.includes(':')).length).toBeGreaterThan(1000);
    expect(known.filter((a) => a.includes(':')).length).toBeGreaterThan(200);
  });

  it('agrees with geoip-lite on country, continent and coordinates', () => {
    for (const address of [...V4, ...V6]) {
      const raw = geoip.lookup(address);
      const loc = db.lookup(address);
      const [lat, lon] = raw?.ll ?? [null, null];
      const point = lat === null || lon === null || (lat === 0 && lon === 0) ? undefined : { lat, lon };
      // Some GeoLite2 ranges know only a continent: geoip-lite keeps their coordinates, not the continent.
      if (!raw?.country && !point) {
        expect(loc, address).toBeNull();
        continue;
      }
      expect(loc?.point, address).toEqual(point);
      expect(loc?.country, address).toBe(raw?.country || undefined);
      expect(loc?.continent, address).toBe(raw?.country ? continentOf(raw.country) : undefined);
      if (raw?.country) expect(loc?.continent, `${address} ${raw.country}`).toBeDefined();
    }
  });

  // The IPv4 prefix (the widest aligned block inside the run of ranges with the same answer,
  // which can be wider than geoip-lite's own range) is checked in geoip-lite-differential.test.ts.

  it('reports /64 for IPv6, inside which geoip-lite gives one record', () => {
    const random = sampler(2);
    for (const address of known.filter((a) => a.includes(':'))) {
      expect(db.lookup(address)?.prefix).toBe(GEOIP_LITE_V6_PREFIX);
      const raw = geoip.lookup(address);
      const inside = Array.from({ length: 8 }, () => inBlock(address, GEOIP_LITE_V6_PREFIX, random));
      for (const other of [...blockEnds(address, GEOIP_LITE_V6_PREFIX), ...inside]) {
        expect(geoip.lookup(other), `${other} in ${address}/64`).toEqual(raw);
      }
    }
  });

  it('returns null for loopback, private and unspecified addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '192.168.1.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      '::ffff:10.1.2.3',
    ]) {
      expect(db.lookup(address), address).toBeNull();
    }
  });
});

describe('geoip-lite loading', () => {
  // Tables are shared by data directory within a process: each test here reads the bundled files
  // through a directory of its own, so that it sees a load from the start.
  const root = mkdtempSync(path.join(tmpdir(), 'gslbd-geoip-load-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const bundled = new GeoipLiteDatabase().dataDir;
  let dirs = 0;
  const freshDir = (): string => {
    const dir = path.join(root, String(dirs++));
    symlinkSync(bundled, dir);
    return dir;
  };

  it('gives the event loop turns while it loads, instead of holding it for the whole load', async () => {
    const db = new GeoipLiteDatabase({ dataDir: freshDir() });
    let turns = 0;
    let loading = true;
    const spin = () => {
      turns++;
      if (loading) setImmediate(spin);
    };
    setImmediate(spin);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const load = db.load();
    // Nothing is read before load() returns: the caller goes on at once.
    expect(db.loaded).toBe(false);
    await load;
    loading = false;
    clearInterval(timer);
    expect(db.loaded).toBe(true);
    // Read in one go, the load would leave neither a turn nor a timer run until it had finished.
    // In slices: a turn at each of the ~230 reads of the city files, and every few ms of work.
    expect(turns).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(10);
  });

  it('answers null before the data is loaded, starts loading it, and answers once loaded', async () => {
    const db = new GeoipLiteDatabase({ dataDir: freshDir() });
    expect(db.description).toMatch(/^geoip-lite \d+\.\d+\.\d+/);
    expect(db.lookup('not an address')).toBeNull();
    expect(db.loaded).toBe(false);
    expect(db.lookup('81.2.69.142')).toBeNull();
    expect(db.loaded).toBe(false);
    // The lookup started the load: load() waits for that one.
    await db.load();
    expect(db.loaded).toBe(true);
    expect(db.lookup('81.2.69.142')?.country).toBe('GB');
  });

  it('answers at once in an instance made after the same directory was loaded', async () => {
    const dir = freshDir();
    await new GeoipLiteDatabase({ dataDir: dir }).load();
    const db = new GeoipLiteDatabase({ dataDir: dir });
    expect(db.lookup('81.2.69.142')?.country).toBe('GB');
    expect(db.loaded).toBe(true);
  });

  it('is loaded when openGeoDatabase resolves', async () => {
    expect(((await openGeoDatabase({ type: 'geoip-lite' })) as GeoipLiteDatabase).loaded).toBe(true);
  });
});

describe('alignedPrefix', () => {
  it('is 0 for the whole address space and 32 for a single address', () => {
    expect(alignedPrefix(123456, 0, 2 ** 32 - 1)).toBe(0);
    expect(alignedPrefix(7, 7, 7)).toBe(32);
  });

  it('is the widest aligned block inside an unaligned range', () => {
    // [10, 20]: 16 sits in 16..19 (/30), since 16..23 would pass 20; 20 is alone (20..21 would too).
    expect(alignedPrefix(16, 10, 20)).toBe(30);
    expect(alignedPrefix(20, 10, 20)).toBe(32);
    expect(alignedPrefix(10, 10, 20)).toBe(31);
    // Addresses above 2^31, where JS bit operators would turn negative.
    expect(alignedPrefix(0xc0000201, 0xc0000200, 0xc00002ff)).toBe(24);
  });
});

runGeoConformance(
  'geoip-lite',
  async () => {
    const db = new GeoipLiteDatabase();
    await db.load();
    return db;
  },
  known.slice(0, 300),
);
