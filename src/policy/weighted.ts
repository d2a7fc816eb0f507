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

/** One SWRR step over `current`; returns the winning position, never one in `skip`. */
function step(current: Map<string, number>, candidates: readonly Candidate[], total: number, skip: ReadonlySet<number>): number {
  let best = -1;
  let bestValue = -Infinity;
  candidates.forEach((c, p) => {
    const value = (current.get(c.key) ?? 0) + c.weight;
    current.set(c.key, value);
    if (!skip.has(p) && value > bestValue) {
      best = p;
      bestValue = value;
    }
  });
  const winner = candidates[best]!;
  current.set(winner.key, bestValue - total);
  return best;
}

/**
 * Match `current` to the present candidates. SWRR keeps the currents summing to 0; a target that
 * leaves takes its share with it, so re-centre on the mean. That keeps the invariant, lets
 * newcomers (at 0) join neither ahead nor behind, and does not change who wins among the rest.
 */
function sync(current: Map<string, number>, candidates: readonly Candidate[]): void {
  if (current.size === candidates.length && candidates.every((c) => current.has(c.key))) return;
  const kept = candidates.map((c) => [c.key, current.get(c.key) ?? 0] as const);
  const mean = kept.reduce((s, [, v]) => s + v, 0) / kept.length;
  current.clear();
  for (const [key, v] of kept) current.set(key, v - mean);
}

export const weighted: PolicyFactory = () => {
  const current = new Map<string, number>();
  return {
    name: 'weighted',
    pick(candidates, count) {
      sync(current, candidates);
      const total = candidates.reduce((s, c) => s + c.weight, 0);
      const k = answerCount(count, candidates.length);
      const chosen = new Set([step(current, candidates, total, new Set())]);
      if (k > 1) {
        const preview = new Map(current);
        while (chosen.size < k) chosen.add(step(preview, candidates, total, chosen));
      }
      return { indexes: [...chosen].map((p) => candidates[p]!.index), scope: 0 };
    },
  };
};
