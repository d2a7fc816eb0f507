// A transaction on one zone's data, shared by the HTTP API and RFC 2136 UPDATE: operations apply to
// a working copy of the RRsets they touch (RFC 2136 §3.4.2 semantics), prerequisites read the same
// copy, and `changes()` turns the result into one changeset with the SOA serial bumped. Nothing
// touches the zone in service until the caller commits those changes.

import { Type } from '../dns/constants.ts';
import { isSubdomain, nameToText, type NameKey } from '../dns/name.ts';
import type { Pool } from '../gslb/pool.ts';
import { editPool } from '../gslb/edits.ts';
import type { Change, StateStore, TargetSpec } from '../state/types.ts';
import type { Zone } from '../zone/types.ts';
import { nameEnd } from '../zone/rdata-io.ts';
import { addressToText, parseIPv4, parseIPv6 } from '../zone/address.ts';

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
  | { readonly op: 'replace'; readonly name: NameKey; readonly type: number; readonly ttl: number; readonly rdata: readonly Buffer[] };

interface Working {
  ttl: number;
  rdata: Buffer[];
}

const key = (name: NameKey, type: number) => `${name}|${type}`;
const isAddress = (type: number) => type === Type.A || type === Type.AAAA;

/** RFC 1982 serial arithmetic: is a newer than b? */
export function serialNewer(a: number, b: number): boolean {
  return a !== b && ((a - b) >>> 0) < 0x80000000;
}

export class ZoneEditor {
  readonly zone: Zone;
  readonly #state: StateStore;
  readonly #work = new Map<string, Working>();
  /** Names whose RRsets were all loaded into #work (for delete-name and existence checks). */
  readonly #loadedNames = new Set<NameKey>();
  readonly #pools = new Map<NameKey, Map<string, TargetSpec | null>>();
  #soaReplaced = false;

  constructor(zone: Zone, state: StateStore) {
    this.zone = zone;
    this.#state = state;
  }

  /** The pool owning `name`, if it is a pool name. */
  pool(name: NameKey): Pool | undefined {
    return this.zone.pools?.get(name);
  }

  /** Current (working) RRset, or undefined. For a pool name, A/AAAA are its target addresses. */
  rrset(name: NameKey, type: number): { ttl: number; rdata: readonly Buffer[] } | undefined {
    const pool = this.pool(name);
    if (pool && isAddress(type)) {
      const rdata = this.#poolTargets(name, pool).filter((t) => (t.family === 4) === (type === Type.A)).map((t) => addressBytes(t.address));
      return rdata.length ? { ttl: pool.def.ttl, rdata } : undefined;
    }
    const w = this.#load(name, type);
    return w.rdata.length ? w : undefined;
  }

