// GeoDatabase over geoip-lite's bundled GeoLite2 data. Loading it adds ~105 MB RSS and blocks the
// event loop for 60-200 ms (measured 57-88 ms; more on a busy disk), so construction is free and
// the data is loaded by `load()` or on the first lookup. Node's module cache holds the data, so
// every instance in a process shares one copy.

import { createRequire } from 'node:module';
import { GslbError } from '../errors.ts';
import { lookupAddress } from './address.ts';
import { makeLocation } from './location.ts';
import type { GeoDatabase, GeoLocation, GeoPoint } from './types.ts';

/** The part of geoip-lite's CommonJS API we use (it ships no typings). */
interface GeoipLite {
  lookup(ip: string): GeoipLiteRecord | null;
}

interface GeoipLiteRecord {
  /** IPv4: first and last address of the data range, as integers. IPv6: '' (not exposed). */
  readonly range: readonly [number, number] | string;
  /** '' when the range has no location. */
  readonly country: string;
  /** [null, null] or [0, 0] when unknown. */
  readonly ll?: readonly [number | null, number | null] | null;
}

/**
 * Prefix reported for IPv6 answers. geoip-lite does not expose IPv6 ranges, but it compares
 * IPv6 addresses on their top 64 bits only, so every /64 maps to exactly one record: /64 is the
 * widest scope that is always true. A wider guess such as /48 is not safe: in the bundled data,
 * 175,087 of 393,146 IPv6 ranges are narrower than a /48 or do not start on a /48 boundary.
 */
export const GEOIP_LITE_V6_PREFIX = 64;

export class GeoipLiteDatabase implements GeoDatabase {
  readonly description: string;
  #require = createRequire(import.meta.url);
  #lib: GeoipLite | undefined;
  #failure: GslbError | undefined;

  constructor() {
    const { version } = this.#require('geoip-lite/package.json') as { version: string };
    this.description = `geoip-lite ${version} (bundled GeoLite2 data)`;
  }

  get loaded(): boolean {
    return this.#lib !== undefined;
  }

  /** Loads the data now (at start-up) rather than on the first lookup. Throws ERR_CONFIG if it cannot. */
  load(): void {
    this.#load();
  }

  lookup(address: string): GeoLocation | null {
    const addr = lookupAddress(address);
    if (!addr) return null;
    const rec = this.#load().lookup(addr.text);
    if (!rec) return null;
    const prefix = typeof rec.range === 'string'
      ? GEOIP_LITE_V6_PREFIX
      : alignedPrefix(addr.bytes.readUInt32BE(0), rec.range[0], rec.range[1]);
    return makeLocation({ country: rec.country, point: toPoint(rec.ll) }, prefix + addr.prefixOffset);
  }

  #load(): GeoipLite {
    if (this.#lib) return this.#lib;
    // A failed load is remembered: retrying would re-read the files on every query.
    if (this.#failure) throw this.#failure;
    try {
      this.#lib = this.#require('geoip-lite') as GeoipLite;
      return this.#lib;
    } catch (err) {
      this.#failure = new GslbError('ERR_CONFIG', `geoip-lite: cannot load its data: ${(err as Error).message}`);
      throw this.#failure;
    }
  }
}

/**
 * Largest p such that the aligned /p block holding `ip` lies within [start, end]: every address
 * in it gets the same record. Arithmetic, not bit operators, which are signed 32-bit in JS.
 */
export function alignedPrefix(ip: number, start: number, end: number): number {
  for (let p = 0; p < 32; p++) {
    const size = 2 ** (32 - p);
    const first = ip - (ip % size);
    if (first >= start && first + size - 1 <= end) return p;
  }
  return 32;
}

// geoip-lite fills unknown coordinates with nulls (IPv4) or zeros (IPv6); (0, 0) is open sea.
function toPoint(ll: GeoipLiteRecord['ll']): GeoPoint | undefined {
  if (!ll) return undefined;
  const [lat, lon] = ll;
  if (typeof lat !== 'number' || typeof lon !== 'number') return undefined;
  if (lat === 0 && lon === 0) return undefined;
  return { lat, lon };
}
