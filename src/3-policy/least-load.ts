// least-load: steer to the target with the lowest load ratio, counting the answers we handed out
// since its last report. Reports arrive every few seconds; without that count every query in
// between would see the same "least loaded" target and send all new clients to it (herding).
//
//   ratio = (load + answerLoad × answers handed out since reportedAt) / capacity
//
// A target without a usable report (none, or capacity ≤ 0) is assumed average: the mean ratio of
// those that have one. With no report at all we cannot steer, so we pick weighted-random by weight.
// Targets within `tolerance` of the lowest ratio count as equal and share the picks at random, so
// near-equal targets are not starved by measurement noise. Scope 0: not client-dependent.

import type { Candidate, PolicyFactory } from './types.ts';
import { answerCount, shuffleTake } from './shared.ts';

interface Handed {
  /** The report these answers were counted against. */
  reportedAt: number;
  answers: number;
}

/** `k` distinct positions, each drawn with probability proportional to weight among those left. */
function weightedDraw(candidates: readonly Candidate[], k: number, random: () => number): number[] {
  const left = candidates.map((_, p) => p);
  const out: number[] = [];
  while (out.length < k) {
    let r = random() * left.reduce((s, p) => s + candidates[p]!.weight, 0);
    let i = 0;
    while (i < left.length - 1 && (r -= candidates[left[i]!]!.weight) >= 0) i++;
    out.push(...left.splice(i, 1));
  }
  return out;
}

export const leastLoad: PolicyFactory = (options) => {
  const answerLoad = options.answerLoad ?? 1;
  const tolerance = options.tolerance ?? 0.05;
  const handed = new Map<string, Handed>();
  return {
    name: 'least-load',
    pick(candidates, count, ctx) {
      const random = (): number => ctx.random();
      const k = answerCount(count, candidates.length);
      // Keys only come from the pool, but dynamic updates can replace them: forget old ones.
      if (handed.size > 2 * candidates.length + 16) {
        const present = new Set(candidates.map((c) => c.key));
        for (const key of handed.keys()) if (!present.has(key)) handed.delete(key);
      }

      const counted: (Handed | undefined)[] = [];
      const known: (number | undefined)[] = candidates.map((c, p) => {
        const report = c.load;
        if (!report || !(report.capacity > 0)) return undefined;
        let h = handed.get(c.key);
        if (!h || h.reportedAt !== report.reportedAt) {
          h = { reportedAt: report.reportedAt, answers: 0 };
          handed.set(c.key, h);
        }
        counted[p] = h;
        return (report.load + answerLoad * h.answers) / report.capacity;
      });
      const reported = known.filter((r) => r !== undefined);
      if (reported.length === 0) {
        const indexes = weightedDraw(candidates, k, random).map((p) => candidates[p]!.index);
        return { indexes, scope: 0, note: 'no load reports: weighted random' };
      }

      const mean = reported.reduce((s, r) => s + r, 0) / reported.length;
      const ratio = known.map((r) => r ?? mean);
      const min = Math.min(...ratio);
      const limit = min + Math.abs(min) * tolerance;
      const positions = ratio.map((_, p) => p);
      const near = positions.filter((p) => ratio[p]! <= limit);
      const rest = positions.filter((p) => ratio[p]! > limit).sort((a, b) => ratio[a]! - ratio[b]!);
      const chosen = [
        ...shuffleTake(near, Math.min(k, near.length), random),
        ...rest.slice(0, Math.max(0, k - near.length)),
      ];

      // Every address handed out may draw clients until the next report shows it.
      for (const p of chosen) if (counted[p]) counted[p].answers++;
      return {
        indexes: chosen.map((p) => candidates[p]!.index),
        scope: 0,
        scores: new Map(candidates.map((c, p) => [c.index, ratio[p]!])),
        scoreName: 'load_ratio',
      };
    },
  };
};
