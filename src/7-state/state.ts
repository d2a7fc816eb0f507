// Applying changesets to the in-memory state. Pure bookkeeping: no I/O here (journal.ts).

import type { HealthState } from '../3-health/types.ts';
import type { Change, Changeset, TargetState } from './types.ts';
import type { TargetSpec } from '../4-gslb/types.ts';
import { rrsetEditKey, type RRsetEdit } from '../2-zone/types.ts';

/** State.snapshot()'s shape, as a snapshot file or a worker's start-up message carries it. */
export interface StateSnapshot {
  seq: number;
  targets: [string, TargetState][];
  probes: [string, { state: HealthState; since: number }][];
  rrsets?: [string, [string, RRsetEdit][]][];
  poolTargets?: [string, [string, TargetSpec | null][]][];
}

export class State {
  readonly targets = new Map<string, TargetState>();
  readonly probes = new Map<string, { state: HealthState; since: number }>();
  /** zone → rrsetEditKey(name, type) → RRset (empty rdata: deleted). */
  readonly rrsets = new Map<string, Map<string, RRsetEdit>>();
  /** pool → address → target (null: removed). */
  readonly poolTargets = new Map<string, Map<string, TargetSpec | null>>();
  seq = 0;

  apply(cs: Changeset): void {
    for (const c of cs.changes) this.#one(c, cs.at);
    this.seq = Math.max(this.seq, cs.seq);
  }

  #one(c: Change, at: number): void {
    if (c.kind === 'probe') {
      this.probes.set(c.check, { state: c.state, since: c.since });
      return;
    }
    if (c.kind === 'rrset') {
      const zone = c.zone.toLowerCase();
      let edits = this.rrsets.get(zone);
      if (!edits) this.rrsets.set(zone, (edits = new Map()));
      edits.set(rrsetEditKey(c.name, c.type), { name: c.name, type: c.type, ttl: c.ttl, rdata: c.rdata });
      return;
    }
    if (c.kind === 'target') {
      const pool = c.pool.toLowerCase();
      let t = this.poolTargets.get(pool);
      if (!t) this.poolTargets.set(pool, (t = new Map()));
      t.set(c.address, c.target);
      return;
    }
    const cur: TargetState = this.targets.get(c.target) ?? {};
    let next: TargetState;
    const until = (validMs: number | undefined) => (validMs === undefined ? Infinity : at + validMs);
    switch (c.kind) {
      case 'weight': {
        const { weight: _, ...rest } = cur;
        next = c.weight === null ? rest : { ...rest, weight: c.weight };
        break;
      }
      case 'load':
        next = { ...cur, load: { value: { load: c.load, capacity: c.capacity }, at, expiresAt: until(c.validMs) } };
        break;
      case 'report': {
        const { report: _, ...rest } = cur;
        next =
          c.state === null
            ? rest
            : { ...rest, report: { value: { state: c.state, reason: c.reason }, at, expiresAt: until(c.validMs) } };
        break;
      }
      case 'override': {
        const { override: _, ...rest } = cur;
        next =
          c.state === null
            ? rest
            : { ...rest, override: { value: { state: c.state, reason: c.reason }, at, expiresAt: until(c.validMs) } };
        break;
      }
    }
    if (Object.keys(next).length) this.targets.set(c.target, next);
    else this.targets.delete(c.target);
  }

  /** Everything, for a snapshot; `restore` reads it back. */
  snapshot(): StateSnapshot {
    return {
      seq: this.seq,
      targets: [...this.targets],
      probes: [...this.probes],
      rrsets: [...this.rrsets].map(([z, m]) => [z, [...m]]),
      poolTargets: [...this.poolTargets].map(([p, m]) => [p, [...m]]),
    };
  }

  restore(snap: StateSnapshot): void {
    this.seq = snap.seq;
    this.targets.clear();
    this.probes.clear();
    this.rrsets.clear();
    this.poolTargets.clear();
    for (const [z, m] of snap.rrsets ?? []) this.rrsets.set(z, new Map(m));
    for (const [p, m] of snap.poolTargets ?? []) this.poolTargets.set(p, new Map(m));
    // JSON has no Infinity: a snapshot writes null for "never expires".
    for (const [id, t] of snap.targets) this.targets.set(id, reviveInfinity(t));
    for (const [k, p] of snap.probes) this.probes.set(k, p);
  }
}

export function reviveInfinity<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (k, v) => (k === 'expiresAt' && v === null ? Infinity : v)) as T;
}
