// One transaction at a time, in call order, for every StateStore (store.ts, etcd-store.ts): each
// builds against the state the one before it left. A step settles in two phases: it resolves once
// applied here (the next one may start), with `done` still waiting for listeners (workers).

import type { Change, Changeset, StateStore } from './types.ts';

export class TransactionQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `step` after every step queued before it; resolves with its `done`. */
  run<T>(step: () => Promise<{ done: Promise<T> }>): Promise<T> {
    const s = this.#tail.then(step);
    this.#tail = s.catch(() => undefined);
    return s.then((x) => x.done);
  }

  /** Settles once every step queued so far has been applied or refused. */
  get idle(): Promise<unknown> {
    return this.#tail;
  }
}

/** StateStore.commit by way of transact: fixed changes, no view. */
export async function commitChanges(
  store: Pick<StateStore, 'transact'>,
  source: string,
  changes: readonly Change[],
): Promise<Changeset | null> {
  return (
    await store.transact(
      source,
      () => changes,
      () => undefined,
    )
  ).changeset;
}
