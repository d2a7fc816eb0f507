import { describe, it, expect } from 'vitest';
import { weighted } from '../../src/3-policy/weighted.ts';
import type { Candidate } from '../../src/3-policy/types.ts';
import { chiSquareFits, makeContext, mulberry32, tally, targets } from './helpers.ts';

const WEIGHTS = [1, 2, 3, 10, 50, 100];
const TOTAL = WEIGHTS.reduce((s, w) => s + w, 0);
const pool = (): Candidate[] => targets(WEIGHTS.length, (i) => ({ weight: WEIGHTS[i]! }));
const INDEXES = WEIGHTS.map((_, i) => i);

describe('weighted (smooth weighted round-robin)', () => {
  it('interleaves picks the way nginx does: 5,1,1 gives a a b a c a a', () => {
    const policy = weighted({});
    const list = targets(3, (i) => ({ weight: [5, 1, 1][i]! }));
    const firsts = Array.from({ length: 14 }, () => policy.pick(list, 1, makeContext()).indexes[0]);
    expect(firsts).toEqual([0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0]);
  });

  it('leads with each candidate exactly `weight` times in every cycle of sum(weights) picks', () => {
    const policy = weighted({});
    const list = pool();
    for (let cycle = 0; cycle < 20; cycle++) {
      const picks = Array.from({ length: TOTAL }, () => policy.pick(list, 1, makeContext()).indexes[0]!);
      expect(tally(picks, INDEXES)).toEqual(WEIGHTS);
    }
  });

  it('keeps exact proportions over whole cycles when the pool order changes between calls', () => {
    const policy = weighted({});
    const rng = mulberry32(5);
    const picks: number[] = [];
    for (let n = 0; n < TOTAL * 10; n++) {
      const list = pool().sort(() => rng() - 0.5); // state is keyed by Candidate.key, not position
      picks.push(policy.pick(list, 1, makeContext()).indexes[0]!);
    }
    expect(tally(picks, INDEXES)).toEqual(WEIGHTS.map((w) => w * 10));
  });

  it('fits the weights (chi-square, p = 0.001) over 10,007 picks', () => {
    const policy = weighted({});
    const list = targets(4, (i) => ({ weight: i + 1 }));
    const picks = Array.from({ length: 10_007 }, () => policy.pick(list, 1, makeContext()).indexes[0]!);
    const { statistic, critical } = chiSquareFits(tally(picks, [0, 1, 2, 3]), [1, 2, 3, 4]);
    expect(statistic).toBeLessThan(critical);
  });

  it('keeps the survivors within ±2 of their share after a target leaves mid-cycle', () => {
    const policy = weighted({});
    for (let n = 0; n < 77; n++) policy.pick(pool(), 1, makeContext());
    const rest = pool().filter((c) => c.index !== 4);
    const total = TOTAL - 50;
    const picks = Array.from({ length: total * 30 }, () => policy.pick(rest, 1, makeContext()).indexes[0]!);
    const counts = tally(picks, [0, 1, 2, 3, 5]);
    [1, 2, 3, 10, 100].forEach((w, i) => expect(Math.abs(counts[i]! - w * 30)).toBeLessThanOrEqual(2));
  });

  it('takes a returning target back at the average, neither ahead nor behind', () => {
    const policy = weighted({});
    const list = targets(2, () => ({ weight: 1 }));
    policy.pick(list, 1, makeContext());
    policy.pick([list[0]!], 1, makeContext());
    // Survivor t0 is re-centred to 0, newcomer t1 starts at 0: a tie, broken by pool order.
    const picks = Array.from({ length: 4 }, () => policy.pick(list, 1, makeContext()).indexes[0]);
    expect(picks).toEqual([0, 1, 0, 1]);
  });

  it('previews the next distinct picks for count > 1 without disturbing the leading sequence', () => {
    const list = targets(3, (i) => ({ weight: [5, 1, 1][i]! }));
    const multi = weighted({});
    const answers = Array.from({ length: 3 }, () => multi.pick(list, 2, makeContext()).indexes);
    expect(answers).toEqual([
      [0, 1],
      [0, 1],
      [1, 0],
    ]);

    const one = weighted({});
    const three = weighted({});
    for (let n = 0; n < 200; n++) {
      const lead = one.pick(pool(), 1, makeContext()).indexes[0];
      const s = three.pick(pool(), 3, makeContext());
      expect(s.indexes[0]).toBe(lead);
      expect(new Set(s.indexes).size).toBe(3);
    }
  });
});
