// The one place that decides whether a check is up or down (gdnsd's model): probes only report
// pass/fail; `rise` consecutive passes bring a check up, `fall` consecutive failures take it down;
// a check that flips too often is held down for a while (flap damping). Pure: the clock comes in.

import type { HealthState, Transition } from './types.ts';

export interface MachineConfig {
  readonly rise: number;
  readonly fall: number;
  /** Flap damping: this many transitions within `flapWindowMs` hold the check down for `holdMs`. */
  readonly flapLimit: number;
  readonly flapWindowMs: number;
  readonly holdMs: number;
}

export const DEFAULT_DAMPING = { flapLimit: 6, flapWindowMs: 120_000, holdMs: 60_000 } as const;

export class HealthMachine {
  readonly config: MachineConfig;
  #state: HealthState;
  #since: number;
  #passes = 0;
  #fails = 0;
  #flips: number[] = [];
  #heldUntil = 0;
  #lastReason: string;

  constructor(config: MachineConfig, initial: HealthState, now: number, reason = 'initial state') {
    this.config = config;
    this.#state = initial;
    this.#since = now;
    this.#lastReason = reason;
  }

  get state(): HealthState {
    return this.#state;
  }

  get since(): number {
    return this.#since;
  }

  get reason(): string {
    return this.#lastReason;
  }

  /** Held down by flap damping until this time (0 when not held). */
  get heldUntil(): number {
    return this.#heldUntil;
  }

  /**
   * Results still needed before the state can change: failures while up, passes while down
   * (plus the hold, which `earliestChange` accounts for).
   */
  get remaining(): number {
    return this.#state === 'up' ? this.config.fall - this.#fails : this.config.rise - this.#passes;
  }

  /** Feeds one probe result; returns the transition it caused, if any. */
  record(ok: boolean, reason: string, now: number): Transition | null {
    this.#lastReason = reason;
    if (ok) {
      this.#fails = 0;
      this.#passes++;
      if (this.#state === 'down' && this.#passes >= this.config.rise && now >= this.#heldUntil) {
        return this.#move('up', now, reason);
      }
    } else {
      this.#passes = 0;
      this.#fails++;
      if (this.#state === 'up' && this.#fails >= this.config.fall) return this.#move('down', now, reason);
    }
    return null;
  }

  /** Sets the state outright (warm start from the journal, tests); counters restart. */
  restore(state: HealthState, since: number): void {
    this.#state = state;
    this.#since = since;
    this.#passes = 0;
    this.#fails = 0;
  }

  #move(to: HealthState, now: number, reason: string): Transition {
    const from = this.#state;
    this.#state = to;
    this.#since = now;
    this.#passes = 0;
    this.#fails = 0;
    const c = this.config;
    this.#flips = this.#flips.filter((t) => now - t < c.flapWindowMs);
    this.#flips.push(now);
    // Flapping: going down for the flapLimit-th time in the window holds it down, so resolvers
    // are not sent back to a target that keeps failing a moment later.
    if (to === 'down' && this.#flips.length >= c.flapLimit) {
      this.#heldUntil = now + c.holdMs;
      reason = `${reason}; flapping (${this.#flips.length} changes in ${c.flapWindowMs / 1000}s): held down ${c.holdMs / 1000}s`;
    }
    return { from, to, at: now, reason };
  }
}
