// A transaction on one zone's data, shared by the HTTP API and RFC 2136 UPDATE: operations apply to
// a working copy of the RRsets and pool members they touch (RFC 2136 §3.4.2 semantics),
// prerequisites read the same copy, and `changes()` checks the result against the zone rules the
// loader keeps (2-zone/rules.ts) and turns it into one changeset with the SOA serial bumped. Nothing
// touches the zone in service until the caller commits those changes.
//
// Every operation costs in proportion to what it changes, not to the size of the RRset or pool it
// changes: records are kept by their canonical form and pool members by address, so one request
// adding thousands of records or targets is linear (it was quadratic).

import { Type } from '../0-base/constants.ts';
import { isSubdomain, isWildcard, nameToText, parentKey, type NameKey } from '../0-base/name.ts';
import type { Pool } from '../4-gslb/pool.ts';
import type { Change } from './types.ts';
import type { TargetSpec } from '../4-gslb/types.ts';
import { childCount } from '../2-zone/overlay.ts';
import { nextSerialSoa, serialNewer, soaSerial } from '../0-base/serial.ts';
import { rdataTarget } from '../2-zone/rdata.ts';
import { addressRdata, addressToText, familyOfType, isAddressType } from '../0-base/address.ts';
import { groupProblem, PoolMembers } from '../4-gslb/edits.ts';
import { cnameConflict, CNAME_COMPANIONS, glueProblem, placementProblem, type ZoneView } from '../2-zone/rules.ts';
import { rrsetSizeError } from '../2-zone/rrset-size.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { nameServerIndex } from '../2-zone/name-servers.ts';
import { CANONICAL_LAYOUT, canonicalRdata } from '../1-codec/rdata-layout.ts';

export type EditOp =
  /** RFC 2136 §2.5.1: add an RR to an RRset (TTL of the set becomes the RR's). */
  | { readonly op: 'add'; readonly name: NameKey; readonly type: number; readonly ttl: number; readonly rdata: Buffer }
  /** §2.5.2: delete an RRset. */
  | { readonly op: 'delete-rrset'; readonly name: NameKey; readonly type: number }
  /** §2.5.3: delete every RRset at a name. */
  | { readonly op: 'delete-name'; readonly name: NameKey }
  /** §2.5.4: delete one RR. */
  | { readonly op: 'delete-rr'; readonly name: NameKey; readonly type: number; readonly rdata: Buffer }
  /** HTTP API: replace an RRset whole (empty rdata deletes it). */
  | {
      readonly op: 'replace';
      readonly name: NameKey;
      readonly type: number;
      readonly ttl: number;
      readonly rdata: readonly Buffer[];
    };

/** An RRset being edited: records by their canonical form (RFC 2136 §1.1.1 equality), in order. */
interface Working {
  ttl: number;
  readonly records: Map<string, Buffer>;
}

/**
 * Most changes one request may make, by default (`--max-changes`). Checking and applying a change
 * costs about 20-50 µs, and the whole request runs without yielding: a thousand keep the stall
 * an answer can see near 50 ms (bench/RESULTS.md, "Large writes").
 */
export const DEFAULT_MAX_CHANGES = 1000;

/** A change the zone rules do not allow; `owner` is the name at fault, `field` the API field. */
export class EditError extends Error {
  readonly owner: NameKey | undefined;
  readonly field: string | undefined;

  constructor(message: string, opts: { owner?: NameKey; field?: string } = {}) {
    super(message);
    this.owner = opts.owner;
    this.field = opts.field;
  }
}

export class ZoneEditor {
  readonly zone: PooledZone;
  /** name → type → working RRset, for every RRset an operation read or wrote. */
  readonly #work = new Map<NameKey, Map<number, Working>>();
  /** Names whose RRsets were all loaded into #work (for delete-name and existence checks). */
  readonly #loadedNames = new Set<NameKey>();
  readonly #pools = new Map<NameKey, PoolMembers>();
  /** Names and pools written to: the ones the zone rules are checked for. */
  readonly #written = new Set<NameKey>();
  #soaReplaced = false;

