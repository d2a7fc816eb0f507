// What answers use about a target (HealthView): whether it is up, its weight and load, and until
// when that holds. Which signal wins is verdict.ts's to say; this adds weight, load and the time of
// the next possible change (an answer's TTL never outlives it).

import type { HealthView, TargetStatus } from '../4-gslb/health-view.ts';
import type { LoadReport } from '../3-policy/types.ts';
import type { TargetDef } from '../4-gslb/types.ts';
import type { StateStore } from './types.ts';
import { JITTER, type CheckStatus } from '../3-health/checker.ts';
import { unexpired, verdict } from './verdict.ts';

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
    if (st === undefined && check === undefined) return NO_SIGNAL;
    const v = verdict(st, check?.state, target.weight, now);
    const up = v.state !== 'down';
    let nextChange = check ? earliestChange(check) : Infinity;
    if (st === undefined) return { up, nextChange };
    const weight = st.weight;
    let load: LoadReport | undefined;
    const l = unexpired(st.load, now);
    if (l) {
      load = { load: l.value.load, capacity: l.value.capacity, reportedAt: l.at };
      if (l.expiresAt < nextChange) nextChange = l.expiresAt;
    }
    if (v.because === 'override') {
      // The override decides alone: the check's next probe does not change this answer.
      const o = st.override!;
      const until = Math.min(o.expiresAt, l ? l.expiresAt : Infinity);
      return { up, weight: o.value.state === 'drain' ? 0 : weight, load, nextChange: until };
    }
    const r = unexpired(st.report, now);
    if (r && r.expiresAt < nextChange) nextChange = r.expiresAt;
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

/**
 * The verdict (verdict.ts) in the status page's words, which name an override by what it forces:
 * `drained` for a drain (by override or weight 0), `forced-up` / `forced-down` for the others.
 */
export function describeTarget(checks: CheckSource, state: StateStore, target: TargetDef, now: number): TargetDescription {
  const st = state.target(target.id);
  const check = checks.statusOf(target.id);
  const lastProbe = check?.last ? { ok: check.last.ok, reason: check.last.reason, latencyMs: Math.round(check.last.latencyMs * 10) / 10, at: check.lastAt } : null;
  const v = verdict(st, check?.state, target.weight, now);
  const r = st?.report;
  switch (v.because) {
    case 'override': {
      const o = st!.override!;
      const words = o.value.state === 'drain' ? 'drained' : `forced-${o.value.state}`;
      return { state: words, reason: o.value.reason || 'admin override', since: o.at, lastProbe };
    }
    case 'weight': return { state: 'drained', reason: 'weight 0', since: null, lastProbe };
    case 'monitor': return { state: v.state, reason: `monitor: ${r!.value.reason}`, since: r!.at, lastProbe };
    case 'probe': {
      const reason = check!.last?.reason ?? (v.state === 'down' ? 'last known state' : 'not probed yet');
      return { state: v.state, reason: `probe: ${reason}`, since: check!.since, lastProbe };
    }
    case 'default': return { state: 'up', reason: 'no check', since: null, lastProbe };
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
  // Each later probe may come early by the scheduler's jitter: count the shortest gaps.
  return Math.max(c.heldUntil, c.nextAt + Math.max(0, c.remaining - 1) * c.spec.intervalMs * (1 - JITTER));
}
