// The precedence of a target's signals, written once. Answers (TargetHealth), the API's target
// view, explain, the status page and `gslbd status` all ask this one function what a target's
// state is and which signal decided it; they differ only in how they word it.
//
//   1. an unexpired admin override decides alone (drain, or a weight of 0, makes it drain);
//   2. else an unexpired monitor report of down;
//   3. else the probe check's verdict of down;
//   4. else a weight of 0 (set by an update, or configured) drains the target;
//   5. else it is up, as its probe, its monitor report, or for want of any signal, says.

import type { HealthState } from '../3-health/types.ts';
import type { Expiring, TargetState } from './types.ts';

/** What answers do with the target: use it, leave it out (down), or keep it at weight 0 (drain). */
export type EffectiveState = 'up' | 'down' | 'drain';

/** The signal that decided: the API's `because`. */
export type DecidedBy = 'override' | 'monitor' | 'probe' | 'weight' | 'default';

export interface Verdict {
  readonly state: EffectiveState;
  readonly because: DecidedBy;
}

/** A report, override or load report still in force at `now` (it lapses at its `expiresAt`). */
export function unexpired<T>(e: Expiring<T> | undefined, now: number): Expiring<T> | undefined {
  return e !== undefined && e.expiresAt > now ? e : undefined;
}

const v = (state: EffectiveState, because: DecidedBy): Verdict => Object.freeze({ state, because });
// Every verdict there can be, made once: the answer path asks for each target of a pool on every
// query, and must not allocate to hear the answer.
const OVERRIDE = { up: v('up', 'override'), down: v('down', 'override'), drain: v('drain', 'override') };
const MONITOR_DOWN = v('down', 'monitor');
const MONITOR_UP = v('up', 'monitor');
const PROBE_DOWN = v('down', 'probe');
const PROBE_UP = v('up', 'probe');
const WEIGHT_DRAIN = v('drain', 'weight');
const DEFAULT_UP = v('up', 'default');

/**
 * The state of a target from its dynamic state `st` (weight, report, override), the state of its
 * probe check (undefined: no check), its configured weight, and the time `now` (ms) against which
 * reports and overrides expire.
 */
export function verdict(
  st: TargetState | undefined,
  probe: HealthState | undefined,
  configuredWeight: number,
  now: number,
): Verdict {
  const weight = st?.weight ?? configuredWeight;
  const o = unexpired(st?.override, now);
  if (o !== undefined) {
    const s = o.value.state;
    return s === 'down' ? OVERRIDE.down : s === 'drain' || weight <= 0 ? OVERRIDE.drain : OVERRIDE.up;
  }
  const report = unexpired(st?.report, now)?.value.state;
  if (report === 'down') return MONITOR_DOWN;
  if (probe === 'down') return PROBE_DOWN;
  if (weight <= 0) return WEIGHT_DRAIN;
  return probe !== undefined ? PROBE_UP : report !== undefined ? MONITOR_UP : DEFAULT_UP;
}

/**
 * A target's reason in one line of text, for people: after the signal that decided when that is
 * an override, a monitor report or a probe (`probe: connect ECONNREFUSED`; an override without a
 * reason: `override`); `weight 0` and `no check` say it themselves. The status page and `gslbd status | explain` print this.
 */
export function reasonText(d: { readonly because: DecidedBy; readonly reason: string }): string {
  if (d.because === 'weight' || d.because === 'default') return d.reason;
  return d.reason ? `${d.because}: ${d.reason}` : d.because;
}