  constructor(zone: PooledZone) {
    this.zone = zone;
  }

  /** The pool owning `name`, if it is a pool name. */
  pool(name: NameKey): Pool | undefined {
    return this.zone.pools?.get(name);
  }

  /** Current (working) RRset, or undefined. For a pool name, A/AAAA are its target addresses. */
  rrset(name: NameKey, type: number): { ttl: number; rdata: readonly Buffer[] } | undefined {
    const pool = this.pool(name);
    if (pool && isAddressType(type)) {
      const family = familyOfType(type);
      const rdata: Buffer[] = [];
      for (const [address, f] of this.#poolWork(name, pool).members)
        if (f === family) rdata.push(addressRdata(address)!);
      return rdata.length ? { ttl: pool.def.ttl, rdata } : undefined;
    }
    const w = this.#load(name, type);
    return w.records.size ? { ttl: w.ttl, rdata: [...w.records.values()] } : undefined;
  }

  /** Every type present at `name` (working copy). */
  types(name: NameKey): number[] {
    this.#loadName(name);
    const out: number[] = [];
    for (const [type, w] of this.#work.get(name) ?? []) if (w.records.size) out.push(type);
    const pool = this.pool(name);
    if (pool) {
      const families = new Set(this.#poolWork(name, pool).members.values());
      if (families.has(4)) out.push(Type.A);
      if (families.has(6)) out.push(Type.AAAA);
    }
    return out;
  }

  /** RFC 2136 §2.4.4/§2.4.5: a name is in use when it owns at least one RR. */
  nameInUse(name: NameKey): boolean {
    return this.types(name).length > 0;
  }

  /** The members of the pool at `name` now (address → family). */
  members(name: NameKey): ReadonlyMap<string, 4 | 6> {
    return this.#poolWork(name, this.pool(name)!).members;
  }

  /**
   * Adds `address` to the pool at `name` (the caller checks it is not a member yet). Throws an
   * EditError if `spec.group` cannot hold it (4-gslb/edits.ts groupProblem).
   */
  addTarget(name: NameKey, address: string, spec: TargetSpec): void {
    const p = this.#poolWork(name, this.pool(name)!);
    const problem = groupProblem(p.def, spec.group);
    if (problem) throw new EditError(`${nameToText(name)}: ${problem}`, { owner: name, field: 'group' });
    p.add(address, spec);
    this.#written.add(name);
  }

  /** Removes `address` from the pool at `name`. */
  removeTarget(name: NameKey, address: string): void {
    this.#poolWork(name, this.pool(name)!).remove(address);
    this.#written.add(name);
  }

  apply(op: EditOp): void {
    const apex = op.name === this.zone.origin;
    switch (op.op) {
      case 'add':
        return this.#add(op.name, op.type, op.ttl, op.rdata);
      case 'delete-rrset':
        // §3.4.2.3: SOA and NS RRsets of the apex are never deleted this way.
        if (apex && (op.type === Type.SOA || op.type === Type.NS)) return;
        return this.#set(op.name, op.type, undefined, []);
      case 'delete-name':
        for (const t of this.types(op.name)) {
          if (apex && (t === Type.SOA || t === Type.NS)) continue;
          this.#set(op.name, t, undefined, []);
        }
        return;
      case 'delete-rr': {
        if (op.type === Type.SOA) return;
        const pool = this.pool(op.name);
        if (pool && isAddressType(op.type)) {
          const address = addressToText(op.rdata);
          if (this.#poolWork(op.name, pool).members.has(address)) this.removeTarget(op.name, address);
          return;
        }
        const w = this.#load(op.name, op.type);
        const k = rdataKey(op.type, op.rdata);
        if (!w.records.has(k)) return;
        // §3.4.2.4: the last NS of the apex stays.
        if (apex && op.type === Type.NS && w.records.size === 1) return;
        w.records.delete(k);
        this.#written.add(op.name);
        return;
      }
      case 'replace':
        if (op.type === Type.SOA && op.rdata.length !== 1)
          throw new EditError('the SOA RRset holds exactly one record');
        if (apex && op.type === Type.NS && op.rdata.length === 0)
          throw new EditError('the zone apex keeps at least one NS record');
        if (op.rdata.length && this.#conflictsWithCname(op.name, op.type))
          throw new EditError(cnameConflict(op.name), { owner: op.name });
        if (op.type === Type.SOA) this.#soaReplaced = true;
        return this.#set(op.name, op.type, op.ttl, op.rdata);
    }
  }

  #add(name: NameKey, type: number, ttl: number, rdata: Buffer): void {
    // §3.4.2.2: a CNAME beside other data (or other data beside a CNAME) is silently ignored.
    if (this.#conflictsWithCname(name, type)) return;
    if (type === Type.SOA) {
      if (name !== this.zone.origin) return;
      const cur = this.rrset(name, Type.SOA)!;
      if (!serialNewer(soaSerial(rdata), soaSerial(cur.rdata[0]!))) return;
      this.#soaReplaced = true;
      return this.#set(name, type, ttl, [rdata]);
    }
    const pool = this.pool(name);
    if (pool && isAddressType(type)) {
      const address = addressToText(rdata);
      if (this.#poolWork(name, pool).members.has(address)) return;
      return this.addTarget(name, address, {});
    }
    // RFC 6672 §2.4: one DNAME at a name, as one CNAME: a second replaces the first (§3.4.2.2's
    // CNAME rule), rather than leave a set the loader refuses and answers cannot follow.
    if (type === Type.CNAME || type === Type.DNAME) return this.#set(name, type, ttl, [rdata]);
    const w = this.#load(name, type);
    // The RR replaces an equal one (§3.4.2.2), and its TTL becomes the set's (RFC 2181 §5.2).
    const k = rdataKey(type, rdata);
    w.records.delete(k);
    w.records.set(k, rdata);
    w.ttl = ttl;
    this.#written.add(name);
  }

  #conflictsWithCname(name: NameKey, type: number): boolean {
    if (type === Type.CNAME)
      return this.pool(name) !== undefined || this.types(name).some((t) => !CNAME_COMPANIONS.has(t));
    // O(1), not types(): an update adding thousands of records asks this for each of them.
    return !CNAME_COMPANIONS.has(type) && this.#load(name, Type.CNAME).records.size > 0;
  }

  #set(name: NameKey, type: number, ttl: number | undefined, rdata: readonly Buffer[]): void {
    this.#written.add(name);
    const pool = this.pool(name);
    if (pool && isAddressType(type)) return this.#setPoolTargets(name, pool, type, rdata);
    const w = this.#load(name, type);
    if (ttl !== undefined) w.ttl = ttl;
    w.records.clear();
    for (const d of rdata) w.records.set(rdataKey(type, d), d);
  }

  #setPoolTargets(name: NameKey, pool: Pool, type: number, rdata: readonly Buffer[]): void {
    const family = familyOfType(type);
    const wanted = new Set(rdata.map((d) => addressToText(d)));
    const p = this.#poolWork(name, pool);
    for (const [address, f] of [...p.members])
      if (f === family && !wanted.has(address)) this.removeTarget(name, address);
    for (const address of wanted) if (!p.members.has(address)) this.addTarget(name, address, {});
  }

  #poolWork(name: NameKey, pool: Pool): PoolMembers {
    let p = this.#pools.get(name);
    if (!p) this.#pools.set(name, (p = new PoolMembers(pool.def)));
    return p;
  }

  #load(name: NameKey, type: number): Working {
    let types = this.#work.get(name);
    if (!types) this.#work.set(name, (types = new Map()));
    let w = types.get(type);
    if (!w) {
      const rrset = this.zone.nodes.get(name)?.rrsets.get(type);
      w = { ttl: rrset?.ttl ?? 0, records: new Map() };
      for (const d of rrset?.rdata ?? []) w.records.set(rdataKey(type, d), d);
      types.set(type, w);
    }
    return w;
  }

  #loadName(name: NameKey): void {
    if (this.#loadedNames.has(name)) return;
    this.#loadedNames.add(name);
    for (const type of this.zone.nodes.get(name)?.rrsets.keys() ?? []) this.#load(name, type);
  }

  /** Is `name` inside this zone (RFC 2136 §3.4.1.3 NOTZONE otherwise)? */
  contains(name: NameKey): boolean {
    return isSubdomain(name, this.zone.origin);
  }

  /**
   * The changeset for everything applied, with the SOA serial bumped; empty if nothing changed.
   * Throws an EditError if the zone would break one of its rules (2-zone/rules.ts).
   */
  changes(): Change[] {
    this.#check();
    const zone = nameToText(this.zone.origin);
    const out: Change[] = [];
    for (const [name, types] of this.#work) {
      for (const [type, w] of types) {
        const before = this.zone.nodes.get(name)?.rrsets.get(type);
        const after = [...w.records.values()];
        // Absent before and after is no change, whatever TTL an add-then-delete left behind.
        const same =
          (before?.rdata.length ?? 0) === after.length &&
          (after.length === 0 || (before!.ttl === w.ttl && before!.rdata.every((d, i) => d.equals(after[i]!))));
        if (same && !(type === Type.SOA && this.#soaReplaced)) continue;
        out.push({
          kind: 'rrset',
          zone,
          name: nameToText(name),
          type,
          ttl: w.ttl,
          rdata: after.map((d) => d.toString('hex')),
        });
      }
    }
    // A secondary zone's records are its primary's: only its pools (ours) change here.
    if (this.zone.primary !== undefined && out.length > 0)
      throw new EditError(
        `${zone} is a secondary zone of ${this.zone.primary}: its records are changed on the primary`,
      );
    for (const [name, p] of this.#pools) {
      const pool = nameToText(name);
      for (const [address, target] of p.changes()) out.push({ kind: 'target', pool, address, target });
    }
    if (out.length && !this.#soaReplaced && this.zone.primary === undefined) {
      // Each change to zone data bumps the serial (RFC 1982: wraps at 2^32), so secondaries and
      // operators can tell versions apart.
      const soa = this.zone.soa;
      const rdata = nextSerialSoa(soa.rdata[0]!);
      out.push({ kind: 'rrset', zone, name: zone, type: Type.SOA, ttl: soa.ttl, rdata: [rdata.toString('hex')] });
    }
    return out;
  }

  /**
   * The zone as it will be once these changes are made, for the rules; how many names each name
   * will have directly below it; and the names that come to exist or cease to (each with a name
   * written below it, to blame).
   */
  #view(): { view: ZoneView; children: (name: NameKey) => number; changed: ReadonlyMap<NameKey, NameKey> } {
    const zone = this.zone;
    const working = (name: NameKey, type: number) => this.#work.get(name)?.get(type);
    const { exists, delta, changed } = this.#existence();
    const view: ZoneView = {
      origin: zone.origin,
      has: (name, type) => {
        const pool = this.pool(name);
        if (pool && isAddressType(type)) {
          const family = familyOfType(type);
          for (const f of this.#poolWork(name, pool).members.values()) if (f === family) return true;
          return false;
        }
        const w = working(name, type);
        return w ? w.records.size > 0 : (zone.nodes.get(name)?.rrsets.has(type) ?? false);
      },
      exists: (name) => exists.get(name) ?? zone.nodes.has(name),
      nameServers: (name) => {
        const w = working(name, Type.NS);
        const rdata = w ? [...w.records.values()] : (zone.nodes.get(name)?.rrsets.get(Type.NS)?.rdata ?? []);
        return rdata.map((d) => rdataTarget(Type.NS, d)).filter((t): t is NameKey => t !== undefined);
      },
    };
    return { view, children: (name) => childCount(zone, name) + (delta.get(name) ?? 0), changed };
  }

  /**
   * Which of the names written, and the names above them, will exist (own data, be a pool, or have
   * names below them: RFC 4592 §2.2.2's empty non-terminals), and how each name's count of children
   * changes. Deepest first, so a name's children are settled before it; as 2-zone/overlay.ts does
   * when the changes are applied. Costs the names written times their depth.
   */
  #existence(): { exists: Map<NameKey, boolean>; delta: Map<NameKey, number>; changed: Map<NameKey, NameKey> } {
    const origin = this.zone.origin;
    /** Each name to settle → the name written at or below it. */
    const names = new Map<NameKey, NameKey>();
    for (const name of this.#written) {
      for (let k: NameKey | null = name; k !== null && k.length > origin.length && !names.has(k); k = parentKey(k))
        names.set(k, name);
    }
    const exists = new Map<NameKey, boolean>();
    const delta = new Map<NameKey, number>();
    const changed = new Map<NameKey, NameKey>();
    // A child's key is its parent's with a label in front: longer keys first is deepest first.
    for (const name of [...names.keys()].sort((a, b) => b.length - a.length)) {
      const hasData = this.#written.has(name)
        ? this.types(name).length > 0
        : (this.zone.nodes.get(name)?.rrsets.size ?? 0) > 0;
      const now = hasData || this.pool(name) !== undefined || childCount(this.zone, name) + (delta.get(name) ?? 0) > 0;
      exists.set(name, now);
      const before = this.zone.nodes.has(name);
      if (now !== before) {
        const parent = parentKey(name)!;
        delta.set(parent, (delta.get(parent) ?? 0) + (now ? 1 : -1));
        changed.set(name, names.get(name)!);
      }
    }
    return { exists, delta, changed };
  }

  /** The zone rules, for every name this transaction wrote to. */
  #check(): void {
    const { view: z, children, changed } = this.#view();
    const fail = (owner: NameKey, reason: string, field = 'name'): never => {
      throw new EditError(reason, { owner, field });
    };
    const checkNameServers = (owner: NameKey) => {
      for (const target of z.nameServers(owner)) {
        const problem = glueProblem(z, target);
        if (problem) fail(owner, problem);
      }
    };
    for (const name of this.#written) {
      const p = this.#pools.get(name);
      if (p && p.members.size === 0)
        fail(name, `pool ${nameToText(name)} would have no target left (add one first)`, 'target');
      for (const [type, w] of this.#work.get(name) ?? []) {
        if (w.records.size === 0) continue;
        const problem = placementProblem(z, name, type) ?? rrsetSizeError(name, type, [...w.records.values()]);
        if (problem) fail(name, problem);
        if (type === Type.NS) {
          if (name !== this.zone.origin) this.#checkHides(name, 'delegation', children);
          checkNameServers(name);
        }
        if (type === Type.DNAME) this.#checkHides(name, 'DNAME', children);
      }
    }
    this.#checkNameServersReached(z, changed, fail);
  }

  /**
   * The NS sets this transaction did not write but may have broken: those naming a name written or
   * a name above one, and those naming a name no node holds, which only a wildcard answers (RFC 4592
   * §3.3.1), when a wildcard above it was written or a name above it came to exist or ceased to
   * (the closest encloser, and so the wildcard, may have changed). The loader checks every NS set of
   * the apex and the delegations (2-zone/integrity.ts); this checks the ones a change can reach, and
   * looks in the index of NS sets only for a name whose check this transaction breaks.
   */
  #checkNameServersReached(
    z: ZoneView,
    changed: ReadonlyMap<NameKey, NameKey>,
    fail: (owner: NameKey, reason: string) => never,
  ): void {
    const origin = this.zone.origin;
    const before = serviceView(this.zone);
    const recheck = (target: NameKey, blame: NameKey) => {
      const problem = glueProblem(z, target);
      if (problem === null || glueProblem(before, target) !== null) return;
      for (const owner of nameServerIndex(this.zone).owners(target)) {
        // Still an NS set of the zone's, naming it (this transaction may have changed that)?
        if (placementProblem(z, owner, Type.NS) !== null || !z.nameServers(owner).includes(target)) continue;
        fail(blame, `${problem}; the NS set at ${nameToText(owner)} names it`);
      }
    };
    /** Names below which what a wildcard answers may have changed → a name written, to blame. */
    const moved = new Map(changed);
    for (const name of this.#written) {
      for (let k: NameKey | null = name; k !== null && k.length >= origin.length; k = parentKey(k)) recheck(k, name);
      if (isWildcard(name)) moved.set(parentKey(name)!, name);
    }
    if (moved.size === 0) return;
    for (const target of nameServerIndex(this.zone).absent()) {
      for (let k = parentKey(target); k !== null && k.length >= origin.length; k = parentKey(k)) {
        const blame = moved.get(k);
        if (blame !== undefined) recheck(target, blame);
      }
    }
  }

