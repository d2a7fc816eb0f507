// The StateStore of one gslbd: in-memory state, journaled to disk before any change is visible.

import type { HealthState } from '../health/types.ts';
import { Journal } from './journal.ts';
import { reviveInfinity, State } from './state.ts';
import type { Change, Changeset, RRsetEdits, StateStore, TargetSpec, TargetState } from './types.ts';

export class JournaledStore implements StateStore {
  readonly #state = new State();
  readonly #journal: Journal | null;
  readonly #now: () => number;
  #listeners: ((cs: Changeset) => void)[] = [];

  /** `dir` null: memory only (nothing survives a restart). */
  constructor(dir: string | null, now: () => number = Date.now, compactAfter?: number) {
    this.#journal = dir === null ? null : new Journal(dir, () => this.#state.snapshot(), compactAfter);
    this.#now = now;
  }

  /** Replays snapshot and journal; returns how much of a torn tail was dropped. */
  async open(): Promise<{ changesets: number; droppedBytes: number }> {
    if (!this.#journal) return { changesets: 0, droppedBytes: 0 };
    const replay = await this.#journal.open();
    if (replay.snapshot) this.#state.restore(replay.snapshot as Parameters<State['restore']>[0]);
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
    this.#state.apply(cs);
    for (const l of this.#listeners) l(cs);
    await this.#journal?.append(cs);
    return cs;
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

  /** Called after each changeset is applied (metrics, workers, cluster peers). */
  onChange(fn: (cs: Changeset) => void): void {
    this.#listeners.push(fn);
  }

  get journalBytes(): number {
    return this.#journal?.bytes ?? 0;
  }

  async close(): Promise<void> {
    await this.#journal?.close();
  }
}
