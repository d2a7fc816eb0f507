// geoip-lite itself, as the oracle for the adapter: what it answers for an address, in the shape
// GeoLocation uses, and (IPv4) the run of contiguous ranges that give the same answer.

import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { GeoPoint } from '../../src/3-geo/types.ts';

export interface Raw {
  range: [number, number] | string;
  country: string;
  ll: [number | null, number | null];
}

interface GeoipLite {
  lookup(ip: string | number): Raw | null;
}
let lib: GeoipLite | undefined;

/** The geoip-lite module, required on first use: that loads its ~108 MB of data into the test process. */
export const geoip: GeoipLite = {
  lookup: (ip) => (lib ??= createRequire(import.meta.url)('geoip-lite') as GeoipLite).lookup(ip),
};

export interface Answer {
  readonly country?: string;
  readonly point?: GeoPoint;
}

/** What the adapter must answer (less continent and prefix) for geoip-lite's record, or null. */
export function answerOf(raw: Raw | null): Answer | null {
  if (!raw) return null;
  const [lat, lon] = raw.ll;
  // Unknown coordinates: nulls (IPv4) or zeros (IPv6); some ranges have a point but no country.
  const point = lat === null || lon === null || (lat === 0 && lon === 0) ? undefined : { lat, lon };
  if (!raw.country && !point) return null;
  return { ...(raw.country && { country: raw.country }), ...(point && { point }) };
}

const key = (a: Answer | null): string => JSON.stringify(a);

/**
 * First and last address of the longest run of contiguous geoip-lite IPv4 ranges around `ip`
 * that all give its answer: the widest range over which any answer about `ip` holds.
 */
export function runOf(ip: number): [number, number] {
  const raw = geoip.lookup(ip)!;
  const want = key(answerOf(raw));
  let [start, end] = raw.range as [number, number];
  for (let prev; start > 0 && (prev = geoip.lookup(start - 1)) && key(answerOf(prev)) === want;) {
    start = (prev.range as [number, number])[0];
  }
  for (let next; end < 2 ** 32 - 1 && (next = geoip.lookup(end + 1)) && key(answerOf(next)) === want;) {
    end = (next.range as [number, number])[1];
  }
  return [start, end];
}

/** Dotted quad of an unsigned 32-bit address. */
export function v4Text(ip: number): string {
  return [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
}

/** IPv6 text of the address whose top 64 bits are hi:lo and low 64 bits are `low` (four groups). */
export function v6Text(hi: number, lo: number, low: readonly number[] = [0, 0, 0, 0]): string {
  return [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff, ...low].map((g) => g.toString(16)).join(':');
}

/**
 * geoip-lite's records for `addresses` with its data read from `dir`. geoip-lite reads its data
 * once, when required, from GEODATADIR, so this asks a child process.
 */
export function geoipIn(dir: string, addresses: readonly string[]): (Raw | null)[] {
  const script = `const g = require('geoip-lite');
    const addresses = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    process.stdout.write(JSON.stringify(addresses.map((a) => g.lookup(a))));`;
  const out = execFileSync(process.execPath, ['-e', script], {
    cwd: path.dirname(createRequire(import.meta.url).resolve('geoip-lite/package.json')),
    env: { ...process.env, GEODATADIR: dir },
    input: JSON.stringify(addresses),
    maxBuffer: 64 << 20,
    encoding: 'utf8',
  });
  return JSON.parse(out) as (Raw | null)[];
}
