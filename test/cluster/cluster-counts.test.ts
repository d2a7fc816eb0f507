// ClusterCounts, the charts' counts summed over the nodes of a cluster: this node's exactly, every
// other's over the same step a step late, read off the line through its published samples, so the
// totals never go back, a restart counts from 0, and nodes that sample at other moments, a node
// first seen with a large count, and a gap in the readings give no spike.

import { describe, expect, it } from 'vitest';
import type { NodeCounts } from '../../src/7-state/node-counts.ts';
import { ClusterCounts } from '../../src/9-main/cluster-counts.ts';

const STEP = 1000;
const q = (n: number) => new Map([['z.\tNOERROR', n]]);
const own = (n = 0) => ({ queries: q(n), answers: new Map<string, number>() });
const pub = (node: string, at: number, n: number, boot = 'boot-1'): NodeCounts => ({
  node,
  boot,
  at,
  queries: q(n),
  answers: new Map(),
});

/** Runs samples at STEP, 2·STEP, … with what etcd holds then; each step's increase of the total. */
function steps(c: ClusterCounts, readings: (readonly NodeCounts[] | null)[], ownCounts?: number[]): number[] {
  let before = 0;
  return readings.map((others, i) => {
    const total = c.add((i + 1) * STEP, own(ownCounts?.[i] ?? 0), others).queries.get('z.\tNOERROR') ?? 0;
    const d = total - before;
    before = total;
    return d;
  });
}

describe('ClusterCounts', () => {
  it("adds this node's counts exactly, a count that went back counted from 0", () => {
    const c = new ClusterCounts('a', STEP);
    expect(steps(c, [[], [], [], []], [5, 12, 3, 10])).toEqual([5, 7, 3, 7]);
  });

  it("adds another node's counts over the step a step ago, between its samples", () => {
    const c = new ClusterCounts('a', STEP);
    // b samples half a step after a, 10 queries a step.
    const readings = [0, 1, 2, 3, 4].map((i) => [pub('b', 500 + i * STEP, 10 * i)]);
    expect(steps(c, readings)).toEqual([0, 5, 10, 10, 10]);
    expect(c.add(6 * STEP, own(), [pub('b', 5500, 50)]).nodes).toEqual(['a', 'b']);
  });

  it('gives every step its share when the other node samples at nearly the same moments', () => {
    const c = new ClusterCounts('a', STEP);
    // b's samples land just before, then just after a's readings: "the latest value" would give a
    // step 20 queries and the next none.
    const readings: NodeCounts[][] = [];
    let seen: NodeCounts[] = [];
    for (let i = 0; i < 12; i++) {
      const at = (i + 1) * STEP + (i % 2 ? 2 : -2);
      const p = pub('b', at, 10 * i);
      if (i % 2 === 0 || i === 0) seen = [p];
      readings.push(i % 2 ? seen : [p]);
    }
    const d = steps(c, readings).slice(3);
    for (const x of d) expect(x).toBeGreaterThanOrEqual(9);
    for (const x of d) expect(x).toBeLessThanOrEqual(11);
  });

  it('starts a node first seen from its count then, not from 0', () => {
    const c = new ClusterCounts('a', STEP);
    const readings = [[], [pub('b', 1500, 100_000)], [pub('b', 2500, 100_010)], [pub('b', 3500, 100_020)]];
    expect(steps(c, readings)).toEqual([0, 0, 5, 10]);
  });

  it('counts a node that restarted (a new boot) from 0 again, never going back', () => {
    const c = new ClusterCounts('a', STEP);
    const readings = [
      [pub('b', 500, 100)],
      [pub('b', 1500, 110)],
      [pub('b', 2500, 120)],
      [pub('b', 3500, 4, 'boot-2')],
      [pub('b', 4500, 14, 'boot-2')],
      [pub('b', 5500, 24, 'boot-2')],
    ];
    const d = steps(c, readings);
    expect(d).toEqual([0, 5, 10, 7, 7, 10]);
    expect(d.reduce((a, b) => a + b)).toBe(39);
  });

  it('counts the rest of a node gone from etcd, then leaves it out', () => {
    const c = new ClusterCounts('a', STEP);
    const d = steps(c, [[pub('b', 500, 0)], [pub('b', 1500, 10)], [], [], []]);
    expect(d).toEqual([0, 5, 5, 0, 0]);
    expect(c.add(6 * STEP, own(), []).nodes).toEqual(['a']);
  });

  it('adds what another node counted while its newest sample was late, once one comes', () => {
    const c = new ClusterCounts('a', STEP);
    // b's sample of 2.5 s is not there when a reads at 3 s, nor ever seen (b's next replaced it):
    // the step to 2 s gets what b's line had then, the step to 3 s the rest with its own.
    const readings = [
      [pub('b', 500, 0)],
      [pub('b', 1500, 10)],
      [pub('b', 1500, 10)],
      [pub('b', 3500, 30)],
      [pub('b', 4500, 40)],
    ];
    const d = steps(c, readings);
    expect(d).toEqual([0, 5, 5, 15, 10]);
    // Every query b counted up to 4 s (a step before the last sample), once.
    expect(d.reduce((a, b) => a + b)).toBe(35);
  });

  it('leaves out what another node counted while etcd could not be read, instead of counting it at once', () => {
    const c = new ClusterCounts('a', STEP);
    const readings = [
      [pub('b', 500, 0)],
      [pub('b', 1500, 10)],
      null,
      null,
      null,
      [pub('b', 5500, 50)],
      [pub('b', 6500, 60)],
    ];
    const d = steps(c, readings);
    expect(d).toEqual([0, 5, 5, 0, 0, 0, 5]);
    // Readings lost, nodes kept: b is still summed.
    expect(c.add(8 * STEP, own(), null).nodes).toEqual(['a', 'b']);
  });
});
