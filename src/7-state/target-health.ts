// What answers use about a target (HealthView): whether it is up, its weight and load, and until
// when that holds. Which signal wins is verdict.ts's to say; this adds weight, load and the time of
// the next possible change (an answer's TTL never outlives it).

import type { HealthView, TargetStatus } from '../4-gslb/health-view.ts';
import type { LoadReport } from '../3-policy/types.ts';
import type { TargetDef } from '../4-gslb/types.ts';
import type { StateStore } from './types.ts';
import { JITTER, type CheckStatus } from '../3-health/checker.ts';
import { unexpired, verdict, type Verdict } from './verdict.ts';

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
    let nextChange = check ? earliestChange(check, now) : Infinity;
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

/**
 * A target's verdict (verdict.ts) with what a person reads beside it: the API's target view, the
 * status page, `gslbd status` and /explain all describe a target with this one function, in the
 * verdict's own words (state up | down | drain, and the signal that decided it).
 */
export interface TargetDescription extends Verdict {
  /** The deciding signal's own words: the override's or report's reason, the probe's last result. */
  readonly reason: string;
  /** Since when the deciding signal has said so (ms), when known. */
  readonly since: number | null;
  readonly lastProbe: {
    readonly ok: boolean;
    readonly reason: string;
    readonly latencyMs: number;
    readonly at: number;
  } | null;
}

export function describeTarget(
  checks: CheckSource,
  state: StateStore,
  target: TargetDef,
  now: number,
): TargetDescription {
  const st = state.target(target.id);
  const check = checks.statusOf(target.id);
  const lastProbe = check?.last
    ? {
        ok: check.last.ok,
        reason: check.last.reason,
        latencyMs: Math.round(check.last.latencyMs * 10) / 10,
        at: check.lastAt,
      }
    : null;
  const v = verdict(st, check?.state, target.weight, now);
  const d = (reason: string, since: number | null): TargetDescription => ({
    state: v.state,
    because: v.because,
    reason,
    since,
    lastProbe,
  });
  switch (v.because) {
    case 'override':
      return d(st!.override!.value.reason, st!.override!.at);
    case 'monitor':
      return d(st!.report!.value.reason, st!.report!.at);
    case 'probe':
      return d(check!.last?.reason ?? (v.state === 'down' ? 'last known state' : 'not probed yet'), check!.since);
    case 'weight':
      return d('weight 0', null);
    case 'default':
      return d('no check', null);
  }
}

/**
 * The soonest a check's shown state could flip, which bounds the TTL of every answer that depends
 * on it (gdnsd's idea: how long a change would take to complete, not when the next probe runs).
 * A check needs `remaining` more results to flip: the first at its next probe (now, if one is in
 * flight), each later one an interval after the one before, less the scheduler's jitter. A down
 * check cannot come up before its flap hold ends. With `fastFail`, an up check falls within
 * milliseconds of a hard failure at its next probe, or at any moment if its connection is watched.
 * In a cluster, the other nodes' votes may change the state as soon as theirs need (othersRemaining).
 */
export function earliestChange(c: CheckStatus, now: number): number {
  const gap = c.spec.intervalMs * (1 - JITTER);
  const next = Number.isFinite(c.nextAt) ? c.nextAt : now;
  let at: number;
  if (c.state === 'up' && c.spec.fastFail) at = c.spec.type === 'tcp' ? now : next;
  else {
    at = next + Math.max(0, c.remaining - 1) * gap;
    if (c.state === 'down') at = Math.max(c.heldUntil, at);
  }
  // In a cluster, another node's vote may change first: its next probe may come now.
  if (c.othersRemaining !== undefined) at = Math.min(at, now + Math.max(0, c.othersRemaining - 1) * gap);
  return at;
}
