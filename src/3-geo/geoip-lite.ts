// GeoDatabase over geoip-lite's bundled GeoLite2 data. The data files are read directly into
// compact tables (geoip-lite-files.ts, geoip-lite-tables.ts) rather than through the geoip-lite
// module, which would hold all ~108 MB of them in memory: the tables take about 30 MB and a few
// hundred ms to build. Construction is free; `load()` builds the tables in slices that leave the
// event loop free in between, so a server keeps answering while it loads. Tables are shared by
// every instance that reads the same directory in a process.

import { createRequire } from 'node:module';
import path from 'node:path';
import { GslbError } from '../0-base/errors.ts';
import { lookupAddress } from './address.ts';
import { readGeoipLiteData, type GeoipLiteData } from './geoip-lite-files.ts';
import { Ipv4Table, Ipv6Table, PlaceTable } from './geoip-lite-tables.ts';
import type { GeoDatabase, GeoLocation, SharedGeo } from './types.ts';

/**
 * Prefix reported for IPv6 answers. geoip-lite compares IPv6 addresses on their top 64 bits
 * only, so every /64 maps to exactly one record: /64 is the widest scope that is always true
 * without looking at the neighbouring ranges. A fixed wider guess such as /48 is not safe: in the
 * bundled data, 175,087 of 393,146 IPv6 ranges are narrower than a /48 or do not start on a /48
 * boundary.
 */
export const GEOIP_LITE_V6_PREFIX = 64;

/** Tables by data directory, loading or loaded: read once per process, like geoip-lite's module cache. */
const shared = new Map<string, SharedTables>();

interface SharedTables {
  readonly promise: Promise<GeoipLiteData>;
  /** Set once the promise resolves, for lookups, which cannot wait. */
  data?: GeoipLiteData;
}

function tablesOf(dir: string): SharedTables {
  let entry = shared.get(dir);
  if (!entry) {
    const e: SharedTables = { promise: readGeoipLiteData(dir) };
    // Failures are not shared: the next instance (a reload, after the files were fixed) reads again.
    e.promise.then(
      (data) => {
        e.data = data;
      },
      () => shared.delete(dir),
    );
    shared.set(dir, (entry = e));
  }
  return entry;
}

export interface GeoipLiteOptions {
  /** geoip-lite's data directory; by default the installed package's, or $GEODATADIR as geoip-lite reads it. */
  readonly dataDir?: string;
}

export class GeoipLiteDatabase implements GeoDatabase {
  readonly description: string;
  readonly dataDir: string;
  /** Whether the data directory was given (not the package's own). */
  readonly #dirGiven: boolean;
  #data: GeoipLiteData | undefined;
  #loading: Promise<void> | undefined;
  #failure: GslbError | undefined;

  constructor(options: GeoipLiteOptions = {}) {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('geoip-lite/package.json');
    const { version } = require(pkg) as { version: string };
    // geoip-lite resolves its data directory from lib/, with GEODATADIR relative to that.
    this.dataDir = options.dataDir ?? path.resolve(path.dirname(pkg), 'lib', process.env.GEODATADIR || '../data/');
    this.#dirGiven = options.dataDir !== undefined;
    this.description = `geoip-lite ${version} (${options.dataDir ? `data in ${this.dataDir}` : 'bundled GeoLite2 data'})`;
  }

  get loaded(): boolean {
    return this.#data !== undefined;
  }

  /** The tables (SharedArrayBuffers), once loaded: another thread answers from them (`fromShared`). */
  shared(): SharedGeo {
    const data = this.#data;
    if (!data) throw new GslbError('ERR_CONFIG', 'geoip-lite: shared before it was loaded');
    return {
      type: 'geoip-lite',
      ...(this.#dirGiven && { dataDir: this.dataDir }),
      tables: { v4: data.v4.parts, v6: data.v6.parts, places: data.places.parts },
    };
  }

  /** A loaded database over tables another thread loaded (`shared()`), answering at once. */
  static fromShared(s: Extract<SharedGeo, { type: 'geoip-lite' }>): GeoipLiteDatabase {
    const db = new GeoipLiteDatabase(s.dataDir !== undefined ? { dataDir: s.dataDir } : {});
    const { v4, v6, places } = s.tables;
    db.#data = { v4: Ipv4Table.from(v4), v6: Ipv6Table.from(v6), places: PlaceTable.from(places) };
    db.#loading = Promise.resolve();
    return db;
  }

  /**
   * Loads the data, in slices that give the event loop a turn between them. Resolves once
   * `lookup` answers; rejects with ERR_CONFIG if the data cannot be read, and keeps rejecting with
   * that error (a new instance reads again). Calling it again returns the same promise.
   */
  load(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  /**
   * The location of `address`. Before the data is loaded: null, and the load starts in the
   * background (the caller is not blocked; await `load()` first to get answers from the start).
   * After a failed load: throws its ERR_CONFIG.
   */
  lookup(address: string): GeoLocation | null {
    const addr = lookupAddress(address);
    if (!addr) return null;
    const data = this.#data ?? this.#notLoaded();
    if (!data) return null;
    if (addr.family === 6) {
      const place = data.v6.locate(addr.bytes.readUInt32BE(0), addr.bytes.readUInt32BE(4));
      return data.places.location(place, GEOIP_LITE_V6_PREFIX);
    }
    const ip = addr.bytes.readUInt32BE(0);
    const { place, start, end } = data.v4.locate(ip);
    return data.places.location(place, alignedPrefix(ip, start, end) + addr.prefixOffset);
  }

  async #load(): Promise<void> {
    try {
      this.#data = await tablesOf(this.dataDir).promise;
    } catch (err) {
      this.#failure =
        err instanceof GslbError
          ? err
          : new GslbError(
              'ERR_CONFIG',
              `geoip-lite: cannot load its data from ${this.dataDir}: ${(err as Error).message}`,
            );
      throw this.#failure;
    }
  }

  /** The tables if another instance has loaded them; else starts loading and gives undefined. */
  #notLoaded(): GeoipLiteData | undefined {
    // A failed load is remembered: retrying would re-read the files on every query.
    if (this.#failure) throw this.#failure;
    const data = shared.get(this.dataDir)?.data;
    if (data) return (this.#data = data);
    // The rejection is kept in #failure for the lookups that follow.
    this.load().catch(() => {});
    return undefined;
  }
}

/**
 * Largest p such that the aligned /p block holding `ip` lies within [start, end]: every address
 * in it gets the same answer. Arithmetic, not bit operators, which are signed 32-bit in JS.
 */
export function alignedPrefix(ip: number, start: number, end: number): number {
  for (let p = 0; p < 32; p++) {
    const size = 2 ** (32 - p);
    const first = ip - (ip % size);
    if (first >= start && first + size - 1 <= end) return p;
  }
  return 32;
}
