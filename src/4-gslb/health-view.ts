// What the answer path asks about a target's current state. The health checker (probes, monitor
// reports, admin overrides) implements it; until then, and for pools without checks, every
// target is up with its configured weight.

import type { LoadReport } from '../3-policy/types.ts';
import type { TargetDef } from './types.ts';

export interface TargetStatus {
  readonly up: boolean;
  /** Weight in force (an update may change it); the configured one when absent. */
  readonly weight?: number;
  /** The latest load report still valid, if any. */
  readonly load?: LoadReport;
  /**
   * Earliest time (ms) this status could change (next probe that could flip it, an override
   * expiring): an answer's TTL never outlives it (gdnsd's TTL idea).
   */
  readonly nextChange?: number;
}

export interface HealthView {
  status(target: TargetDef, now: number): TargetStatus;
}

const UP: TargetStatus = { up: true };

export const allUp: HealthView = { status: () => UP };
