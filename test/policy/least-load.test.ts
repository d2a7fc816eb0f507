import { describe, it, expect } from 'vitest';
import { leastLoad } from '../../src/3-policy/least-load.ts';
import type { Candidate, LoadReport } from '../../src/3-policy/types.ts';
import { chiSquareFits, makeContext, mulberry32, sequence, tally, targets } from './helpers.ts';

const report = (load: number, capacity = 100, reportedAt = 1): LoadReport => ({ load, capacity, reportedAt });
const withLoads = (...loads: (LoadReport | undefined)[]): Candidate[] =>
  targets(loads.length, (i) => (loads[i] ? { load: loads[i] } : {}));

describe('least-load', () => {
  it('picks the lowest load ratio and reports every ratio', () => {
    const s = leastLoad({}).pick(withLoads(report(50), report(20), report(90, 300)), 1, makeContext());
    expect(s.indexes).toEqual([1]);
    expect(s.scoreName).toBe('load_ratio');
    expect([...s.scores!]).toEqual([
      [0, 0.5],
      [1, 0.2],
      [2, 0.3],
    ]);
  });

  it('shifts picks to the next target after handing out enough answers since the report', () => {
    const policy = leastLoad({ answerLoad: 1, tolerance: 0 });
    const list = withLoads(report(10), report(20));
    const ctx = makeContext({ random: () => 0 });
    const picks = Array.from({ length: 15 }, () => policy.pick(list, 1, ctx).indexes[0]);
    // A: (10 + n) / 100 reaches B's 0.20 after 10 answers; from then on they alternate.
    expect(picks).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0]);
  });

  it('counts answers in load units of answerLoad', () => {
    const policy = leastLoad({ answerLoad: 5, tolerance: 0 });
    const list = withLoads(report(10), report(20));
    const picks = Array.from({ length: 4 }, () => policy.pick(list, 1, makeContext({ random: () => 0 })).indexes[0]);
    expect(picks).toEqual([0, 0, 0, 1]);
  });

  it('starts counting again when a new report arrives', () => {
    const policy = leastLoad({ tolerance: 0 });
    const ctx = makeContext({ random: () => 0 });
    for (let n = 0; n < 30; n++) policy.pick(withLoads(report(10), report(20)), 1, ctx);
    const fresh = withLoads(report(10, 100, 2), report(20));
    expect(policy.pick(fresh, 1, ctx).scores!.get(0)).toBe(0.1);
    expect(policy.pick(fresh, 1, ctx).indexes).toEqual([0]);
  });

  it('counts answers per key, so a reordered or changed list keeps the counts', () => {
    const policy = leastLoad({ tolerance: 0 });
    const ctx = makeContext({ random: () => 0 });
    const list = withLoads(report(10), report(50));
    for (let n = 0; n < 5; n++) policy.pick(list, 1, ctx);
    const reversed = [
      { ...list[1]!, index: 0 },
      { ...list[0]!, index: 1 },
    ];
    expect(policy.pick(reversed, 1, ctx).scores!.get(1)).toBe(0.15);
  });

  it('gives targets without a usable report the mean ratio of those with one', () => {
    const list = withLoads(report(20), report(40), undefined, report(5, 0));
    const s = leastLoad({}).pick(list, 1, makeContext());
    expect([...s.scores!.values()].map((r) => +r.toFixed(6))).toEqual([0.2, 0.4, 0.3, 0.3]);
  });

  it('spreads picks among targets within the tolerance of the lowest', () => {
    const policy = leastLoad({ answerLoad: 0, tolerance: 0.05 });
    const list = withLoads(report(100, 1000), report(104, 1000), report(200, 1000));
    expect(policy.pick(list, 1, makeContext({ random: () => 0 })).indexes).toEqual([0]);
    expect(policy.pick(list, 1, makeContext({ random: () => 0.99 })).indexes).toEqual([1]);
    const ctx = makeContext({ random: mulberry32(3) });
    const picks = Array.from({ length: 10_000 }, () => policy.pick(list, 1, ctx).indexes[0]!);
    const counts = tally(picks, [0, 1, 2]);
    expect(counts[2]).toBe(0);
    const { statistic, critical } = chiSquareFits(counts.slice(0, 2), [1, 1]);
    expect(statistic).toBeLessThan(critical);
  });

  it('fills count > 1 with the near-equal set first, then by ascending ratio', () => {
    const list = withLoads(report(10), report(50), report(30), report(90));
    expect(leastLoad({ tolerance: 0 }).pick(list, 3, makeContext()).indexes).toEqual([0, 2, 1]);
  });

  it('falls back to weighted random by weight when no target has a report', () => {
    const list = targets(2, (i) => ({ weight: [1, 3][i]! }));
    const s = leastLoad({}).pick(list, 1, makeContext({ random: sequence(0.1) }));
    expect(s).toEqual({ indexes: [0], scope: 0, note: 'no load reports: weighted random' });
    expect(leastLoad({}).pick(list, 2, makeContext({ random: sequence(0.5, 0.7) })).indexes).toEqual([1, 0]);

    const four = targets(4, (i) => ({ weight: i + 1 }));
    const policy = leastLoad({});
    const ctx = makeContext({ random: mulberry32(11) });
    const picks = Array.from({ length: 20_000 }, () => policy.pick(four, 1, ctx).indexes[0]!);
    const { statistic, critical } = chiSquareFits(tally(picks, [0, 1, 2, 3]), [1, 2, 3, 4]);
    expect(statistic).toBeLessThan(critical);
  });
});
