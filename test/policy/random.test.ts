import { describe, it, expect } from 'vitest';
import { random } from '../../src/3-policy/random.ts';
import { chiSquareFits, makeContext, mulberry32, sequence, tally, targets } from './helpers.ts';

describe('random', () => {
  it('draws through ctx.random: a partial Fisher–Yates over a copy', () => {
    const list = targets(4, (i) => ({ index: 10 + i }));
    // 0.5 → position 0 + floor(0.5 × 4) = 2; then 0.0 → position 1 + 0 = 1 (unchanged).
    expect(random({}).pick(list, 2, makeContext({ random: sequence(0.5, 0) })).indexes).toEqual([12, 11]);
    // 0.99 → position 3; then 0.99 → 1 + floor(0.99 × 3) = 3, which now holds the first, 10.
    expect(random({}).pick(list, 2, makeContext({ random: sequence(0.99) })).indexes).toEqual([13, 10]);
  });

  it('stays in range when an injected random() returns 1', () => {
    expect(random({}).pick(targets(3), 3, makeContext({ random: () => 1 })).indexes).toEqual([2, 0, 1]);
  });

  it('leads with each candidate uniformly (chi-square, p = 0.001) over 60,000 picks', () => {
    const policy = random({});
    const ctx = makeContext({ random: mulberry32(2024) });
    const picks = Array.from({ length: 60_000 }, () => policy.pick(targets(6), 1, ctx).indexes[0]!);
    const { statistic, critical } = chiSquareFits(tally(picks, [0, 1, 2, 3, 4, 5]), [1, 1, 1, 1, 1, 1]);
    expect(statistic).toBeLessThan(critical);
  });

  it('puts each candidate in the second place uniformly too when count > 1', () => {
    const policy = random({});
    const ctx = makeContext({ random: mulberry32(99) });
    const picks = Array.from({ length: 20_000 }, () => policy.pick(targets(5), 3, ctx).indexes[1]!);
    const { statistic, critical } = chiSquareFits(tally(picks, [0, 1, 2, 3, 4]), [1, 1, 1, 1, 1]);
    expect(statistic).toBeLessThan(critical);
  });
});
