// What both StateStores share (store.ts: the journal; etcd-store.ts: the cluster's): the state in
// memory and its reads, the transaction queue, and the listeners told of each changeset applied or
// refused. A store says only how a changeset is made durable (`step`), opened and closed.

import type { HealthState } from '../3-health/types.ts';
import type { TargetSpec } from '../4-gslb/types.ts';
import type { RRsetEdits } from '../2-zone/types.ts';
import { State, type StateSnapshot } from './state.ts';
import type { Change, Changeset, NotDurableError, StateStore, TargetState } from './types.ts';

export type Committed<T> = { changeset: Changeset | null; view: T };

export abstract class StoreBase implements StateStore {
  protected readonly state = new State();
  readonly #listeners: ((cs: Changeset) => void | Promise<void>)[] = [];
  readonly #refusals: ((source: string, err: NotDurableError) => void)[] = [];
  /** The last transaction queued, which the next one waits for. */
  #tail: Promise<unknown> = Promise.resolve();

  /**
   * One transaction: build, make durable, apply (`applied`), run `after`. It resolves once applied
   * here, so the next may start, with `done` still waiting for the listeners (workers).
   */
  protected abstract step<T>(
    source: string,
    build: () => readonly Change[],
    after: () => T,
  ): Promise<{ done: Promise<Committed<T>> }>;

  /** See StateStore.transact: one at a time, in call order; each builds on the state the one before left. */
  transact<T>(source: string, build: () => readonly Change[], after: () => T): Promise<Committed<T>> {
    const s = this.#tail.then(() => this.step(source, build, after));
    this.#tail = s.catch(() => undefined);
    return s.then((x) => x.done);
  }

  async commit(source: string, changes: readonly Change[]): Promise<Changeset | null> {
    return (
      await this.transact(
        source,
        () => changes,
        () => undefined,
      )
    ).changeset;
  }

  /** Settles once every transaction queued so far has been applied or refused. */
  protected get idle(): Promise<unknown> {
    return this.#tail;
  }

  /** Applies `cs` and, with `tell`, tells the listeners; their promises hold this node's acknowledgement. */
  protected applied(cs: Changeset, tell = true): Promise<void>[] {
    this.state.apply(cs);
    const waits: Promise<void>[] = [];
    if (!tell) return waits;
    for (const l of this.#listeners) {
      const w = l(cs);
      if (w) waits.push(w);
    }
    return waits;
  }

  /** Tells the refusal listeners, and returns `err` to throw. */
  protected refused(source: string, err: NotDurableError): NotDurableError {
    for (const fn of this.#refusals) fn(source, err);
    return err;
  }

  /**
   * Called after each changeset is applied (zones re-published, workers). A promise returned holds
   * the acknowledgement of this node's commit until it settles; it must not reject.
   */
  onChange(fn: (cs: Changeset) => void | Promise<void>): void {
    this.#listeners.push(fn);
  }

  /** Called for each changeset refused because it could not be made durable (logs, metrics). */
  onNotDurable(fn: (source: string, err: NotDurableError) => void): void {
    this.#refusals.push(fn);
  }

  /** Everything in memory (snapshots, a worker's start); `State.restore` reads it back. */
  snapshot(): StateSnapshot {
    return this.state.snapshot();
  }

  /** The seq of the last changeset applied here. */
  get seq(): number {
    return this.state.seq;
  }

  target(id: string): TargetState | undefined {
    return this.state.targets.get(id);
  }

  probes(): ReadonlyMap<string, { readonly state: HealthState; readonly since: number }> {
    return this.state.probes;
  }

  rrsets(zone: string): RRsetEdits | undefined {
    return this.state.rrsets.get(zone.toLowerCase());
  }

  targets(pool: string): ReadonlyMap<string, TargetSpec | null> | undefined {
    return this.state.poolTargets.get(pool.toLowerCase());
  }
}
