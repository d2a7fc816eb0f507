// Pools as configured in `<origin>.pools.yaml`, after validation. Immutable; a reload builds new ones.

import type { NameKey } from '../0-base/name.ts';
import type { PolicyName } from '../3-policy/index.ts';
import type { Placement } from '../3-policy/types.ts';
import type { CheckSpec } from '../3-health/types.ts';

export interface TargetDef extends Placement {
  /** Stable identity across reloads: `<pool name>/<address>` in presentation form. */
  readonly id: string;
  readonly address: string;
  readonly family: 4 | 6;
  /** 0..100; 0 = drained. */
  readonly weight: number;
  /** The check in force for this target (its own, else the pool's), or null: counted as up. */
  readonly check: CheckSpec | null;
  /** Index into PoolDef.groups, when the pool has groups. */
  readonly group?: number;
  readonly line: number;
}

export interface GroupDef extends Placement {
  readonly name: string;
  /** Inner policy: picks targets within the group. */
  readonly policy: PolicyName;
  readonly line: number;
}

export type Fallback =
  | { readonly kind: 'all' }
  | { readonly kind: 'none' }
  | { readonly kind: 'sorry'; readonly addresses: readonly string[] };

export interface PoolDef {
  readonly name: NameKey;
  /** Relative name as written, for messages. */
  readonly label: string;
  /** The policy over targets, or over groups when `groups` is not empty. */
  readonly policy: PolicyName;
  /** geo-proximity / geo-map: used when the client's location is unknown. */
  readonly fallbackPolicy: PolicyName;
  readonly ttl: number;
  /** The TTL never shrinks below this, however soon a target's state could change. */
  readonly minTtl: number;
  readonly answers: number;
  readonly fallback: Fallback;
  /** The pool's own check: targets without one of their own, and targets added at run time, use it. */
  readonly check: CheckSpec | null;
  readonly targets: readonly TargetDef[];
  readonly groups: readonly GroupDef[];
  /** least-load tuning. */
  readonly maxReportAgeMs: number;
  readonly answerLoad: number;
  readonly tolerance: number;
  readonly file: string;
  readonly line: number;
}

/** A target as the API and UPDATE add it; the pool's check applies to it. */
export interface TargetSpec extends Placement {
  readonly weight?: number;
  /** Group name, for pools with groups. */
  readonly group?: string;
}
