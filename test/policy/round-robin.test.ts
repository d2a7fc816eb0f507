import { describe, it, expect } from 'vitest';
import { roundRobin } from '../../src/3-policy/round-robin.ts';
import { chiSquareFits, makeContext, tally, targets } from './helpers.ts';

const firsts = (n: number, picks: number, list = targets(n), count = 1): number[] => {
  const policy = roundRobin({});
  return Array.from({ length: picks }, () => policy.pick(list, count, makeContext()).indexes[0]!);
};

describe('round-robin', () => {
  it('starts each answer one candidate further on', () => {
    const policy = roundRobin({});
    const list = targets(3);
    const answers = Array.from({ length: 4 }, () => policy.pick(list, 1, makeContext()).indexes);
    expect(answers).toEqual([[0], [1], [2], [0]]);
  });

  it('returns consecutive candidates from the rotating offset when count > 1', () => {
    const policy = roundRobin({});
    const list = targets(3, (i) => ({ index: 10 + i }));
    const answers = Array.from({ length: 3 }, () => policy.pick(list, 2, makeContext()).indexes);
    expect(answers).toEqual([
      [10, 11],
      [11, 12],
      [12, 10],
    ]);
  });

  it('leads with every candidate equally often over whole cycles, whatever the count', () => {
    const policy = roundRobin({});
    const list = targets(7);
    const picks = Array.from({ length: 7 * 300 }, (_, i) => policy.pick(list, 1 + (i % 4), makeContext()).indexes[0]!);
    expect(new Set(tally(picks, [0, 1, 2, 3, 4, 5, 6]))).toEqual(new Set([300]));
  });

  it('leads with every candidate equally often within ±1 on a partial cycle', () => {
    const counts = tally(firsts(6, 10_003), [0, 1, 2, 3, 4, 5]);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
  });

  it('fits a uniform distribution (chi-square, p = 0.001) over 12,000 picks', () => {
    const { statistic, critical } = chiSquareFits(tally(firsts(6, 12_000), [0, 1, 2, 3, 4, 5]), [1, 1, 1, 1, 1, 1]);
    expect(statistic).toBeLessThan(critical);
  });

  it('keeps its counter modulo the current length when the list shrinks and grows', () => {
    const policy = roundRobin({});
    const five = targets(5);
    for (let i = 0; i < 4; i++) policy.pick(five, 1, makeContext()); // next offset: 4
    expect(policy.pick(targets(2), 1, makeContext()).indexes).toEqual([0]); // 4 mod 2
    expect(policy.pick(targets(2), 1, makeContext()).indexes).toEqual([1]);
    expect(policy.pick(five, 1, makeContext()).indexes).toEqual([0]);
    expect(policy.pick(five, 1, makeContext()).indexes).toEqual([1]);
  });
});
