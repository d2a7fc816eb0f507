// The charts' counts summed over the nodes of a cluster. Every node publishes its cumulative counts
// once a step (7-state/node-counts.ts); each node's sample adds to running totals what each node
// counted since its previous sample, so the totals only grow and StatusHistory's rates are right:
//
// - this node's own increase, exactly (a count that went back counts from 0);
// - every other node's count a step ago, read off the line through the samples it published, less
//   what was added of it already. Nodes sample at moments of their own: taking "the latest value"
//   would now and then give a step two of another node's samples and the next step none (a rate
//   doubled, then 0). A step late, there is nearly always a sample on each side to read between.
// - a node first seen starts from its count then: what it counted before is not this step's. A
//   node whose `boot` changed restarted and counts from 0: its old counts stay as an offset, so its
//   line goes on rising (a reset, as Prometheus treats one).
// - a node gone (its lease expired) still gives the part of its line not yet added, then leaves.
// - a node whose samples are more than GAP_STEPS steps apart (etcd could not be read meanwhile, or
//   the node could not write) starts again from its count after the gap, like a node first seen:
//   the gap is left out of the charts rather than counted all in one step.

import type { NodeCounts } from '../7-state/node-counts.ts';

type Counts = ReadonlyMap<string, number>;
type Kind = 'queries' | 'answers';
const KINDS: readonly Kind[] = ['queries', 'answers'];

/** One published sample, counts made non-decreasing across resets. */
interface Point {
  readonly at: number;
  readonly queries: Map<string, number>;
  readonly answers: Map<string, number>;
}

/** Samples of a node further apart than this many steps: a gap, not counted (see above). */
const GAP_STEPS = 3;

/** What this node knows of another: its samples still needed, and its resets so far. */
interface Line {
  boot: string;
  /** The counts as published last, and what the resets before add to them. */
  readonly raw: Record<Kind, Map<string, number>>;
  readonly offset: Record<Kind, Map<string, number>>;
  /** In time order; the first is at or before the last time the line was read. */
  points: Point[];
  /** The line's values added to the totals so far. */
  readonly added: Record<Kind, Map<string, number>>;
  live: boolean;
}

export interface ClusterSum {
  readonly queries: ReadonlyMap<string, number>;
  readonly answers: ReadonlyMap<string, number>;
  /** The nodes summed: this one and every other found in etcd at the last reading. */
  readonly nodes: readonly string[];
}

export class ClusterCounts {
  readonly #self: string;
  readonly #lagMs: number;
  readonly #totals: Record<Kind, Map<string, number>> = { queries: new Map(), answers: new Map() };
  /** This node's counts at the last sample. */
  #own: Record<Kind, Map<string, number>> = { queries: new Map(), answers: new Map() };
  readonly #lines = new Map<string, Line>();
  /** The time up to which other nodes' lines have been counted (the last sample's less the lag). */
  #upTo: number | null = null;

  /** `self`: this node's name; `lagMs`: how far back other nodes are read (a step). */
  constructor(self: string, lagMs: number) {
    this.#self = self;
    this.#lagMs = lagMs;
  }

