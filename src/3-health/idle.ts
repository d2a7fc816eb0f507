// The checks of a node that does not probe (a cluster's `probe-from` leaves it out): it knows which
// checks its targets have, and their state comes from the nodes that probe (7-state/quorum-checks.ts).
// Until they say otherwise a check is in its `initial` state.

import { checksOf, type Checks, type CheckStatus, type WantedCheck } from './checker.ts';
import type { Clock } from './clock.ts';
import type { CheckedTarget } from './types.ts';

export class IdleChecks implements Checks {
  readonly #clock: Clock;
  readonly #byTarget = new Map<string, string>();
  #wanted = new Map<string, WantedCheck>();
  readonly #since = new Map<string, number>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  sync(targets: Iterable<CheckedTarget>): void {
    this.#wanted = checksOf(targets, this.#byTarget);
    const now = this.#clock.now();
    for (const key of this.#wanted.keys()) if (!this.#since.has(key)) this.#since.set(key, now);
    for (const key of [...this.#since.keys()]) if (!this.#wanted.has(key)) this.#since.delete(key);
  }

  statusOf(targetId: string): CheckStatus | undefined {
    const key = this.#byTarget.get(targetId);
    return key === undefined ? undefined : this.#status(key);
  }

  byKey(key: string): CheckStatus | undefined {
    return this.#wanted.has(key) ? this.#status(key) : undefined;
  }

  all(): CheckStatus[] {
    return [...this.#wanted.keys()].map((key) => this.#status(key));
  }

  stop(): void {}

  #status(key: string): CheckStatus {
    const w = this.#wanted.get(key)!;
    const now = this.#clock.now();
    return {
      key,
      address: w.address,
      spec: w.spec,
      state: w.spec.initial ?? 'up',
      since: this.#since.get(key) ?? now,
      targets: w.ids,
      last: null,
      lastAt: now,
      // The probing nodes' verdicts may come at their probes' pace: an interval from now.
      nextAt: now + w.spec.intervalMs,
      remaining: w.spec.rise,
      heldUntil: 0,
    };
  }
}
