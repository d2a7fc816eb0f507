// The one place that combines every signal about a target into what answers use (HealthView):
// an admin override wins until it expires; otherwise the target is up when its probe check (if
// any) is up and no unexpired monitor report says down. Weight and load come from updates.

import type { HealthView, TargetStatus } from '../gslb/health-view.ts';
import type { TargetDef } from '../gslb/types.ts';
import type { StateStore } from '../state/types.ts';
import type { CheckStatus } from './checker.ts';

export interface CheckSource {
  statusOf(targetId: string): CheckStatus | undefined;
}

export class TargetHealth implements HealthView {
  readonly #checks: CheckSource;
  readonly #state: StateStore;

  constructor(checks: CheckSource, state: StateStore) {
    this.#checks = checks;
    this.#state = state;
  }

  status(target: TargetDef, now: number): TargetStatus {
    const st = this.#state.target(target.id);
    let nextChange = Infinity;
    const live = <T extends { expiresAt: number }>(e: T | undefined): T | undefined => {
      if (!e || e.expiresAt <= now) return undefined;
      nextChange = Math.min(nextChange, e.expiresAt);
      return e;
    };
    const weight = st?.weight;
    const loadEntry = live(st?.load);
    const load = loadEntry && { ...loadEntry.value, reportedAt: loadEntry.at };
    const extra = { ...(weight !== undefined && { weight }), ...(load && { load }) };
    const override = live(st?.override);
    if (override) {
      const s = override.value.state;
      return { up: s !== 'down', ...extra, ...(s === 'drain' && { weight: 0 }), nextChange };
    }
    const report = live(st?.report);
    const check = this.#checks.statusOf(target.id);
    let up = report ? report.value.state === 'up' : true;
    if (check) {
      up &&= check.state === 'up';
      nextChange = Math.min(nextChange, earliestChange(check));
    }
    return { up, ...extra, ...(Number.isFinite(nextChange) && { nextChange }) };
  }
}

/**
 * The soonest a check's state could flip (gdnsd's TTL idea): an up check can fall at its next
 * probe (hard failures are confirmed at once); a down one needs `remaining` passes an interval apart,
 * and not before a flap hold ends. A probe in flight can change it any moment: now.
 */
export function earliestChange(c: CheckStatus): number {
  if (!Number.isFinite(c.nextAt)) return c.lastAt;
  if (c.state === 'up') return c.nextAt;
  return Math.max(c.heldUntil, c.nextAt + (c.remaining - 1) * c.spec.intervalMs);
}
