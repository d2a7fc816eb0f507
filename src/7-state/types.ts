// Dynamic state: everything that changes while gslbd runs (monitor reports, overrides, weights,
// probe verdicts), as changesets. A changeset is one self-contained object, applied whole or not
// at all, journaled before it is acknowledged, and the unit a cluster would replicate (etcd).

import { GslbError } from '../0-base/errors.ts';
import type { HealthState } from '../3-health/types.ts';
import type { RRsetEdits } from '../2-zone/types.ts';
import type { TargetSpec } from '../4-gslb/types.ts';

export type OverrideState = 'up' | 'down' | 'drain';

export type Change =
  /** Weight in force instead of the configured one; null returns to the configured weight. */
  | { readonly kind: 'weight'; readonly target: string; readonly weight: number | null }
  /** Monitor load report, valid for `validMs`. */
  | {
      readonly kind: 'load';
      readonly target: string;
      readonly load: number;
      readonly capacity: number;
      readonly validMs: number;
    }
  /** Monitor health report; `validMs` absent: until replaced. state null clears it. */
  | {
      readonly kind: 'report';
      readonly target: string;
      readonly state: HealthState | null;
      readonly reason: string;
      readonly validMs?: number;
    }
  /** Admin override; wins over every other signal until it expires. state null clears it. */
  | {
      readonly kind: 'override';
      readonly target: string;
      readonly state: OverrideState | null;
      readonly reason: string;
      readonly validMs?: number;
    }
  /** A probe check changed state (kept for warm start). */
  | { readonly kind: 'probe'; readonly check: string; readonly state: HealthState; readonly since: number }
  /**
   * Zone data: the RRset (name, type) of zone `zone` becomes `rdata` (wire RDATA, hex) with `ttl`;
   * an empty `rdata` deletes it. Names in presentation form. Applied over the zone file.
   */
  | {
      readonly kind: 'rrset';
      readonly zone: string;
      readonly name: string;
      readonly type: number;
      readonly ttl: number;
      readonly rdata: readonly string[];
    }
  /** A pool target added or replaced (`target` set) or removed (`target` null), by address. */
  | { readonly kind: 'target'; readonly pool: string; readonly address: string; readonly target: TargetSpec | null };

export interface Changeset {
  /** Position in the journal: 1, 2, 3 ... */
  readonly seq: number;
  /** When it was accepted (ms). Validity periods count from here. */
  readonly at: number;
  /** Who made it: 'api:<token name>', 'update:<key name>', 'probe', 'transfer' (a serial bump, 9-main/transfer-serials.ts). */
  readonly source: string;
  readonly changes: readonly Change[];
}

export interface Expiring<T> {
  readonly value: T;
  readonly at: number;
  /** Infinity when it does not expire. */
  readonly expiresAt: number;
}

/** What is known of one target beyond its configuration. */
export interface TargetState {
  readonly weight?: number;
  readonly load?: Expiring<{ readonly load: number; readonly capacity: number }>;
  readonly report?: Expiring<{ readonly state: HealthState; readonly reason: string }>;
  readonly override?: Expiring<{ readonly state: OverrideState; readonly reason: string }>;
}

/** The state store: what the answer path reads and what updates write. */
/**
 * The state store: what the answer path reads and what every change goes through.
 *
 * The contract (test/state/store-suite.ts checks it for every store):
 * - **One commit path, durable before visible.** `transact` runs its steps in this order: `build`
 *   (validate against the state as it is, and say what changes), make the changeset durable,
 *   apply it in memory and tell the `onChange` listeners (zones re-published, workers), run
 *   `after` (the caller's view of the result), resolve. Nothing reads a change before it is
 *   durable, and an acknowledged change survives a crash.
 * - **Serialized.** Transactions run one at a time, in call order: each `build` sees every earlier
 *   transaction applied, so a check and the change it guards cannot be separated by another writer.
 * - **All or nothing.** A `build` that throws changes nothing (the promise rejects with its error).
 *   A changeset that cannot be made durable (disk full, I/O error, read-only directory) is applied
 *   nowhere: the promise rejects with a NotDurableError and the state stays as it was.
 * - **Replay.** After a restart the store holds exactly the acknowledged changesets, in order
 *   (`seq` 1, 2, 3 …); a torn last record (a crash mid-write) was never acknowledged and is dropped.
 */
export interface StateStore {
  /**
   * The one way to change anything. Resolves with the changeset (null when `build` returned no
   * changes: nothing is written) and what `after` returned, once the change is durable, applied
   * and every listener's promise has settled.
   */
  transact<T>(
    source: string,
    build: () => readonly Change[],
    after: () => T,
  ): Promise<{ readonly changeset: Changeset | null; readonly view: T }>;
  /** `transact` with fixed changes and no view. */
  commit(source: string, changes: readonly Change[]): Promise<Changeset | null>;
  target(id: string): TargetState | undefined;
  /** Last known state of each probe check (warm start). */
  probes(): ReadonlyMap<string, { readonly state: HealthState; readonly since: number }>;
  /** Dynamic RRsets of a zone (origin in presentation form, lower case). */
  rrsets(zone: string): RRsetEdits | undefined;
  /** Dynamic targets of a pool (owner in presentation form, lower case): address → spec or null (removed). */
  targets(pool: string): ReadonlyMap<string, TargetSpec | null> | undefined;
}

/**
 * A changeset that could not be made durable: it was applied nowhere. `ERR_NOT_DURABLE` for the
 * journal (disk full, I/O error), `ERR_CLUSTER_UNAVAILABLE` for the cluster store (etcd unreachable).
 */
export class NotDurableError extends GslbError {
  declare readonly code: 'ERR_NOT_DURABLE' | 'ERR_CLUSTER_UNAVAILABLE';
  override readonly cause: Error;
  constructor(cause: Error, code: 'ERR_NOT_DURABLE' | 'ERR_CLUSTER_UNAVAILABLE' = 'ERR_NOT_DURABLE') {
    super(
      code,
      code === 'ERR_NOT_DURABLE'
        ? `the change could not be made durable, so it was not made: ${cause.message}`
        : `the cluster store did not commit the change, so it was not made: ${cause.message}`,
    );
    this.cause = cause;
  }
}
