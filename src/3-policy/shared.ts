// Pieces more than one policy uses: how many answers, rotation, partial shuffle, geo scope.

import type { GeoLocation } from '../3-geo/types.ts';
import type { Candidate, Client } from './types.ts';

/** How many indexes to return: the contract's 1..min(count, n), whatever `count` says. */
export function answerCount(count: number, n: number): number {
  return Math.max(1, Math.min(Math.floor(count), n));
}

/**
 * A round-robin position that survives a changing candidate list: it is kept modulo the length of
 * the list it was last used with, so a list that shrank after a health change never yields an
 * index past its end, and a static list sees every candidate lead exactly once per cycle.
 */
export class Rotor {
  #next = 0;

  /** `count` consecutive candidates' indexes, starting at the current position, which then moves on. */
  take(candidates: readonly Candidate[], count: number): number[] {
    const n = candidates.length;
    const start = this.#next % n;
    this.#next = (start + 1) % n;
    const out: number[] = [];
    for (let i = 0; i < answerCount(count, n); i++) out.push(candidates[(start + i) % n]!.index);
    return out;
  }
}

/** `k` items chosen uniformly without replacement, in random order (partial Fisher–Yates). */
export function shuffleTake<T>(items: readonly T[], k: number, random: () => number): T[] {
  // Copy before shuffling: the caller's list is shared with other queries (and frozen).
  const a = items.slice();
  for (let i = 0; i < k && i < a.length - 1; i++) {
    // min(): an injected random() that returns 1 must not step past the end.
    const j = Math.min(a.length - 1, i + Math.floor(random() * (a.length - i)));
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
  }
  return a.slice(0, k);
}

/**
 * RFC 7871 §7.2.1: the scope is the prefix the answer depends on. A geo database gives the same
 * location to its whole network (`location.prefix` bits), so a geo answer is valid that wide, but
 * never wider than what the client told us (its source prefix).
 */
export function geoScope(client: Client, location: GeoLocation): number {
  return Math.min(client.prefix, location.prefix);
}
