import { describe, it, expect } from 'vitest';
import { failover } from '../../src/3-policy/failover.ts';
import { makeContext, targets } from './helpers.ts';

describe('failover', () => {
  const pool = targets(5, (i) => ({ priority: [2, 1, 3, 1, 2][i] }));

  it('serves only the lowest tier present, in pool order', () => {
    expect(failover({}).pick(pool, 5, makeContext()).indexes).toEqual([1, 3]);
    expect(failover({}).pick(pool, 1, makeContext()).indexes).toEqual([1]);
  });

  it('moves to the next tier when the first tier is gone', () => {
    const rest = pool.filter((c) => c.priority !== 1);
    expect(failover({}).pick(rest, 3, makeContext()).indexes).toEqual([0, 4]);
    expect(
      failover({}).pick(
        rest.filter((c) => c.priority === 3),
        3,
        makeContext(),
      ).indexes,
    ).toEqual([2]);
  });

  it('counts a missing priority as tier 1', () => {
    const mixed = targets(3, (i) => (i === 2 ? {} : { priority: 2 }));
    expect(failover({}).pick(mixed, 2, makeContext()).indexes).toEqual([2]);
  });

  it('answers the same on every call, with scope 0', () => {
    const policy = failover({});
    const answers = Array.from({ length: 3 }, () => policy.pick(pool, 1, makeContext()));
    expect(answers.map((s) => [s.indexes, s.scope])).toEqual([
      [[1], 0],
      [[1], 0],
      [[1], 0],
    ]);
  });
});