  /**
   * The sample at `now`: this node's counts, and every live node's as read from etcd (null: etcd
   * could not be read). Returns the running totals, rounded to whole counts: a share of another
   * node's step is a fraction, and the rounded totals still never go back.
   */
  add(now: number, own: { queries: Counts; answers: Counts }, others: readonly NodeCounts[] | null): ClusterSum {
    for (const kind of KINDS) {
      const last = this.#own[kind];
      for (const [key, v] of own[kind]) {
        const before = last.get(key) ?? 0;
        this.#credit(kind, key, v < before ? v : v - before);
      }
      this.#own[kind] = new Map(own[kind]);
    }
    if (others) {
      const seen = new Set<string>();
      for (const c of others) {
        if (c.node === this.#self) continue;
        seen.add(c.node);
        this.#observe(c);
      }
      for (const [node, line] of this.#lines) line.live = seen.has(node);
    }
    const upTo = now - this.#lagMs;
    if (this.#upTo !== null && upTo > this.#upTo) {
      for (const line of this.#lines.values())
        for (const kind of KINDS) {
          const added = line.added[kind];
          // The last point has every key of the line (each point carries the keys before it).
          for (const key of line.points.at(-1)?.[kind].keys() ?? []) {
            const v = valueAt(line.points, kind, key, upTo);
            const before = added.get(key) ?? 0;
            if (v <= before) continue;
            this.#credit(kind, key, v - before);
            added.set(key, v);
          }
        }
    }
    if (this.#upTo === null || upTo > this.#upTo) this.#upTo = upTo;
    this.#prune(this.#upTo);
    return {
      queries: rounded(this.#totals.queries),
      answers: rounded(this.#totals.answers),
      nodes: [this.#self, ...[...this.#lines].filter(([, l]) => l.live).map(([n]) => n)].sort(),
    };
  }

  /** The answers' totals with this node's counts now in place of its last sample's (the partial step). */
  live(answers: Counts): Map<string, number> {
    const out = rounded(this.#totals.answers);
    const last = this.#own.answers;
    for (const [key, v] of answers) {
      const before = last.get(key) ?? 0;
      out.set(key, (out.get(key) ?? 0) + (v < before ? v : v - before));
    }
    return out;
  }

  #credit(kind: Kind, key: string, n: number): void {
    if (n > 0 || !this.#totals[kind].has(key)) this.#totals[kind].set(key, (this.#totals[kind].get(key) ?? 0) + n);
  }

  /** A node's published counts: a new point on its line (nothing when it is the one seen already). */
  #observe(c: NodeCounts): void {
    let line = this.#lines.get(c.node);
    const last = line?.points.at(-1);
    if (line && last && line.boot === c.boot && c.at <= last.at) return; // the same sample again
    // First seen, back after it dropped out, or after a gap: its line starts here.
    if (!line || !line.live || (last && c.at - last.at > GAP_STEPS * this.#lagMs)) {
      const fresh: Line = {
        boot: c.boot,
        raw: { queries: new Map(), answers: new Map() },
        offset: { queries: new Map(), answers: new Map() },
        points: [],
        added: { queries: new Map(c.queries), answers: new Map(c.answers) },
        live: true,
      };
      this.#lines.set(c.node, (line = fresh));
    }
    const prev = line.points.at(-1);
    const restarted = line.boot !== c.boot;
    line.boot = c.boot;
    const point: Point = { at: Math.max(c.at, (prev?.at ?? -Infinity) + 1), queries: new Map(), answers: new Map() };
    for (const kind of KINDS) {
      const { raw, offset } = { raw: line.raw[kind], offset: line.offset[kind] };
      // A restart, or a count that went back: what was counted before stays, as an offset.
      for (const [key, v] of raw)
        if (restarted || (c[kind].get(key) ?? v) < v) offset.set(key, (offset.get(key) ?? 0) + v);
      if (restarted) raw.clear();
      for (const [key, v] of c[kind]) raw.set(key, v);
      if (prev) for (const [key, v] of prev[kind]) point[kind].set(key, v);
      for (const [key, v] of raw) point[kind].set(key, v + (offset.get(key) ?? 0));
    }
    line.points.push(point);
  }

  /** Drops the points no later time needs, and the lines of nodes gone whose last point is passed. */
  #prune(upTo: number): void {
    for (const [node, line] of this.#lines) {
      let first = 0;
      while (first + 1 < line.points.length && line.points[first + 1]!.at <= upTo) first++;
      line.points = line.points.slice(first);
      if (!line.live && (line.points.at(-1)?.at ?? -Infinity) <= upTo) this.#lines.delete(node);
    }
  }
}

const rounded = (m: Counts): Map<string, number> => new Map([...m].map(([k, v]) => [k, Math.round(v)]));

/**
 * A line's value at `t`: linear between the points around it, the first point's before it (where
 * the line starts), the last one's after it. A key not yet in a point counts 0 there.
 */
function valueAt(points: readonly Point[], kind: Kind, key: string, t: number): number {
  const first = points[0];
  if (!first) return 0;
  if (t <= first.at) return first[kind].get(key) ?? 0;
  for (let i = 1; i < points.length; i++) {
    const b = points[i]!;
    if (t <= b.at) {
      const a = points[i - 1]!;
      const va = a[kind].get(key) ?? 0;
      const vb = b[kind].get(key) ?? 0;
      return va + ((vb - va) * (t - a.at)) / (b.at - a.at);
    }
  }
  return points.at(-1)![kind].get(key) ?? 0;
}