  /** Every type present at `name` (working copy). */
  types(name: NameKey): number[] {
    this.#loadName(name);
    const out: number[] = [];
    const prefix = `${name}|`;
    for (const [k, w] of this.#work) if (k.startsWith(prefix) && w.rdata.length) out.push(Number(k.slice(prefix.length)));
    const pool = this.pool(name);
    if (pool) {
      if (this.rrset(name, Type.A)) out.push(Type.A);
      if (this.rrset(name, Type.AAAA)) out.push(Type.AAAA);
    }
    return out;
  }

  /** RFC 2136 §2.4.4/§2.4.5: a name is in use when it owns at least one RR. */
  nameInUse(name: NameKey): boolean {
    return this.types(name).length > 0;
  }

  apply(op: EditOp): void {
    const apex = op.name === this.zone.origin;
    switch (op.op) {
      case 'add': return this.#add(op.name, op.type, op.ttl, op.rdata);
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
        const cur = this.rrset(op.name, op.type);
        if (!cur) return;
        const rest = cur.rdata.filter((d) => !sameRdata(op.type, d, op.rdata));
        // §3.4.2.4: the last NS of the apex stays.
        if (apex && op.type === Type.NS && rest.length === 0) return;
        return this.#set(op.name, op.type, cur.ttl, rest);
      }
      case 'replace':
        if (op.type === Type.SOA && op.rdata.length !== 1) throw new EditError('the SOA RRset holds exactly one record');
        if (apex && op.type === Type.NS && op.rdata.length === 0) throw new EditError('the zone apex keeps at least one NS record');
        if (op.rdata.length && this.#conflictsWithCname(op.name, op.type)) {
          throw new EditError(`${nameToText(op.name)}: CNAME and other data cannot share a name (RFC 2181 §10.1)`);
        }
        if (op.type === Type.SOA) this.#soaReplaced = true;
        return this.#set(op.name, op.type, op.ttl, [...op.rdata]);
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
    const cur = this.rrset(name, type);
    if (type === Type.CNAME) return this.#set(name, type, ttl, [rdata]);
    const rest = (cur?.rdata ?? []).filter((d) => !sameRdata(type, d, rdata));
    this.#set(name, type, ttl, [...rest, rdata]);
  }

  #conflictsWithCname(name: NameKey, type: number): boolean {
    const types = this.types(name);
    if (type === Type.CNAME) return types.some((t) => t !== Type.CNAME) || (this.pool(name) !== undefined);
    return types.includes(Type.CNAME);
  }

