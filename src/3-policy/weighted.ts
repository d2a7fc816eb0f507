// weighted: smooth weighted round-robin, as nginx's upstream module does it. Each pick, every
// candidate's `current` grows by its weight, the largest wins and gives back the total weight.
// Over any cycle of sum(weights) picks from a settled state each candidate leads exactly `weight`
// times, interleaved rather than in bursts (5,1,1 gives a a b a c a a).
//
// `current` is kept per Candidate.key, not per position, so a target keeps its place in the
// sequence while others leave and return with health changes (held in an array by position in the
// last list, matched to the keys again only when the list changes).
//
// count > 1: the first index is the real next step; the others preview the steps that would
// follow (on a copy), skipping targets already chosen. Only one real step is taken per query, so
// the leading answer — the one most clients use — follows the exact weighted sequence, and the
// extra answers are the targets next in line. Scope 0: not client-dependent.

import type { Candidate, PolicyFactory } from './types.ts';
import { answerCount } from './shared.ts';

/**
 * One SWRR step over `current` (by position in `candidates`); returns the winning position, never
 * one already in `chosen`. Plain loops and no sets: this runs on every query of a weighted pool.
 */
function step(current: number[], candidates: readonly Candidate[], total: number, chosen: readonly number[]): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let p = 0; p < candidates.length; p++) {
    const value = current[p]! + candidates[p]!.weight;
    current[p] = value;
    if (value > bestValue && !chosen.includes(p)) {
      best = p;
      bestValue = value;
    }
  }
  current[best] = bestValue - total;
  return best;
}

/** True when `keys` are the keys of `candidates`, in their order (nearly always: the same pool again). */
function aligned(keys: readonly string[], candidates: readonly Candidate[]): boolean {
  if (keys.length !== candidates.length) return false;
  for (let p = 0; p < keys.length; p++) if (keys[p] !== candidates[p]!.key) return false;
  return true;
}

/**
 * `current` of the candidates, in their order, from the `current` kept for `keys`. The same targets
 * in another order keep theirs. Otherwise SWRR keeps the currents summing to 0; a target that
 * leaves takes its share with it, so re-centre on the mean. That keeps the invariant, lets
 * newcomers (at 0) join neither ahead nor behind, and does not change who wins among the rest.
 */
function resync(keys: readonly string[], current: readonly number[], candidates: readonly Candidate[]): number[] {
  const old = new Map<string, number>();
  keys.forEach((k, p) => old.set(k, current[p]!));
  if (old.size === candidates.length && candidates.every((c) => old.has(c.key)))
    return candidates.map((c) => old.get(c.key)!);
  const kept = candidates.map((c) => old.get(c.key) ?? 0);
  const mean = kept.reduce((s, v) => s + v, 0) / kept.length;
  return kept.map((v) => v - mean);
}

const NONE: readonly number[] = [];

export const weighted: PolicyFactory = () => {
  // SWRR's `current` per Candidate.key, held by position in the list last picked from (whose keys
  // `keys` are): a pool hands the same candidates in the same order query after query, so a pick
  // reads and writes an array instead of a Map per candidate. Keys are unique within a pool.
  let keys: string[] = [];
  let current: number[] = [];
  return {
    name: 'weighted',
    pick(candidates, count) {
      if (!aligned(keys, candidates)) {
        current = resync(keys, current, candidates);
        keys = candidates.map((c) => c.key);
      }
      let total = 0;
      for (const c of candidates) total += c.weight;
      const k = answerCount(count, candidates.length);
      const chosen = [step(current, candidates, total, NONE)];
      if (k > 1) {
        const preview = current.slice();
        while (chosen.length < k) chosen.push(step(preview, candidates, total, chosen));
      }
      for (let i = 0; i < chosen.length; i++) chosen[i] = candidates[chosen[i]!]!.index;
      return { indexes: chosen, scope: 0 };
    },
  };
};
