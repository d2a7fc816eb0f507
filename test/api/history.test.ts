// StatusHistory, the status page's charts' data: rates and shares per step from cumulative counts,
// a count that goes back (a restarted worker) counted from 0, spans of each target's state, a ring
// that keeps one span of samples and no more, and a cap on the number of series.

import { describe, expect, it } from 'vitest';
import { StatusHistory, type HistorySample } from '../../src/9-main/history.ts';

const sample = (
  queries: Record<string, number>,
  answers: Record<string, number> = {},
  states: Record<string, [string, string]> = {},
): HistorySample => ({
  queries: new Map(Object.entries(queries)),
  answers: new Map(Object.entries(answers)),
  states: new Map(Object.entries(states).map(([k, [state, because]]) => [k, { state, because }])),
});

describe('StatusHistory', () => {
  it('gives queries per second per step, a series first seen counting from 0, a reset from 0', () => {
    const h = new StatusHistory({ stepMs: 10_000 });
    h.add(0, sample({ 'a.\tNOERROR': 100 }));
    h.add(10_000, sample({ 'a.\tNOERROR': 150, 'a.\tNXDOMAIN': 20 }));
    h.add(20_000, sample({ 'a.\tNOERROR': 30, 'a.\tNXDOMAIN': 20 }));
    const v = h.view();
    expect(v.times).toEqual([10, 20]);
    expect(v.queries).toEqual([
      { zone: 'a.', rcode: 'NOERROR', values: [5, 3], counts: [50, 30] },
      { zone: 'a.', rcode: 'NXDOMAIN', values: [2, 0], counts: [20, 0] },
    ]);
  });

  it("gives each target's share of its pool per step, null in a step without answers", () => {
    const h = new StatusHistory({ stepMs: 1000 });
    h.add(0, sample({}, { 'p.\t192.0.2.1': 0, 'p.\t192.0.2.2': 0 }));
    h.add(1000, sample({}, { 'p.\t192.0.2.1': 3, 'p.\t192.0.2.2': 1 }));
    h.add(2000, sample({}, { 'p.\t192.0.2.1': 3, 'p.\t192.0.2.2': 1 }));
    expect(h.view().shares).toEqual([
      {
        pool: 'p.',
        targets: [
          { address: '192.0.2.1', values: [0.75, null] },
          { address: '192.0.2.2', values: [0.25, null] },
        ],
      },
    ]);
  });

  it('gives the share over the last minute up to the counts now, the partial step included', () => {
    const h = new StatusHistory({ stepMs: 30_000 });
    h.add(0, sample({}, { 'p.\ta': 100, 'p.\tb': 0 }));
    h.add(30_000, sample({}, { 'p.\ta': 100, 'p.\tb': 0 }));
    h.add(60_000, sample({}, { 'p.\ta': 101, 'p.\tb': 1 }));
    const live = new Map([
      ['p.\ta', 102],
      ['p.\tb', 4],
    ]);
    // From the sample at 30 s (the oldest within a minute of 70 s): a +2, b +4.
    expect(h.view({ at: 70_000, answers: live }).share_1m).toEqual({ 'p.\ta': 0.3333, 'p.\tb': 0.6667 });
    expect(h.view({ at: 70_000, answers: new Map([['p.\ta', 100]]) }).share_1m).toEqual({ 'p.\ta': null });
  });

  it("turns each target's verdict per sample into spans of state and deciding signal", () => {
    const h = new StatusHistory({ stepMs: 1000 });
    const t = 'p.\t192.0.2.1';
    h.add(1000, sample({}, {}, { [t]: ['up', 'probe'] }));
    h.add(2000, sample({}, {}, { [t]: ['up', 'probe'] }));
    h.add(3000, sample({}, {}, { [t]: ['drain', 'override'] }));
    h.add(4000, sample({}, {}, { [t]: ['down', 'probe'] }));
    h.add(5000, sample({}, {}, { [t]: ['down', 'probe'] }));
    expect(h.view().states).toEqual([
      {
        pool: 'p.',
        address: '192.0.2.1',
        spans: [
          { from: 1, to: 2, state: 'up', because: 'probe' },
          { from: 3, to: 3, state: 'drain', because: 'override' },
          { from: 4, to: 5, state: 'down', because: 'probe' },
        ],
      },
    ]);
  });

  it('keeps one span of samples: the oldest go as new ones come', () => {
    const h = new StatusHistory({ stepMs: 1000, spanMs: 5000 });
    for (let i = 0; i <= 20; i++) h.add(i * 1000, sample({ 'a.\tNOERROR': i * 2 }));
    const v = h.view();
    expect(v.times).toEqual([16, 17, 18, 19, 20]);
    expect(v.queries[0]!.values).toEqual([2, 2, 2, 2, 2]);
  });

  it('keeps at most maxSeries series of a kind, and says it left some out', () => {
    const h = new StatusHistory({ stepMs: 1000, maxSeries: 2 });
    h.add(0, sample({ 'a.\tNOERROR': 1, 'b.\tNOERROR': 1, 'c.\tNOERROR': 1 }));
    h.add(1000, sample({ 'a.\tNOERROR': 2, 'b.\tNOERROR': 2, 'c.\tNOERROR': 2 }));
    const v = h.view();
    expect(v.queries.map((q) => q.zone)).toEqual(['a.', 'b.']);
    expect(v.truncated).toBe(true);
  });
});