  #set(name: NameKey, type: number, ttl: number | undefined, rdata: Buffer[]): void {
    const pool = this.pool(name);
    if (pool && isAddress(type)) return this.#setPoolTargets(name, pool, type, rdata);
    const w = this.#load(name, type);
    if (ttl !== undefined) w.ttl = ttl;
    w.rdata = rdata;
  }

  #setPoolTargets(name: NameKey, pool: Pool, type: number, rdata: Buffer[]): void {
    let edits = this.#pools.get(name);
    if (!edits) this.#pools.set(name, (edits = new Map()));
    const family = type === Type.A ? 4 : 6;
    const wanted = new Set(rdata.map((d) => addressToText(d)));
    for (const t of this.#poolTargets(name, pool)) {
      if (t.family === family && !wanted.has(t.address)) edits.set(t.address, null);
    }
    const present = new Set(this.#poolTargets(name, pool).map((t) => t.address));
    for (const a of wanted) {
      if (present.has(a)) continue;
      // A target of a pool with groups belongs to one; the grouped policy cannot place one without.
      if (pool.def.groups.length) throw new EditError(`${nameToText(name)}: pool with groups: a target added must name its group`);
      edits.set(a, {});
    }
  }

  #poolTargets(name: NameKey, pool: Pool) {
    const edits = this.#pools.get(name);
    return edits ? editPool(pool.def, edits).targets : pool.def.targets;
  }

  #load(name: NameKey, type: number): Working {
    const k = key(name, type);
    let w = this.#work.get(k);
    if (!w) {
      const rrset = this.zone.nodes.get(name)?.rrsets.get(type);
      w = { ttl: rrset?.ttl ?? 0, rdata: rrset ? [...rrset.rdata] : [] };
      this.#work.set(k, w);
      this.#original.set(k, rrset ? rrset.rdata : []);
    }
    return w;
  }

  readonly #original = new Map<string, readonly Buffer[]>();

  #loadName(name: NameKey): void {
    if (this.#loadedNames.has(name)) return;
    this.#loadedNames.add(name);
    for (const type of this.zone.nodes.get(name)?.rrsets.keys() ?? []) this.#load(name, type);
  }

  /** Is `name` inside this zone (RFC 2136 §3.4.1.3 NOTZONE otherwise)? */
  contains(name: NameKey): boolean {
    return isSubdomain(name, this.zone.origin);
  }

  /** The changeset for everything applied, with the SOA serial bumped; empty if nothing changed. */
  changes(): Change[] {
    const zone = nameToText(this.zone.origin);
    const out: Change[] = [];
    for (const [k, w] of this.#work) {
      const before = this.#original.get(k)!;
      const [name, type] = [k.slice(0, k.lastIndexOf('|')), Number(k.slice(k.lastIndexOf('|') + 1))];
      const rrset = this.zone.nodes.get(name)?.rrsets.get(type);
      // Absent before and after is no change, whatever TTL an add-then-delete left behind.
      const same = before.length === w.rdata.length && before.every((d, i) => d.equals(w.rdata[i]!)) && ((rrset?.ttl ?? 0) === w.ttl || before.length === 0);
      if (same && !(type === Type.SOA && this.#soaReplaced)) continue;
      out.push({ kind: 'rrset', zone, name: nameToText(name), type, ttl: w.ttl, rdata: w.rdata.map((d) => d.toString('hex')) });
    }
    for (const [name, edits] of this.#pools) {
      const pool = nameToText(name);
      const before = new Set(this.pool(name)!.def.targets.map((t) => t.address));
      for (const [address, target] of edits) {
        // Added and removed again within the transaction: no change.
        if (target === null && !before.has(address)) continue;
        out.push({ kind: 'target', pool, address, target });
      }
    }
    if (out.length && !this.#soaReplaced) {
      // Each change to zone data bumps the serial (RFC 1982: wraps at 2^32), so secondaries and
      // operators can tell versions apart.
      const soa = this.zone.soa;
      const rdata = Buffer.from(soa.rdata[0]!);
      const at = serialOffset(rdata);
      rdata.writeUInt32BE((rdata.readUInt32BE(at) + 1) >>> 0, at);
      out.push({ kind: 'rrset', zone, name: zone, type: Type.SOA, ttl: soa.ttl, rdata: [rdata.toString('hex')] });
    }
    return out;
  }
}

export class EditError extends Error {}

function serialOffset(soaRdata: Buffer): number {
  return nameEnd(soaRdata, nameEnd(soaRdata, 0));
}

export function soaSerial(soaRdata: Buffer): number {
  return soaRdata.readUInt32BE(serialOffset(soaRdata));
}

/** RFC 2136 §1.1.1: RRs compare equal by RDATA, names in it case-insensitively (RFC 4343). */
export function sameRdata(type: number, a: Buffer, b: Buffer): boolean {
  return a.equals(b) || (NAME_LAYOUT.has(type) && canonicalRdata(type, a).equals(canonicalRdata(type, b)));
}

/**
 * Where the domain names sit in the RDATA of the types RFC 4034 §6.2 lower-cases (DNSSEC types
 * aside): N a name, C a character-string, a digit that many fixed octets.
 */
const NAME_LAYOUT = new Map<number, string>([
  [Type.NS, 'N'], [3, 'N'], [4, 'N'], [Type.CNAME, 'N'], [7, 'N'], [8, 'N'], [9, 'N'], [Type.PTR, 'N'], [Type.DNAME, 'N'],
  [Type.SOA, 'NN'], [14, 'NN'], [17, 'NN'], [Type.MX, '2N'], [18, '2N'], [21, '2N'], [36, '2N'], [26, '2NN'],
  [Type.SRV, '6N'], [Type.NAPTR, '4CCCN'],
]);

/** RDATA with the names in it lower-cased; as it is if it does not have its type's layout. */
function canonicalRdata(type: number, d: Buffer): Buffer {
  const out = Buffer.from(d);
  let p = 0;
  for (const f of NAME_LAYOUT.get(type) ?? '') {
    if (f === 'N') {
      const end = nameEnd(out, p);
      if (end < 0) return d;
      // Label lengths are at most 63, below 'A': only label octets change.
      for (; p < end; p++) if (out[p]! >= 0x41 && out[p]! <= 0x5a) out[p]! += 32;
    } else {
      p += f === 'C' ? 1 + (out[p] ?? 0) : Number(f);
      if (p > out.length) return d;
    }
  }
  return out;
}

function addressBytes(address: string): Buffer {
  return (address.includes(':') ? parseIPv6(address) : parseIPv4(address))!;
}

