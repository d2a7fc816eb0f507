// weighted: smooth weighted round-robin, as nginx's upstream module does it. Each pick, every
// candidate's `current` grows by its weight, the largest wins and gives back the total weight.
// Over any cycle of sum(weights) picks from a settled state each candidate leads exactly `weight`
// times, interleaved rather than in bursts (5,1,1 gives a a b a c a a).
//
// `current` is kept per Candidate.key, not per position, so a target keeps its place in the
// sequence while others leave and return with health changes.
//
// count > 1: the first index is the real next step; the others preview the steps that would
// follow (on a copy), skipping targets already chosen. Only one real step is taken per query, so
// the leading answer — the one most clients use — follows the exact weighted sequence, and the
// extra answers are the targets next in line. Scope 0: not client-dependent.

import type { Candidate, PolicyFactory } from './types.ts';
import { answerCount } from './shared.ts';

/**
 * One SWRR step over `current`; returns the winning position, never one already in `chosen`.
 * Plain loops and no sets: this runs on every query of a weighted pool.
 */
function step(
  current: Map<string, number>,
  candidates: readonly Candidate[],
  total: number,
  chosen: readonly number[],
): number {
  let best = -1;
  let bestValue = -Infinity;
  for (let p = 0; p < candidates.length; p++) {
    const c = candidates[p]!;
    const value = (current.get(c.key) ?? 0) + c.weight;
    current.set(c.key, value);
    if (value > bestValue && !chosen.includes(p)) {
      best = p;
      bestValue = value;
    }
  }
  current.set(candidates[best]!.key, bestValue - total);
  return best;
}

/** True when `current` holds exactly the keys of `candidates`. */
function matches(current: Map<string, number>, candidates: readonly Candidate[]): boolean {
  if (current.size !== candidates.length) return false;
  for (const c of candidates) if (!current.has(c.key)) return false;
  return true;
}

/**
 * Match `current` to the present candidates. SWRR keeps the currents summing to 0; a target that
 * leaves takes its share with it, so re-centre on the mean. That keeps the invariant, lets
 * newcomers (at 0) join neither ahead nor behind, and does not change who wins among the rest.
 */
function sync(current: Map<string, number>, candidates: readonly Candidate[]): void {
  if (matches(current, candidates)) return;
  const kept = candidates.map((c) => [c.key, current.get(c.key) ?? 0] as const);
  const mean = kept.reduce((s, [, v]) => s + v, 0) / kept.length;
  current.clear();
  for (const [key, v] of kept) current.set(key, v - mean);
}

const NONE: readonly number[] = [];

export const weighted: PolicyFactory = () => {
  const current = new Map<string, number>();
  return {
    name: 'weighted',
    pick(candidates, count) {
      sync(current, candidates);
      let total = 0;
      for (const c of candidates) total += c.weight;
      const k = answerCount(count, candidates.length);
      const chosen = [step(current, candidates, total, NONE)];
      if (k > 1) {
        const preview = new Map(current);
        while (chosen.length < k) chosen.push(step(preview, candidates, total, chosen));
      }
      for (let i = 0; i < chosen.length; i++) chosen[i] = candidates[chosen[i]!]!.index;
      return { indexes: chosen, scope: 0 };
    },
  };
};
