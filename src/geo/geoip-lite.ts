// GeoDatabase over geoip-lite's bundled GeoLite2 data. The data files are read directly into
// compact tables (geoip-lite-files.ts, geoip-lite-tables.ts) rather than through the geoip-lite
// module, which would hold all ~108 MB of them in memory: the tables take about 30 MB and a
// blocking load of a few hundred ms, so construction is free and the data is loaded by `load()`
// or on the first lookup. Loaded tables are shared by every instance that reads the same
// directory in a process.

import { createRequire } from 'node:module';
import path from 'node:path';
import { GslbError } from '../errors.ts';
import { lookupAddress } from './address.ts';
import { readGeoipLiteData, type GeoipLiteData } from './geoip-lite-files.ts';
import type { GeoDatabase, GeoLocation } from './types.ts';

/**
 * Prefix reported for IPv6 answers. geoip-lite compares IPv6 addresses on their top 64 bits
 * only, so every /64 maps to exactly one record: /64 is the widest scope that is always true
 * without looking at the neighbouring ranges. A fixed wider guess such as /48 is not safe: in the
 * bundled data, 175,087 of 393,146 IPv6 ranges are narrower than a /48 or do not start on a /48
 * boundary.
 */
export const GEOIP_LITE_V6_PREFIX = 64;

/** Tables by data directory: loaded once per process, like geoip-lite's module cache did. */
const loaded = new Map<string, GeoipLiteData>();

export interface GeoipLiteOptions {
  /** geoip-lite's data directory; by default the installed package's, or $GEODATADIR as geoip-lite reads it. */
  readonly dataDir?: string;
}

export class GeoipLiteDatabase implements GeoDatabase {
  readonly description: string;
  readonly dataDir: string;
  #data: GeoipLiteData | undefined;
  #failure: GslbError | undefined;

  constructor(options: GeoipLiteOptions = {}) {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('geoip-lite/package.json');
    const { version } = require(pkg) as { version: string };
    // geoip-lite resolves its data directory from lib/, with GEODATADIR relative to that.
    this.dataDir = options.dataDir ?? path.resolve(path.dirname(pkg), 'lib', process.env.GEODATADIR || '../data/');
    this.description = `geoip-lite ${version} (${options.dataDir ? `data in ${this.dataDir}` : 'bundled GeoLite2 data'})`;
  }

  get loaded(): boolean {
    return this.#data !== undefined;
  }

  /** Loads the data now (at start-up) rather than on the first lookup. Throws ERR_CONFIG if it cannot. */
  load(): void {
    this.#load();
  }

  lookup(address: string): GeoLocation | null {
    const addr = lookupAddress(address);
    if (!addr) return null;
    const data = this.#load();
    if (addr.family === 6) {
      const place = data.v6.locate(addr.bytes.readUInt32BE(0), addr.bytes.readUInt32BE(4));
      return data.places.location(place, GEOIP_LITE_V6_PREFIX);
    }
    const ip = addr.bytes.readUInt32BE(0);
    const { place, start, end } = data.v4.locate(ip);
    return data.places.location(place, alignedPrefix(ip, start, end) + addr.prefixOffset);
  }

  #load(): GeoipLiteData {
    if (this.#data) return this.#data;
    // A failed load is remembered: retrying would re-read the files on every query.
    if (this.#failure) throw this.#failure;
    try {
      let data = loaded.get(this.dataDir);
      if (!data) {
        data = readGeoipLiteData(this.dataDir);
        loaded.set(this.dataDir, data);
      }
      this.#data = data;
      return data;
    } catch (err) {
      this.#failure = err instanceof GslbError
        ? err
        : new GslbError('ERR_CONFIG', `geoip-lite: cannot load its data from ${this.dataDir}: ${(err as Error).message}`);
      throw this.#failure;
    }
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
