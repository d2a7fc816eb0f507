// The StateStore of one gslbd: in-memory state, journaled to disk before any change is visible.
// Transactions are serialized by a promise chain: each builds its changeset against the state the
// one before it left, then waits for its own fsync. That costs throughput against group commit
// (one fsync shared by concurrent writers) and buys the order RFC 2136 §3.5 and Knot keep:
// validate, make durable, then let answers see it.

import { Journal } from './journal.ts';
import { reviveInfinity, type StateSnapshot } from './state.ts';
import type { ServedStore } from './served.ts';
import { StoreBase, type Committed } from './store-base.ts';
import { NotDurableError, type Change, type Changeset } from './types.ts';

export class JournaledStore extends StoreBase implements ServedStore {
  readonly #journal: Journal | null;
  readonly #now: () => number;
  #compactAfter: number;

  /** `dir` null: memory only (nothing survives a restart). */
  constructor(dir: string | null, now: () => number = Date.now, compactAfter?: number) {
    super();
    this.#journal = dir === null ? null : new Journal(dir);
    this.#compactAfter = compactAfter ?? 10_000;
    this.#now = now;
  }

  /** Replays snapshot and journal; returns how much of a torn tail was dropped. */
  async open(): Promise<{ changesets: number; droppedBytes: number }> {
    if (!this.#journal) return { changesets: 0, droppedBytes: 0 };
    const replay = await this.#journal.open();
    if (replay.snapshot) this.state.restore(replay.snapshot as StateSnapshot);
    let n = 0;
    for (const cs of replay.changesets) {
      if (cs.seq <= this.state.seq) continue;
      this.state.apply(reviveInfinity(cs));
      n++;
    }
    return { changesets: n, droppedBytes: replay.droppedBytes };
  }

  /** build → durable (journal, fdatasync) → applied and published → after → resolved. */
  protected async step<T>(
    source: string,
    build: () => readonly Change[],
    after: () => T,
  ): Promise<{ done: Promise<Committed<T>> }> {
    const changes = build();
    if (changes.length === 0) {
      return { done: Promise.resolve({ changeset: null, view: after() }) };
    }
    const cs: Changeset = { seq: this.state.seq + 1, at: this.#now(), source, changes };
    if (this.#journal) {
      try {
        await this.#journal.append(cs);
      } catch (err) {
        throw this.refused(source, new NotDurableError(err as Error));
      }
    }
    const waits = this.applied(cs);
    const view = after();
    // Compacting here, between two transactions, snapshots exactly what the journal holds.
    if (this.#journal && this.#journal.records >= this.#compactAfter) {
      // A failed compaction leaves the journal as it was, still valid; the next transaction retries.
      await this.#journal.compact(this.state.snapshot()).catch(() => undefined);
    }
    // A listener's promise (workers applying it too: cluster/) holds the acknowledgement as well.
    return { done: Promise.all(waits).then(() => ({ changeset: cs, view })) };
  }

  /**
   * Applies a changeset committed elsewhere (a cluster worker following its primary): as commit
   * does, listeners included, but journals nothing. One already applied (by `seq`) is ignored.
   */
  apply(cs: Changeset): void {
    if (cs.seq > this.state.seq) void this.applied(cs);
  }

  /** Replaces the state with `snap` (a worker starting from its primary's). Listeners are not told. */
  restore(snap: StateSnapshot): void {
    this.state.restore(snap);
  }

  get journalBytes(): number {
    return this.#journal?.bytes ?? 0;
  }

  async close(): Promise<void> {
    await this.#journal?.close();
  }
}
