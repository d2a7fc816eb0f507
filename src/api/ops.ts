// Every API change is one of these operations; an endpoint makes one, a batch many. A Transaction
// checks each against the data in service and a working copy of what the ones before it did
// (RRsets in a ZoneEditor per zone, pool members in its own map), and only when all pass are they
// committed as ONE changeset: all or nothing, as an RFC 2136 update is.
//
// Validation and commit run in one synchronous stretch (the store applies a changeset before its
// first await), so no other request can change anything between the If-Match check and the commit.

import net from 'node:net';
import { isMetaType, Type, typeFromName, typeName } from '../dns/constants.ts';
import { isSubdomain, keyFromText, nameToText, parentKey, type NameKey } from '../dns/name.ts';
import type { Pool } from '../gslb/pool.ts';
import { normalizeAddress } from '../gslb/pools-file.ts';
import type { Change, OverrideState, TargetSpec } from '../state/types.ts';
import { EditError, serialNewer, soaSerial, ZoneEditor } from '../update/editor.ts';
import { nameEnd, RdataError } from '../zone/rdata-io.ts';
import { editPool } from '../gslb/edits.ts';
import type { Zone } from '../zone/types.ts';
import { ApiError, badField, conflict, notFound } from './errors.ts';
import { parseRdata } from './rdata-text.ts';
import type { ApiBackend } from './types.ts';
import { checkVersion, findPool, findZone, nameIn, poolVersion, rrsetVersion, targetVersion } from './views.ts';

interface TargetRef { zone: string; pool: string; target: string; if_match?: string }
interface RRsetRef { zone: string; name: string; type: string; if_match?: string }
export interface TargetBody {
  address: string; weight?: number; location?: { lat: number; lon: number };
  bias?: number; priority?: number; regions?: string[]; group?: string;
}

export type Op =
  | TargetRef & { op: 'set-weight'; weight: number }
  | TargetRef & { op: 'set-load'; load: number; capacity: number; valid_for: number }
  | TargetRef & { op: 'set-health'; state: 'up' | 'down'; reason: string; valid_for?: number }
  | TargetRef & { op: 'set-override'; state: OverrideState; reason?: string; valid_for?: number }
  | TargetRef & { op: 'clear-weight' | 'clear-load' | 'clear-health' | 'clear-override' | 'remove-target' }
  | { op: 'add-target'; zone: string; pool: string; if_match?: string } & TargetBody
  | RRsetRef & { op: 'put-rrset'; ttl: number; records: string[]; if_none_match?: boolean }
  | RRsetRef & { op: 'delete-rrset' };

function parseAddress(text: string, field: string): string {
  if (!net.isIP(text)) throw badField(field, `"${text}" is not an IPv4 or IPv6 address`);
  return normalizeAddress(text);
}

function parseType(text: string): number {
  const type = typeFromName(text);
  if (type === undefined) throw badField('type', `unknown type "${text}" (a mnemonic such as TXT, or TYPEnnn)`);
  if (type === 0 || isMetaType(type)) throw badField('type', `${text} is a meta-type: it cannot be stored in a zone (RFC 6895 §3.1)`);
  return type;
}

const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : Math.round(seconds * 1000));

/** Targets added (spec) and removed (null) in one pool by this transaction, by address. */
interface PoolEdits {
  readonly pool: Pool;
  readonly edits: Map<string, TargetSpec | null>;
  /** The last change that removed a target, to blame if the pool is left with none. */
  removedAt?: string | undefined;
  removed: boolean;
}

/** One zone touched by the transaction: its RRsets through a ZoneEditor, its pools' members here. */
interface ZoneWork {
  readonly editor: ZoneEditor;
  readonly pools: Map<NameKey, PoolEdits>;
}

export class Transaction {
  readonly #b: ApiBackend;
  readonly #zones = new Map<NameKey, ZoneWork>();
  readonly #state: Change[] = [];

  constructor(backend: ApiBackend) {
    this.#b = backend;
  }

  /** Checks `op` and adds it; throws an ApiError, under `at` (`changes[3]`) when given. */
  add(op: Op, at?: string): void {
    try {
      this.#add(op, at);
    } catch (e) {
      throw e instanceof ApiError && at !== undefined ? e.under(at) : e;
    }
  }

  #zone(zoneText: string): ZoneWork {
    const zone = findZone(this.#b, zoneText);
    let work = this.#zones.get(zone.origin);
    if (!work) this.#zones.set(zone.origin, (work = { editor: new ZoneEditor(zone, this.#b.state), pools: new Map() }));
    return work;
  }

