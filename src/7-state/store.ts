// The StateStore of one gslbd: in-memory state, journaled to disk before any change is visible.
// Transactions are serialized by a promise chain: each builds its changeset against the state the
// one before it left, then waits for its own fsync. That costs throughput against group commit
// (one fsync shared by concurrent writers) and buys the order RFC 2136 §3.5 and Knot keep:
// validate, make durable, then let answers see it.

import type { HealthState } from '../3-health/types.ts';
import { Journal } from './journal.ts';
import { reviveInfinity, State, type StateSnapshot } from './state.ts';
import type { ServedStore } from './served.ts';
import { NotDurableError, type Change, type Changeset, type TargetState } from './types.ts';
import { type TargetSpec } from '../4-gslb/types.ts';
import { type RRsetEdits } from '../2-zone/types.ts';
import { commitChanges, TransactionQueue } from './queue.ts';

type Committed<T> = { changeset: Changeset | null; view: T };

export class JournaledStore implements ServedStore {
  readonly #state = new State();
  readonly #journal: Journal | null;
  readonly #now: () => number;
  #listeners: ((cs: Changeset) => void | Promise<void>)[] = [];
  #refusals: ((source: string, err: NotDurableError) => void)[] = [];
  readonly #queue = new TransactionQueue();
  #compactAfter: number;

  /** `dir` null: memory only (nothing survives a restart). */
  constructor(dir: string | null, now: () => number = Date.now, compactAfter?: number) {
    this.#journal = dir === null ? null : new Journal(dir);
    this.#compactAfter = compactAfter ?? 10_000;
    this.#now = now;
  }

  /** Replays snapshot and journal; returns how much of a torn tail was dropped. */
  async open(): Promise<{ changesets: number; droppedBytes: number }> {
    if (!this.#journal) return { changesets: 0, droppedBytes: 0 };
    const replay = await this.#journal.open();
    if (replay.snapshot) this.#state.restore(replay.snapshot as StateSnapshot);
    let n = 0;
    for (const cs of replay.changesets) {
      if (cs.seq <= this.#state.seq) continue;
      this.#state.apply(reviveInfinity(cs));
      n++;
    }
    return { changesets: n, droppedBytes: replay.droppedBytes };
  }

  /** See StateStore.transact: build → durable → applied and published → after → resolved. */
  transact<T>(source: string, build: () => readonly Change[], after: () => T): Promise<Committed<T>> {
    // The next transaction starts once this one is applied (or refused), not once its listeners
    // (workers) have acknowledged it: `#transact` settles then, with `done` still pending.
    return this.#queue.run(() => this.#transact(source, build, after));
  }

  commit(source: string, changes: readonly Change[]): Promise<Changeset | null> {
    return commitChanges(this, source, changes);
  }

  async #transact<T>(
    source: string,
    build: () => readonly Change[],
    after: () => T,
  ): Promise<{ done: Promise<Committed<T>> }> {
    const changes = build();
    if (changes.length === 0) {
      return { done: Promise.resolve({ changeset: null, view: after() }) };
    }
    const cs: Changeset = { seq: this.#state.seq + 1, at: this.#now(), source, changes };
    if (this.#journal) {
      try {
        await this.#journal.append(cs);
      } catch (err) {
        const refusal = new NotDurableError(err as Error);
        for (const fn of this.#refusals) fn(source, refusal);
        throw refusal;
      }
    }
    const waits = this.#applied(cs);
    const view = after();
    // Compacting here, between two transactions, snapshots exactly what the journal holds.
    if (this.#journal && this.#journal.records >= this.#compactAfter) {
      // A failed compaction leaves the journal as it was, still valid; the next transaction retries.
      await this.#journal.compact(this.#state.snapshot()).catch(() => undefined);
    }
    // A listener's promise (workers applying it too: cluster/) holds the acknowledgement as well.
    return { done: Promise.all(waits).then(() => ({ changeset: cs, view })) };
  }

  /**
   * Applies a changeset committed elsewhere (a cluster worker following its primary): as commit
   * does, listeners included, but journals nothing. One already applied (by `seq`) is ignored.
   */
  apply(cs: Changeset): void {
    if (cs.seq > this.#state.seq) void this.#applied(cs);
  }

  #applied(cs: Changeset): Promise<void>[] {
    this.#state.apply(cs);
    const waits: Promise<void>[] = [];
    for (const l of this.#listeners) {
      const w = l(cs);
      if (w) waits.push(w);
    }
    return waits;
  }

  /** Everything in memory, as the journal's snapshots have it; `restore` reads it back. */
  snapshot(): StateSnapshot {
    return this.#state.snapshot();
  }

  /** Replaces the state with `snap` (a worker starting from its primary's). Listeners are not told. */
  restore(snap: StateSnapshot): void {
    this.#state.restore(snap);
  }

  target(id: string): TargetState | undefined {
    return this.#state.targets.get(id);
  }

  probes(): ReadonlyMap<string, { readonly state: HealthState; readonly since: number }> {
    return this.#state.probes;
  }

  rrsets(zone: string): RRsetEdits | undefined {
    return this.#state.rrsets.get(zone.toLowerCase());
  }

  targets(pool: string): ReadonlyMap<string, TargetSpec | null> | undefined {
    return this.#state.poolTargets.get(pool.toLowerCase());
  }

  /**
   * Called after each changeset is applied (metrics, workers, cluster peers). A promise returned
   * holds commit's acknowledgement until it settles; it must not reject.
   */
  onChange(fn: (cs: Changeset) => void | Promise<void>): void {
    this.#listeners.push(fn);
  }

  /** Called for each changeset refused because it could not be made durable (logs, metrics). */
  onNotDurable(fn: (source: string, err: NotDurableError) => void): void {
    this.#refusals.push(fn);
  }

  get journalBytes(): number {
    return this.#journal?.bytes ?? 0;
  }

  async close(): Promise<void> {
    await this.#journal?.close();
  }
}
