// What the API needs from a running gslbd, and how it is configured.

import type { NameKey } from '../0-base/name.ts';
import type { CheckSource } from '../7-state/target-health.ts';
import type { StateStore } from '../7-state/types.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { ExplainRequest } from '../5-answer/explain.ts';

/**
 * The server the API reads and changes (Service implements it). The API never changes zones
 * itself: it commits changesets through `state.transact`, and the server re-publishes the touched
 * zones as the changeset is applied, before `transact` calls `after`; so the view `after` takes,
 * and the zones read once `transact` resolves, already show the change.
 */
export interface ApiBackend {
  /** `find`: the zone served here that holds `name` (the longest origin above it), as for a query. */
  readonly zones: {
    get(origin: NameKey): PooledZone | undefined;
    all(): PooledZone[];
    find(name: NameKey): PooledZone | undefined;
  };
  readonly state: StateStore;
  /** Probe state of each target that has a check. */
  readonly checker: CheckSource;
  /** Operator endpoints (operations.ts); absent in tests that need only the data API. */
  readonly operations?: Operations;
  /** Counts changes submitted, keyed `source\tresult` (gslbd_updates_total); absent: not counted. */
  readonly updates?: { add(key: string): void };
  /** Most changes one request may make (`--max-changes`); more get 413. Default DEFAULT_MAX_CHANGES. */
  readonly maxChanges?: number;
}

export interface Operations {
  readonly metrics: { readonly contentType: string; metrics(): Promise<string> };
  explain(req: ExplainRequest): unknown;
  status(): unknown;
  reload(): Promise<{ loaded: number; failed: number }>;
  /** The cluster's nodes (GET /v1/cluster, `gslbd cluster status`); null (or absent): not a cluster node. */
  cluster?(): Promise<unknown>;
}
