// Test helpers for policies: seeded randomness, fake clients and contexts, candidate lists, and the
// chi-square goodness-of-fit statistic with its critical values.

import type { GeoLocation } from '../../src/3-geo/types.ts';
import type { Candidate, Client, PolicyContext } from '../../src/3-policy/types.ts';

/** mulberry32: a tiny seeded PRNG (32-bit state), uniform in [0, 1); enough for tests. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random() that replays `values` in a loop. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

export interface ClientSpec {
  address?: string;
  family?: 4 | 6;
  prefix?: number;
  location?: GeoLocation | null;
}

export function makeClient(spec: ClientSpec = {}): Client & { lookups: number } {
  const family = spec.family ?? (spec.address?.includes(':') ? 6 : 4);
  const location = spec.location ?? null;
  return {
    address: spec.address ?? (family === 4 ? '192.0.2.1' : '2001:db8::1'),
    family,
    prefix: spec.prefix ?? (family === 4 ? 32 : 128),
    lookups: 0,
    location() {
      this.lookups++;
      return location;
    },
  };
}

export function makeContext(opts: { random?: () => number; now?: number; client?: Client } = {}): PolicyContext {
  const random = opts.random ?? mulberry32(1);
  const now = opts.now ?? 1_700_000_000_000;
  const client = opts.client ?? makeClient();
  return { client, random: () => random(), now: () => now };
}

/** `n` candidates with weight 1, keys t0.., and indexes 0.. unless `extra` says otherwise. */
export function targets(n: number, extra: (i: number) => Partial<Candidate> = () => ({})): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({ index: i, key: `t${i}`, weight: 1, ...extra(i) }));
}

/** How often each candidate index occurs in `picks`, in the order of `indexes`. */
export function tally(picks: readonly number[], indexes: readonly number[]): number[] {
  const counts = new Map(indexes.map((i) => [i, 0]));
  for (const p of picks) counts.set(p, (counts.get(p) ?? 0) + 1);
  return indexes.map((i) => counts.get(i)!);
}

/** Pearson's chi-square statistic of observed counts against expected proportions. */
export function chiSquare(observed: readonly number[], proportions: readonly number[]): number {
  const total = observed.reduce((s, o) => s + o, 0);
  const sum = proportions.reduce((s, p) => s + p, 0);
  return observed.reduce((x, o, i) => {
    const e = (total * proportions[i]!) / sum;
    return x + (o - e) ** 2 / e;
  }, 0);
}

/**
 * Upper-tail critical values of the chi-square distribution at p = 0.001, by degrees of freedom.
 * Source: NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.6.7.4 "Critical Values of the
 * Chi-Square Distribution" (checked against the closed form in statistics.test.ts for even df).
 */
export const CHI2_CRITICAL_P001: Readonly<Record<number, number>> = {
  1: 10.828,
  2: 13.816,
  3: 16.266,
  4: 18.467,
  5: 20.515,
  6: 22.458,
  7: 24.322,
  8: 26.124,
  9: 27.877,
  10: 29.588,
};

/** P(X > x) for a chi-square variable with an even number of degrees of freedom (closed form). */
export function chiSquareSurvivalEvenDf(x: number, df: number): number {
  let term = 1;
  let sum = 1;
  for (let j = 1; j < df / 2; j++) {
    term *= x / 2 / j;
    sum += term;
  }
  return Math.exp(-x / 2) * sum;
}

/** Asserting helper: the statistic of `observed` against `proportions` stays under p = 0.001. */
export function chiSquareFits(
  observed: readonly number[],
  proportions: readonly number[],
): { statistic: number; critical: number } {
  const critical = CHI2_CRITICAL_P001[observed.length - 1];
  if (critical === undefined) throw new Error(`no critical value for ${observed.length - 1} degrees of freedom`);
  return { statistic: chiSquare(observed, proportions), critical };
}
