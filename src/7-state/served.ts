// The store a Service runs on, whichever it is: the local journal's (store.ts) or the cluster's
// (etcd-store.ts). Apart from types.ts because it names the snapshot state.ts makes.

import type { StateSnapshot } from './state.ts';
import type { Changeset, NotDurableError, StateStore } from './types.ts';

/**
 * A StateStore a Service runs on (the local journal's, or the cluster's): opened at start (replay,
 * or catching up with the cluster), followed by listeners, closed at stop.
 */
export interface ServedStore extends StateStore {
  open(): Promise<{ changesets: number; droppedBytes: number }>;
  /** After each changeset is applied; a promise returned holds the acknowledgement of this node's commit. */
  onChange(fn: (cs: Changeset) => void | Promise<void>): void;
  /** For each changeset refused because it could not be made durable. */
  onNotDurable(fn: (source: string, err: NotDurableError) => void): void;
  /** Everything in memory (a worker starts from it). */
  snapshot(): StateSnapshot;
  /** Bytes of the local journal since its last snapshot (0 for a store without one). */
  readonly journalBytes: number;
  close(): Promise<void>;
}
