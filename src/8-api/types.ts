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
  /** Zones and pools, and (with `--config`) gslbd.yaml's tokens, allow list, limit, certificate and TSIG keys. */
  reload(): Promise<{ loaded: number; failed: number; config?: ConfigReport }>;
  /** The cluster's nodes (GET /v1/cluster, `gslbd cluster status`); null (or absent): not a cluster node. */
  cluster?(): Promise<unknown>;
  /** The status page's charts over the last hour (GET /v1/history); absent: no route. */
  history?(): Promise<unknown>;
}

/** How the last reading of gslbd.yaml went (/v1/status, /v1/reload): a broken file keeps the settings before it. */
export interface ConfigReport {
  readonly file: string;
  /** The last reading took effect. */
  readonly ok: boolean;
  /** Why it did not: every `file:line: path: reason`, one a line; null when ok. */
  readonly error: string | null;
  /** When the settings in service were read (ms since the epoch). */
  readonly loaded_at: number;
  /** When the file was last read, whether or not it took effect. */
  readonly read_at: number;
}
