// Pool targets added and removed at run time (API, RFC 2136 UPDATE), laid over the pools file: the
// rules of membership live here, whichever protocol asked. A transaction edits a PoolMembers; its
// changes are journaled as `address → spec | null`; editPool lays them over the pool's definition.

import { nameToText, type NameKey } from '../0-base/name.ts';
import type { PooledZone } from './pool.ts';
import { Pool } from './pool.ts';
import { addressFamily, normalizeAddress } from '../0-base/address.ts';
import type { PoolDef, TargetDef, TargetSpec } from './types.ts';
import type { Placement } from '../3-policy/types.ts';

/** Where the run-time target changes of each pool are kept (the state store). */
export interface PoolTargetEdits {
  /** address → the target added, or null for one removed; `pool` in presentation form. */
  targets(pool: string): ReadonlyMap<string, TargetSpec | null> | undefined;
}

/**
 * Why `group` cannot hold a target added to the pool of `def`, or undefined if it can: a target of a
 * pool with groups belongs to one of them (the grouped policy cannot place one without), and a
 * pool without groups takes none.
 */
export function groupProblem(def: PoolDef, group: string | undefined): string | undefined {
  const groups = def.groups.map((g) => g.name);
  if (groups.length && group === undefined) return `pool ${def.label} has groups: name one of ${groups.join(', ')}`;
  if (!groups.length && group !== undefined) return `pool ${def.label} has no groups`;
  if (group !== undefined && !groups.includes(group))
    return `"${group}" is not a group of pool ${def.label} (${groups.join(', ')})`;
  return undefined;
}

/**
 * One pool's membership as a transaction edits it: members by normalized address (O(1) a lookup,
 * so a request adding thousands stays linear), and the edits that take it there from `def`.
 * Callers check membership and groupProblem first; add and remove just record.
 */
export class PoolMembers {
  readonly def: PoolDef;
  /** address → family, as it is now. */
  readonly #members: Map<string, 4 | 6>;
  /** address → the target added, or null for one removed. */
  readonly #edits = new Map<string, TargetSpec | null>();

  constructor(def: PoolDef) {
    this.def = def;
    this.#members = new Map(def.targets.map((t) => [t.address, t.family]));
  }

  get members(): ReadonlyMap<string, 4 | 6> {
    return this.#members;
  }

  add(address: string, spec: TargetSpec): void {
    this.#members.set(address, addressFamily(address));
    this.#edits.set(address, spec);
  }

  remove(address: string): void {
    this.#members.delete(address);
    this.#edits.set(address, null);
  }

  /** The edits that make a difference: a target added and removed again within them is none. */
  *changes(): IterableIterator<[string, TargetSpec | null]> {
    const before = new Set(this.def.targets.map((t) => t.address));
    for (const [address, target] of this.#edits) if (target !== null || before.has(address)) yield [address, target];
  }
}

/**
 * The placement fields `p` sets, and no others, always in this order: a target's configuration is
 * journaled and hashed into its API version as JSON, so two equal placements must write alike.
 */
export function placementOf(p: Placement): Placement {
  return {
    ...(p.location && { location: p.location }),
    ...(p.bias !== undefined && { bias: p.bias }),
    ...(p.priority !== undefined && { priority: p.priority }),
    ...(p.regions && { regions: p.regions }),
  };
}

/** A target added at run time: the pool's check applies to it. */
export function targetFromSpec(def: PoolDef, address: string, spec: TargetSpec): TargetDef {
  const addr = normalizeAddress(address);
  const group = spec.group === undefined ? -1 : def.groups.findIndex((g) => g.name === spec.group);
  return {
    id: `${nameToText(def.name)}/${addr}`,
    address: addr,
    family: addressFamily(addr),
    weight: spec.weight ?? 1,
    ...placementOf(spec),
    check: def.check,
    ...(group >= 0 && { group }),
    line: 0,
  };
}

/** The pool's definition with run-time target changes applied. */
export function editPool(def: PoolDef, edits: ReadonlyMap<string, TargetSpec | null>): PoolDef {
  const targets = def.targets.filter((t) => !edits.has(t.address));
  for (const [address, spec] of edits) if (spec) targets.push(targetFromSpec(def, address, spec));
  return { ...def, targets };
}

/**
 * `zone` with its pools rebuilt from `file` (the zone as its files define it) plus their run-time
 * target changes: every pool that has changes, or exactly the pools `names` (those a changeset
 * touched; the others keep their instance, so their rotation goes on).
 */
export function applyPoolEdits(
  zone: PooledZone,
  state: PoolTargetEdits,
  file: PooledZone = zone,
  names?: Iterable<NameKey>,
): PooledZone {
  if (!zone.pools) return zone;
  let pools: Map<NameKey, Pool> | null = null;
  for (const name of names ?? zone.pools.keys()) {
    const def = file.pools?.get(name)?.def;
    const edits = state.targets(nameToText(name));
    if (!def || (names === undefined && !edits?.size)) continue;
    pools ??= new Map(zone.pools);
    pools.set(name, new Pool(edits?.size ? editPool(def, edits) : def));
  }
  return pools ? { ...zone, pools } : zone;
}
