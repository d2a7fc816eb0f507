// The one place that combines every signal about a target into what answers use (HealthView):
// an admin override wins until it expires; otherwise the target is up when its probe check (if
// any) is up and no unexpired monitor report says down. Weight and load come from updates.

import type { HealthView, TargetStatus } from '../4-gslb/health-view.ts';
import type { LoadReport } from '../3-policy/types.ts';
import type { TargetDef } from '../4-gslb/types.ts';
import type { StateStore } from './types.ts';
import { JITTER, type CheckStatus } from '../3-health/checker.ts';

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

  // Asked for every target of a pool on every query: no closures, no spreads, one object out.
  status(target: TargetDef, now: number): TargetStatus {
    const st = this.#state.target(target.id);
    const check = this.#checks.statusOf(target.id);
    let nextChange = check ? earliestChange(check) : Infinity;
    if (st === undefined) return check ? { up: check.state === 'up', nextChange } : NO_SIGNAL;
    const weight = st.weight;
    let load: LoadReport | undefined;
    const l = st.load;
    if (l && l.expiresAt > now) {
      load = { load: l.value.load, capacity: l.value.capacity, reportedAt: l.at };
      if (l.expiresAt < nextChange) nextChange = l.expiresAt;
    }
    const o = st.override;
    if (o && o.expiresAt > now) {
      // The override decides alone: the check's next probe does not change this answer.
      const s = o.value.state;
      const until = Math.min(o.expiresAt, l && l.expiresAt > now ? l.expiresAt : Infinity);
      return { up: s !== 'down', weight: s === 'drain' ? 0 : weight, load, nextChange: until };
    }
    const r = st.report;
    let up = true;
    if (r && r.expiresAt > now) {
      up = r.value.state === 'up';
      if (r.expiresAt < nextChange) nextChange = r.expiresAt;
    }
    if (check) up &&= check.state === 'up';
    return { up, weight, load, nextChange: Number.isFinite(nextChange) ? nextChange : undefined };
  }
}

/** No override, report, load or check: up with the configured weight, for as long as that holds. */
const NO_SIGNAL: TargetStatus = { up: true };

/** How the status page, `gslbd status` and /explain describe a target. */
export interface TargetDescription {
  /** up | down | drained | forced-up | forced-down */
  readonly state: string;
  readonly reason: string;
  /** Since when the deciding signal has said so (ms), when known. */
  readonly since: number | null;
  readonly lastProbe: { readonly ok: boolean; readonly reason: string; readonly latencyMs: number; readonly at: number } | null;
}

/** The same decision as TargetHealth.status, told in words. */
export function describeTarget(checks: CheckSource, state: StateStore, target: TargetDef, now: number): TargetDescription {
  const st = state.target(target.id);
  const check = checks.statusOf(target.id);
  const lastProbe = check?.last ? { ok: check.last.ok, reason: check.last.reason, latencyMs: Math.round(check.last.latencyMs * 10) / 10, at: check.lastAt } : null;
  const o = st?.override && st.override.expiresAt > now ? st.override : undefined;
  if (o) {
    const state = o.value.state === 'drain' ? 'drained' : `forced-${o.value.state}`;
    return { state, reason: o.value.reason || 'admin override', since: o.at, lastProbe };
  }
  const weight = st?.weight ?? target.weight;
  const r = st?.report && st.report.expiresAt > now ? st.report : undefined;
  if (r?.value.state === 'down') return { state: 'down', reason: `monitor: ${r.value.reason}`, since: r.at, lastProbe };
  if (check?.state === 'down') return { state: 'down', reason: `probe: ${check.last?.reason ?? 'last known state'}`, since: check.since, lastProbe };
  if (weight === 0) return { state: 'drained', reason: 'weight 0', since: null, lastProbe };
  const reason = check ? `probe: ${check.last?.reason ?? 'not probed yet'}` : r ? `monitor: ${r.value.reason}` : 'no check';
  return { state: 'up', reason, since: check?.since ?? r?.at ?? null, lastProbe };
}

/**
 * The soonest a check's state could flip (gdnsd's TTL idea): an up check can fall at its next
 * probe (hard failures are confirmed at once); a down one needs `remaining` passes an interval apart,
 * and not before a flap hold ends. A probe in flight can change it any moment: now.
 */
export function earliestChange(c: CheckStatus): number {
  if (!Number.isFinite(c.nextAt)) return c.lastAt;
  if (c.state === 'up') return c.nextAt;
  // Each later probe may come early by the scheduler's jitter: count the shortest gaps.
  return Math.max(c.heldUntil, c.nextAt + Math.max(0, c.remaining - 1) * c.spec.intervalMs * (1 - JITTER));
}
