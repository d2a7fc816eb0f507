// The StateStore of one gslbd: in-memory state, journaled to disk before any change is visible.

import type { HealthState } from '../health/types.ts';
import { Journal } from './journal.ts';
import { reviveInfinity, State, type StateSnapshot } from './state.ts';
import type { Change, Changeset, RRsetEdits, StateStore, TargetSpec, TargetState } from './types.ts';

export class JournaledStore implements StateStore {
  readonly #state = new State();
  readonly #journal: Journal | null;
  readonly #now: () => number;
  #listeners: ((cs: Changeset) => void | Promise<void>)[] = [];

  /** `dir` null: memory only (nothing survives a restart). */
  constructor(dir: string | null, now: () => number = Date.now, compactAfter?: number) {
    this.#journal = dir === null ? null : new Journal(dir, () => this.#state.snapshot(), compactAfter);
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

  /**
   * Applies at once (answers see it immediately) and resolves when the journal has it on disk:
   * only then is the change acknowledged. If the write fails the promise rejects: the change was
   * not acknowledged, though it stays in effect until restart.
   */
  async commit(source: string, changes: readonly Change[]): Promise<Changeset> {
    const cs: Changeset = { seq: this.#state.seq + 1, at: this.#now(), source, changes };
    const waits = this.#applied(cs);
    await this.#journal?.append(cs);
    // A listener's promise (workers applying it too: cluster/) holds the acknowledgement as well.
    await Promise.all(waits);
    return cs;
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

  get journalBytes(): number {
    return this.#journal?.bytes ?? 0;
  }

  async close(): Promise<void> {
    await this.#journal?.close();
  }
}