  #pool(work: ZoneWork, poolText: string): PoolEdits {
    const pool = findPool(work.editor.zone, poolText);
    let p = work.pools.get(pool.def.name);
    if (!p) work.pools.set(pool.def.name, (p = { pool, edits: new Map(), removed: false }));
    return p;
  }

  /** The pool's targets with the changes before this one applied. */
  #members(p: PoolEdits): Set<string> {
    return new Set(editPool(p.pool.def, p.edits).targets.map((t) => t.address));
  }

  #add(op: Op, at: string | undefined): void {
    if (op.op === 'put-rrset' || op.op === 'delete-rrset') return this.#rrset(op);
    const p = this.#pool(this.#zone(op.zone), op.pool);
    const pool = p.pool;
    if (op.op === 'add-target') return this.#addTarget(p, op);
    const address = parseAddress(op.target, 'target');
    if (!this.#members(p).has(address)) throw notFound('target', `${address} is not a target of pool ${nameToText(pool.def.name)}`);
    const def = pool.def.targets.find((t) => t.address === address);
    checkVersion(op.if_match, def && targetVersion(this.#b, pool, def), `target ${address}`);
    const target = `${nameToText(pool.def.name)}/${address}`;
    const cur = this.#b.state.target(target);
    switch (op.op) {
      case 'set-weight': return void this.#state.push({ kind: 'weight', target, weight: op.weight });
      case 'clear-weight': return void this.#state.push({ kind: 'weight', target, weight: null });
      case 'set-load':
        return void this.#state.push({ kind: 'load', target, load: op.load, capacity: op.capacity, validMs: ms(op.valid_for)! });
      case 'clear-load': {
        // A load report has no "none": it is made to expire now.
        const v = cur?.load?.value ?? { load: 0, capacity: 1 };
        return void this.#state.push({ kind: 'load', target, ...v, validMs: 0 });
      }
      case 'set-health':
        return void this.#state.push({ kind: 'report', target, state: op.state, reason: op.reason, ...(op.valid_for !== undefined && { validMs: ms(op.valid_for)! }) });
      case 'clear-health': return void this.#state.push({ kind: 'report', target, state: null, reason: '' });
      case 'set-override':
        return void this.#state.push({ kind: 'override', target, state: op.state, reason: op.reason ?? '', ...(op.valid_for !== undefined && { validMs: ms(op.valid_for)! }) });
      case 'clear-override': return void this.#state.push({ kind: 'override', target, state: null, reason: '' });
      case 'remove-target': {
        p.edits.set(address, null);
        p.removed = true;
        p.removedAt = at;
        // What was said about the target goes with it: a target added back later starts afresh.
        if (cur?.weight !== undefined) this.#state.push({ kind: 'weight', target, weight: null });
        if (cur?.report) this.#state.push({ kind: 'report', target, state: null, reason: '' });
        if (cur?.override) this.#state.push({ kind: 'override', target, state: null, reason: '' });
        return;
      }
    }
  }

  #addTarget(p: PoolEdits, op: TargetBody & { if_match?: string }): void {
    const pool = p.pool;
    const address = parseAddress(op.address, 'address');
    checkVersion(op.if_match, poolVersion(pool), `pool ${nameToText(pool.def.name)}`);
    if (this.#members(p).has(address)) throw conflict('address', `${address} is already a target of pool ${nameToText(pool.def.name)}`);
    const groups = pool.def.groups.map((g) => g.name);
    if (groups.length && op.group === undefined) throw badField('group', `pool ${pool.def.label} has groups: name one of ${groups.join(', ')}`);
    if (!groups.length && op.group !== undefined) throw badField('group', `pool ${pool.def.label} has no groups`);
    if (op.group !== undefined && !groups.includes(op.group)) throw badField('group', `"${op.group}" is not a group of pool ${pool.def.label} (${groups.join(', ')})`);
    const spec: TargetSpec = {
      ...(op.weight !== undefined && { weight: op.weight }), ...(op.location && { location: op.location }),
      ...(op.bias !== undefined && { bias: op.bias }), ...(op.priority !== undefined && { priority: op.priority }),
      ...(op.regions && { regions: op.regions.map((r) => (r === 'default' ? r : r.toUpperCase())) }),
      ...(op.group !== undefined && { group: op.group }),
    };
    p.edits.set(address, spec);
  }

  #rrset(op: Extract<Op, { op: 'put-rrset' | 'delete-rrset' }>): void {
    const editor = this.#zone(op.zone).editor;
    const zone = editor.zone;
    const name = nameIn(zone, op.name, 'name');
    if (!isSubdomain(name, zone.origin)) throw badField('name', `${nameToText(name)} is outside zone ${nameToText(zone.origin)}`);
    const type = parseType(op.type);
    const label = `${nameToText(name)} ${typeName(type)}`;
    if (zone.pools?.has(name) && (type === Type.A || type === Type.AAAA)) {
      throw conflict('name', `${nameToText(name)} is a pool: its addresses are its targets (use the pool's targets endpoints)`);
    }
    const before = zone.nodes.get(name)?.rrsets.get(type);
    checkVersion(op.if_match, before && rrsetVersion(before), `RRset ${label}`);
    if (op.op === 'delete-rrset') {
      if (!editor.rrset(name, type)) throw notFound('name', `zone ${nameToText(zone.origin)} has no RRset ${label}`);
      return this.#edit(editor, { op: 'replace', name, type, ttl: 0, rdata: [] });
    }
    if (op.if_none_match && before) throw new ApiError(409, 'ERR_VERSION', `RRset ${label} exists (If-None-Match: *)`, 'if_match');
    checkPlacement(zone, name, type);
    const rdata: Buffer[] = [];
    for (const [i, text] of op.records.entries()) {
      let d: Buffer;
      try {
        d = parseRdata(type, text, Buffer.from(zone.origin, 'latin1'));
      } catch (e) {
        if (e instanceof RdataError) throw badField(`records[${i}]`, e.message);
        throw e;
      }
      // RFC 2181 §5: an RRset holds no duplicates; a repeated record is the same record.
      if (!rdata.some((x) => x.equals(d))) rdata.push(d);
    }
    const single = type === Type.CNAME || type === Type.DNAME || type === Type.SOA;
    if (single && rdata.length > 1) throw badField('records', `a ${typeName(type)} RRset holds exactly one record (RFC 2181 §10.1)`);
    if (type === Type.SOA && !serialNewer(soaSerial(rdata[0]!), zone.serial)) {
      throw conflict('records[0]', `the new SOA serial ${soaSerial(rdata[0]!)} must be newer than ${zone.serial} (RFC 1982)`);
    }
    this.#edit(editor, { op: 'replace', name, type, ttl: op.ttl, rdata });
  }

  #edit(editor: ZoneEditor, op: Parameters<ZoneEditor['apply']>[0]): void {
    try {
      editor.apply(op);
    } catch (e) {
      if (e instanceof EditError) throw conflict(undefined, e.message);
      throw e;
    }
  }

  /** The changeset: state changes, then each zone's data changes with its serial bumped. */
  changes(): Change[] {
    const out = [...this.#state];
    for (const { editor, pools } of this.#zones.values()) {
      const zoneChanges = editor.changes();
      for (const p of pools.values()) {
        if (p.removed && this.#members(p).size === 0) {
          const e = conflict('target', `pool ${nameToText(p.pool.def.name)} would have no target left (add one first)`);
          throw p.removedAt === undefined ? e : e.under(p.removedAt);
        }
        const name = nameToText(p.pool.def.name);
        for (const [address, target] of p.edits) {
          // Added and removed again within the transaction: no change.
          if (target === null && !p.pool.def.targets.some((t) => t.address === address)) continue;
          zoneChanges.push({ kind: 'target', pool: name, address, target });
        }
      }
      // Pool members are zone data: a change to them bumps the serial as ZoneEditor.changes() does
      // for RRsets, unless the editor already carries the zone's new SOA.
      const zone = editor.zone;
      const hasSoa = zoneChanges.some((c) => c.kind === 'rrset' && c.type === Type.SOA && keyFromText(c.name) === zone.origin);
      if (zoneChanges.length && !hasSoa) zoneChanges.push(bumpedSoa(zone));
      out.push(...zoneChanges);
    }
    return out;
  }
}

