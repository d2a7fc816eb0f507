// A database handed to another thread (9-main/cluster: the primary loads, every worker answers):
// `shared()` posted to a real worker thread arrives as the same memory (SharedArrayBuffers), and
// `openSharedGeo` there answers every address exactly as the database it came from.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeoipLiteDatabase, openMmdb, type GeoDatabase, type SharedGeo } from '../../src/3-geo/index.ts';
import { mulberry32 } from '../policy/helpers.ts';
import { writeMmdb } from './mmdb-writer.ts';

const INDEX = path.resolve(import.meta.dirname, '../../src/3-geo/index.ts');

/** Looks `addresses` up in a worker thread through openSharedGeo(shared); what it answered, and whether its arrays were shared. */
function inThread(
  shared: SharedGeo,
  addresses: readonly string[],
): Promise<{ answers: unknown[]; sharedMemory: boolean; description: string }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.index).then(({ openSharedGeo }) => {
      const s = workerData.shared;
      const buffers = s.type === 'mmdb' ? [s.bytes.buffer] :
        [s.tables.v4.starts, s.tables.v6.places, s.tables.places.lat].map((a) => a.buffer);
      const db = openSharedGeo(s);
      parentPort.postMessage({
        answers: workerData.addresses.map((a) => db.lookup(a)),
        sharedMemory: buffers.every((b) => b instanceof SharedArrayBuffer),
        description: db.description,
      });
    });`;
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData: { index: INDEX, shared, addresses } });
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

/** 2,000 IPv4 and 500 IPv6 addresses from a seeded generator, and a few that are not addresses. */
function addresses(): string[] {
  const random = mulberry32(7);
  const byte = () => Math.floor(random() * 256);
  const hex = () => Math.floor(random() * 0x10000).toString(16);
  return [
    ...Array.from({ length: 2000 }, () => `${byte()}.${byte()}.${byte()}.${byte()}`),
    ...Array.from({ length: 500 }, () => `2${hex().slice(1)}:${hex()}:${hex()}::${hex()}`),
    '192.0.2.1',
    '2001:db8:1::5',
    'not an address',
  ];
}

async function sameInThread(db: GeoDatabase): Promise<void> {
  const list = addresses();
  const here = list.map((a) => db.lookup(a));
  const there = await inThread(db.shared!(), list);
  expect(there.sharedMemory).toBe(true);
  expect(there.description).toBe(db.description);
  expect(there.answers).toEqual(JSON.parse(JSON.stringify(here)));
  // Not all empty: the database knows some of them.
  expect(here.filter((l) => l !== null).length).toBeGreaterThan(10);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gslbd-shared-geo-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a geo database shared with a worker thread', () => {
  it('geoip-lite: the thread answers from the same tables, exactly as they answer here', async () => {
    const db = new GeoipLiteDatabase();
    await db.load();
    await sameInThread(db);
  }, 60_000);

  it('an .mmdb file: the thread reads the same bytes, and answers as the file does here', async () => {
    const city = (iso: string, lat: number, lon: number) => ({
      country: { iso_code: iso, geoname_id: 2, names: { en: iso } },
      location: { latitude: lat, longitude: lon, accuracy_radius: 50 },
    });
    const networks = [
      { network: '192.0.2.0/24', data: city('NL', 52, 4) },
      { network: '2001:db8:1::/48', data: city('FR', 48, 2) },
      ...Array.from({ length: 64 }, (_, i) => ({ network: `${i + 1}.0.0.0/8`, data: city('US', i, -i) })),
    ];
    const file = path.join(dir, 'city.mmdb');
    await writeFile(file, writeMmdb(networks, { databaseType: 'GeoLite2-City' }));
    await sameInThread(await openMmdb(file));
  }, 30_000);
});
