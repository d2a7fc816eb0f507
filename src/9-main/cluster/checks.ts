// A worker's checks: it probes nothing itself. Its own zones say which checks its targets have
// (by the same key as the primary's HealthChecker); their states and timing are what the primary
// last sent. So up/down and the TTL (which shrinks to a check's next possible change) are the
// primary's, and the endpoints see one probe loop however many workers answer.

import type { CheckStatus, WantedCheck } from '../../3-health/checker.ts';
import { ListedChecks } from '../../3-health/listed.ts';
import type { HealthState } from '../../3-health/types.ts';
import type { CheckUpdate } from './messages.ts';

export class PrimaryChecks extends ListedChecks {
  /** Last known state of each check (the journal's, kept current by the primary's changesets). */
  readonly #known: ReadonlyMap<string, { readonly state: HealthState; readonly since: number }>;
  readonly #now: () => number;
  readonly #updates = new Map<string, CheckUpdate>();

  constructor(
    known: ReadonlyMap<string, { readonly state: HealthState; readonly since: number }>,
    now: () => number = Date.now,
  ) {
    super();
    this.#known = known;
    this.#now = now;
  }

  /** What the primary sent: one check after a probe, or (`all`) every check it runs. */
  update(checks: readonly CheckUpdate[], all: boolean): void {
    if (all) {
      const sent = new Set(checks.map((c) => c.key));
      // A check the primary no longer runs may still be in this worker's zones until it reloads
      // too: it keeps its last state meanwhile.
      for (const key of this.#updates.keys()) if (!sent.has(key) && !this.wanted.has(key)) this.#updates.delete(key);
    }
    for (const c of checks) this.#updates.set(c.key, c);
  }

  protected status(key: string, w: WantedCheck): CheckStatus {
    const fixed = { key, address: w.address, spec: w.spec, targets: w.ids, last: null };
    const u = this.#updates.get(key);
    if (!u) {
      // Not heard of yet (the primary starts it when it reloads): as the primary starts a check,
      // in its last known state, else up; its first probe may come any moment (shortest TTL).
      const k = this.#known.get(key);
      const state = k?.state ?? 'up';
      return {
        ...fixed,
        state,
        since: k?.since ?? 0,
        lastAt: 0,
        nextAt: Infinity,
        remaining: state === 'up' ? w.spec.fall : w.spec.rise,
        heldUntil: 0,
      };
    }
    // A probe that was due and has not reported is in flight (or queued), which the primary's
    // status says with nextAt = Infinity: its outcome may come any moment.
    return { ...fixed, ...u, nextAt: u.nextAt <= this.#now() ? Infinity : u.nextAt };
  }
}
