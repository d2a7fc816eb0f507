// The Policy interface: how a pool chooses among its healthy targets.
//
// Contract (every policy passes test/policy/conformance.ts):
// - `pick` receives only usable candidates (healthy, weight > 0), never an empty list, and
//   returns between 1 and min(count, candidates.length) DISTINCT candidate `index` values.
// - It never mutates `candidates`; it may keep its own per-pool state (counters), created by its
//   factory, because one Policy instance serves one pool.
// - Randomness and time come only from the context (`ctx.random`, `ctx.now`), so tests are exact.
// - `scope` is the RFC 7871 SCOPE PREFIX-LENGTH the choice depended on: 0 when it did not
//   depend on the client at all; for client-dependent policies the widest prefix for which
//   every client would get the same choice (never more than the ECS source prefix).

import type { GeoLocation, GeoPoint } from '../3-geo/types.ts';

export interface LoadReport {
  readonly load: number;
  readonly capacity: number;
  /** When the monitor reported it (ms): least-load counts answers handed out since then. */
  readonly reportedAt: number;
}

/** Where a target or a group stands for the geo and failover policies (pools files, the API). */
export interface Placement {
  readonly location?: GeoPoint;
  /** Route 53-style geoproximity bias, -99..99: positive widens the target's area. */
  readonly bias?: number;
  /** Failover tier, 1 = first. */
  readonly priority?: number;
  /** geo-map keys this target serves: ISO country codes, continent codes, or 'default'. */
  readonly regions?: readonly string[];
}

export interface Candidate extends Placement {
  /** Position of the target in its pool: what `pick` returns. */
  readonly index: number;
  /** Stable identity (address, or the target's name): hashed by affinity. */
  readonly key: string;
  /** 1..100 (0 never reaches a policy: drained targets are filtered out before). */
  readonly weight: number;
  /** Latest monitor load report still within its validity, if any. */
  readonly load?: LoadReport;
}

export interface Client {
  /** Address the decision is about: the ECS address when the query had one, else the source. */
  readonly address: string;
  readonly family: 4 | 6;
  /** Bits of `address` that are known: the ECS source prefix, or 32/128 for a source address. */
  readonly prefix: number;
  /** Location of `address`; looked up once, on first use. */
  location(): GeoLocation | null;
}

export interface PolicyContext {
  readonly client: Client;
  /** Uniform in [0, 1). */
  random(): number;
  /** Milliseconds, like Date.now(). */
  now(): number;
}

export interface Selection {
  /** Chosen candidate indexes (Candidate.index values), best first. */
  readonly indexes: readonly number[];
  /** ECS scope the choice depended on (see the contract above). */
  readonly scope: number;
  /** For /explain: each considered candidate's score (distance km, load ratio, hash, ...). */
  readonly scores?: ReadonlyMap<number, number>;
  /** What the scores mean, e.g. 'distance_km'. */
  readonly scoreName?: string;
  /** A short reason when the policy had to fall back (unknown client location, ...). */
  readonly note?: string;
}

export interface Policy {
  readonly name: string;
  pick(candidates: readonly Candidate[], count: number, ctx: PolicyContext): Selection;
}

/** Options a policy is created with, from the pool's configuration. */
export interface PolicyOptions {
  /** least-load: load units one handed-out answer is assumed to add until the next report (default 1). */
  readonly answerLoad?: number;
  /** least-load: targets within this fraction of the lowest load ratio count as equal (default 0.05). */
  readonly tolerance?: number;
  /** geo-proximity / geo-map: policy used when the client's location is unknown. */
  readonly fallback?: Policy;
}

export type PolicyFactory = (options: PolicyOptions) => Policy;