  /** A new delegation point or DNAME at `name` must not hide a pool, nor a DNAME any name (RFC 6672 §2.3). */
  #checkHides(name: NameKey, what: 'delegation' | 'DNAME', children: (name: NameKey) => number): void {
    const txt = nameToText(name);
    const fail = (reason: string): never => {
      throw new EditError(reason, { owner: name, field: 'name' });
    };
    const pool = poolAtOrBelow(this.zone, name);
    if (pool === name)
      fail(
        `${txt} is a pool: ${what === 'DNAME' ? 'a DNAME there would redirect it' : 'an NS RRset there would make it a delegation'}`,
      );
    if (pool !== undefined) fail(`a ${what} at ${txt} would hide the pool ${nameToText(pool)}`);
    if (what === 'DNAME' && children(name) > 0)
      fail(`${txt} has names below it: a DNAME there would hide them (RFC 6672 §2.3)`);
  }
}

/** Per pools map: each pool name and each name above one → that pool (a pool name maps to itself). */
const poolsBelow = new WeakMap<ReadonlyMap<NameKey, Pool>, Map<NameKey, NameKey>>();

/**
 * The pool at `name`, or one below it. Built once per pools map, when a change first writes an NS
 * or DNAME RRset: a batch of delegations costs a lookup each, not a pass over thousands of pools.
 */