/** The zone's SOA with the serial one up (RFC 1982: it wraps at 2^32). */
function bumpedSoa(zone: Zone): Change {
  const rdata = Buffer.from(zone.soa.rdata[0]!);
  const at = nameEnd(rdata, nameEnd(rdata, 0));
  rdata.writeUInt32BE((rdata.readUInt32BE(at) + 1) >>> 0, at);
  const origin = nameToText(zone.origin);
  return { kind: 'rrset', zone: origin, name: origin, type: Type.SOA, ttl: zone.soa.ttl, rdata: [rdata.toString('hex')] };
}

/**
 * Data at or below a delegation is not ours to answer (RFC 1034 §4.2.1): only the cut's NS and DS,
 * and addresses (glue), may be there. The apex SOA is the only SOA.
 */
function checkPlacement(zone: Zone, name: NameKey, type: number): void {
  if (type === Type.SOA && name !== zone.origin) throw conflict('name', 'an SOA record belongs at the zone apex only');
  for (let k: NameKey | null = name; k !== null && k !== zone.origin; k = parentKey(k)) {
    if (!zone.cuts.has(k)) continue;
    const atCut = k === name && (type === Type.NS || type === Type.DS);
    if (!atCut && type !== Type.A && type !== Type.AAAA) {
      throw conflict('name', `${nameToText(name)} is at or below the delegation ${nameToText(k)}: only NS, DS and glue addresses belong there`);
    }
  }
}

/**
 * Checks every op, then commits them as one changeset. `view` is taken right after the changeset
 * is applied, before it is durable, so it shows this change and no later one (its ETag is the
 * version this change made). Resolves once the journal has it: only then is it acknowledged.
 */
export async function commitOps<T>(
  b: ApiBackend, source: string, ops: readonly Op[], view: () => T, batch = false,
): Promise<{ view: T; seq: number | null; changes: number }> {
  const tx = new Transaction(b);
  ops.forEach((op, i) => tx.add(op, batch ? `changes[${i}]` : undefined));
  const changes = tx.changes();
  if (changes.length === 0) return { view: view(), seq: null, changes: 0 };
  const durable = b.state.commit(source, changes);
  const out = view();
  let seq: number;
  try {
    seq = (await durable).seq;
  } catch (err) {
    throw new ApiError(500, 'ERR_INTERNAL', `the change is in effect but could not be journaled, so it may not survive a restart: ${(err as Error).message}`);
  }
  return { view: out, seq, changes: changes.length };
}
