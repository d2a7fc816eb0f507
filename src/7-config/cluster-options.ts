// The cluster's settings as gslbd.yaml gives them (`cluster:`): read by load.ts, used by
// 9-main/service.ts to run on the etcd store (7-state/etcd-store.ts) instead of the local journal.

import os from 'node:os';
import type { Quorum } from '../3-health/types.ts';

export type { Quorum };

export interface ClusterOptions {
  /** This node's unique name (default: the host name). */
  readonly node: string;
  /** etcd client URLs. */
  readonly endpoints: readonly string[];
  /** Key prefix: several gslbd clusters may share one etcd. */
  readonly prefix: string;
  /** TLS to etcd: file paths (PEM), read at start. */
  readonly tls?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  readonly auth?: { readonly username: string; readonly password: string };
  /** Down votes needed to evict a target (health by quorum). */
  readonly quorum: Quorum;
  /** How long a node's votes outlive its last lease renewal, ms. */
  readonly voteTtlMs: number;
  /** Which nodes probe: `all`, or a list of node names. */
  readonly probeFrom: 'all' | readonly string[];
  /** A snapshot of the state in etcd every this many changesets; the log keeps as many (default 1000). */
  readonly snapshotEvery?: number;
}

export const CLUSTER_DEFAULTS = {
  node: (): string => os.hostname(),
  prefix: '/gslbd/',
  quorum: 'majority' as Quorum,
  voteTtlMs: 10_000,
  probeFrom: 'all' as const,
};