function poolAtOrBelow(zone: PooledZone, name: NameKey): NameKey | undefined {
  const pools = zone.pools;
  if (!pools) return undefined;
  let above = poolsBelow.get(pools);
  if (!above) {
    above = new Map();
    for (const pool of pools.keys()) {
      above.set(pool, pool);
      for (let k = parentKey(pool); k !== null && k.length >= zone.origin.length && !above.has(k); k = parentKey(k))
        above.set(k, pool);
    }
    poolsBelow.set(pools, above);
  }
  return above.get(name);
}

/** The zone in service, for the rules: what a name server's check said before the change. */
function serviceView(zone: PooledZone): ZoneView {
  return {
    origin: zone.origin,
    has: (name, type) => {
      const pool = zone.pools?.get(name);
      if (pool && isAddressType(type)) return pool.def.targets.some((t) => t.family === familyOfType(type));
      return zone.nodes.get(name)?.rrsets.has(type) ?? false;
    },
    exists: (name) => zone.nodes.has(name),
    nameServers: (name) =>
      (zone.nodes.get(name)?.rrsets.get(Type.NS)?.rdata ?? [])
        .map((d) => rdataTarget(Type.NS, d))
        .filter((t): t is NameKey => t !== undefined),
  };
}

/**
 * A key of RDATA of `type` that is equal exactly when RFC 2136 §1.1.1 calls two RRs equal: by RDATA,
 * names in it compared case-insensitively (RFC 4343). Sets of RRs compare in linear time by it.
 */
export function rdataKey(type: number, d: Buffer): string {
  return (CANONICAL_LAYOUT.has(type) ? canonicalRdata(type, d) : d).toString('latin1');
}
