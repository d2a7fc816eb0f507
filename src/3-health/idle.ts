// The checks of a node that does not probe (a cluster's `probe-from` leaves it out): it knows which
// checks its targets have, and their state comes from the nodes that probe (7-state/quorum-checks.ts).
// Until they say otherwise a check is in its `initial` state.

import type { CheckStatus, WantedCheck } from './checker.ts';
import type { Clock } from './clock.ts';
import { ListedChecks } from './listed.ts';
import type { CheckedTarget } from './types.ts';

export class IdleChecks extends ListedChecks {
  readonly #clock: Clock;
  readonly #since = new Map<string, number>();

  constructor(clock: Clock) {
    super();
    this.#clock = clock;
  }

  override sync(targets: Iterable<CheckedTarget>): void {
    super.sync(targets);
    const now = this.#clock.now();
    for (const key of this.wanted.keys()) if (!this.#since.has(key)) this.#since.set(key, now);
    for (const key of [...this.#since.keys()]) if (!this.wanted.has(key)) this.#since.delete(key);
  }

  protected status(key: string, w: WantedCheck): CheckStatus {
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
      // It changes only by the probing nodes' votes (QuorumChecks gives what they need: the TTL bound).
      nextAt: now + w.spec.intervalMs,
      remaining: Infinity,
      heldUntil: 0,
    };
  }
}
