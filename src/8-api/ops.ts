// Every API change is one of these operations; an endpoint makes one, a batch many. A Transaction
// checks each against the data in service and a working copy of what the ones before it did
// (RRsets and pool members in a ZoneEditor per zone, the same one RFC 2136 UPDATE uses, so both
// keep the same zone rules), and only when all pass are they committed as ONE changeset: all or
// nothing, as an RFC 2136 update is.
//
// Validation and commit run in one synchronous stretch (the store applies a changeset before its
// first await), so no other request can change anything between the If-Match check and the commit.

import { isMetaType, Type, typeFromName, typeName } from '../0-base/constants.ts';
import { isAddressType } from '../0-base/address.ts';
import { isSubdomain, nameToText, type NameKey } from '../0-base/name.ts';
import type { Pool } from '../4-gslb/pool.ts';
import type { TargetDef } from '../4-gslb/types.ts';
import { groupProblem, placementOf } from '../4-gslb/edits.ts';
import { NotDurableError, type Change, type OverrideState } from '../7-state/types.ts';
import { type TargetSpec } from '../4-gslb/types.ts';
import { DEFAULT_MAX_CHANGES, EditError, ZoneEditor, type EditOp } from '../7-state/editor.ts';
import { serialNewer, soaSerial } from '../0-base/serial.ts';
import { RdataError } from '../2-zone/rdata-io.ts';
import { AT_CUT } from '../2-zone/rules.ts';
import { ApiError, badField, conflict, notFound } from './errors.ts';
import { parseRdata } from './rdata-text.ts';
import type { ApiBackend } from './types.ts';
import {
  checkVersion,
  findPool,
  findZone,
  nameIn,
  parseAddress,
  poolVersion,
  rrsetVersion,
  targetVersion,
} from './views.ts';

interface TargetRef {
  zone: string;
  pool: string;
  target: string;
  if_match?: string;
}
interface RRsetRef {
  zone: string;
  name: string;
  type: string;
  if_match?: string;
}
export interface TargetBody {
  address: string;
  weight?: number;
  location?: { lat: number; lon: number };
  bias?: number;
  priority?: number;
  regions?: string[];
  group?: string;
}

export type Op =
  | (TargetRef & { op: 'set-weight'; weight: number })
  | (TargetRef & { op: 'set-load'; load: number; capacity: number; valid_for: number })
  | (TargetRef & { op: 'set-health'; state: 'up' | 'down'; reason: string; valid_for?: number })
  | (TargetRef & { op: 'set-override'; state: OverrideState; reason?: string; valid_for?: number })
  | (TargetRef & { op: 'clear-weight' | 'clear-load' | 'clear-health' | 'clear-override' | 'remove-target' })
  | ({ op: 'add-target'; zone: string; pool: string; if_match?: string } & TargetBody)
  | (RRsetRef & { op: 'put-rrset'; ttl: number; records: string[]; if_none_match?: boolean })
  | (RRsetRef & { op: 'delete-rrset' });

function parseType(text: string): number {
  const type = typeFromName(text);
  if (type === undefined) throw badField('type', `unknown type "${text}" (a mnemonic such as TXT, or TYPEnnn)`);
  if (type === 0 || isMetaType(type))
    throw badField('type', `${text} is a meta-type: it cannot be stored in a zone (RFC 6895 §3.1)`);
  return type;
}

const ms = (seconds: number | undefined) => (seconds === undefined ? undefined : Math.round(seconds * 1000));

export class Transaction {
  readonly #b: ApiBackend;
  /** One editor per zone touched: RRsets and pool members, checked by the zone rules as a whole. */
  readonly #editors = new Map<NameKey, ZoneEditor>();
  readonly #state: Change[] = [];
  /** Where in a batch each name was first written, and each pool last lost a target: to blame. */
  readonly #blame = new Map<NameKey, string | undefined>();
  /** Each pool's configured targets by address (a pool of thousands is searched in O(1)). */
  readonly #configured = new Map<Pool, Map<string, TargetDef>>();

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

  #editor(zoneText: string): ZoneEditor {
    const zone = findZone(this.#b, zoneText);
    let editor = this.#editors.get(zone.origin);
    if (!editor) this.#editors.set(zone.origin, (editor = new ZoneEditor(zone)));
    return editor;
  }

  #configuredTarget(pool: Pool, address: string): TargetDef | undefined {
    let m = this.#configured.get(pool);
    if (!m) this.#configured.set(pool, (m = new Map(pool.def.targets.map((t) => [t.address, t]))));
    return m.get(address);
  }

  #add(op: Op, at: string | undefined): void {
    if (op.op === 'put-rrset' || op.op === 'delete-rrset') return this.#rrset(op, at);
    const editor = this.#editor(op.zone);
    const pool = findPool(editor.zone, op.pool);
    const name = pool.def.name;
    if (op.op === 'add-target') return this.#addTarget(editor, pool, op, at);
    const address = parseAddress(op.target, 'target');
    if (!editor.members(name).has(address))
      throw notFound('target', `${address} is not a target of pool ${nameToText(name)}`);
    const def = this.#configuredTarget(pool, address);
    checkVersion(op.if_match, () => def && targetVersion(this.#b, pool, def), `target ${address}`);
    const target = `${nameToText(name)}/${address}`;
    const cur = this.#b.state.target(target);
    switch (op.op) {
      case 'set-weight':
        return void this.#state.push({ kind: 'weight', target, weight: op.weight });
      case 'clear-weight':
        return void this.#state.push({ kind: 'weight', target, weight: null });
      case 'set-load':
        return void this.#state.push({
          kind: 'load',
          target,
          load: op.load,
          capacity: op.capacity,
          validMs: ms(op.valid_for)!,
        });
      case 'clear-load': {
        // A load report has no "none": it is made to expire now.
        const v = cur?.load?.value ?? { load: 0, capacity: 1 };
        return void this.#state.push({ kind: 'load', target, ...v, validMs: 0 });
      }
      case 'set-health':
        return void this.#state.push({
          kind: 'report',
          target,
          state: op.state,
          reason: op.reason,
          ...(op.valid_for !== undefined && { validMs: ms(op.valid_for)! }),
        });
      case 'clear-health':
        return void this.#state.push({ kind: 'report', target, state: null, reason: '' });
      case 'set-override':
        return void this.#state.push({
          kind: 'override',
          target,
          state: op.state,
          reason: op.reason ?? '',
          ...(op.valid_for !== undefined && { validMs: ms(op.valid_for)! }),
        });
      case 'clear-override':
        return void this.#state.push({ kind: 'override', target, state: null, reason: '' });
      case 'remove-target': {
        editor.removeTarget(name, address);
        this.#blame.set(name, at);
        // What was said about the target goes with it: a target added back later starts afresh.
        if (cur?.weight !== undefined) this.#state.push({ kind: 'weight', target, weight: null });
        if (cur?.report) this.#state.push({ kind: 'report', target, state: null, reason: '' });
        if (cur?.override) this.#state.push({ kind: 'override', target, state: null, reason: '' });
        return;
      }
    }
  }

  #addTarget(editor: ZoneEditor, pool: Pool, op: TargetBody & { if_match?: string }, at: string | undefined): void {
    const address = parseAddress(op.address, 'address');
    checkVersion(op.if_match, () => poolVersion(pool), `pool ${nameToText(pool.def.name)}`);
    if (editor.members(pool.def.name).has(address))
      throw conflict('address', `${address} is already a target of pool ${nameToText(pool.def.name)}`);
    const problem = groupProblem(pool.def, op.group);
    if (problem) throw badField('group', problem);
    const regions = op.regions?.map((r) => (r === 'default' ? r : r.toUpperCase()));
    const spec: TargetSpec = {
      ...(op.weight !== undefined && { weight: op.weight }),
      ...placementOf({ location: op.location, bias: op.bias, priority: op.priority, regions }),
      ...(op.group !== undefined && { group: op.group }),
    };
    editor.addTarget(pool.def.name, address, spec);
    if (!this.#blame.has(pool.def.name)) this.#blame.set(pool.def.name, at);
  }

  #rrset(op: Extract<Op, { op: 'put-rrset' | 'delete-rrset' }>, at: string | undefined): void {
    const editor = this.#editor(op.zone);
    const zone = editor.zone;
    const name = nameIn(zone, op.name, 'name');
    if (!isSubdomain(name, zone.origin))
      throw badField('name', `${nameToText(name)} is outside zone ${nameToText(zone.origin)}`);
    const type = parseType(op.type);
    // A child zone served here is answered for itself (RFC 2136 §3.4.1.3's zone_of(name), which
    // UPDATE checks): the parent's data there would never be answered. Only the parent's side of the
    // cut belongs to it: the delegation's NS and DS (DS is answered from the parent, RFC 4035
    // §3.1.4.1) and glue addresses.
    const child = this.#b.zones.find(name);
    if (
      child &&
      child.origin !== zone.origin &&
      !(isAddressType(type) || (name === child.origin && AT_CUT.has(type)))
    ) {
      throw badField(
        'name',
        `${nameToText(name)} is in zone ${nameToText(child.origin)}, also served here: change it there (only NS, DS and glue belong to ${nameToText(zone.origin)})`,
      );
    }
    const label = `${nameToText(name)} ${typeName(type)}`;
    if (zone.pools?.has(name) && isAddressType(type)) {
      throw conflict(
        'name',
        `${nameToText(name)} is a pool: its addresses are its targets (use the pool's targets endpoints)`,
      );
    }
    const before = zone.nodes.get(name)?.rrsets.get(type);
    checkVersion(op.if_match, () => before && rrsetVersion(before), `RRset ${label}`);
    if (!this.#blame.has(name)) this.#blame.set(name, at);
    if (op.op === 'delete-rrset') {
      if (!editor.rrset(name, type)) throw notFound('name', `zone ${nameToText(zone.origin)} has no RRset ${label}`);
      return this.#edit(editor, { op: 'replace', name, type, ttl: 0, rdata: [] });
    }
    if (op.if_none_match && before)
      throw new ApiError(409, 'ERR_VERSION', `RRset ${label} exists (If-None-Match: *)`, 'if_match');
    const rdata: Buffer[] = [];
    const seen = new Set<string>();
    for (const [i, text] of op.records.entries()) {
      let d: Buffer;
      try {
        d = parseRdata(type, text, Buffer.from(zone.origin, 'latin1'));
      } catch (e) {
        if (e instanceof RdataError) throw badField(`records[${i}]`, e.message);
        throw e;
      }
      // RFC 2181 §5: an RRset holds no duplicates; a repeated record is the same record.
      const k = d.toString('latin1');
      if (!seen.has(k)) rdata.push(d);
      seen.add(k);
    }
    const single = type === Type.CNAME || type === Type.DNAME || type === Type.SOA;
    if (single && rdata.length > 1)
      throw badField('records', `a ${typeName(type)} RRset holds exactly one record (RFC 2181 §10.1)`);
    if (type === Type.SOA && !serialNewer(soaSerial(rdata[0]!), zone.serial)) {
      throw conflict(
        'records[0]',
        `the new SOA serial ${soaSerial(rdata[0]!)} must be newer than ${zone.serial} (RFC 1982)`,
      );
    }
    this.#edit(editor, { op: 'replace', name, type, ttl: op.ttl, rdata });
  }

  #edit(editor: ZoneEditor, op: EditOp): void {
    try {
      editor.apply(op);
    } catch (e) {
      throw e instanceof EditError ? conflict(e.field, e.message) : e;
    }
  }

  /**
   * The changeset: state changes, then each zone's data changes with its serial bumped. Throws an
   * ApiError (409) if a zone would break one of its rules, blaming the change that wrote the name.
   */
  changes(): Change[] {
    const out = [...this.#state];
    for (const editor of this.#editors.values()) {
      try {
        out.push(...editor.changes());
      } catch (e) {
        if (!(e instanceof EditError)) throw e;
        const err = conflict(e.field, e.message);
        const at = e.owner === undefined ? undefined : this.#blame.get(e.owner);
        throw at === undefined ? err : err.under(at);
      }
    }
    return out;
  }
}

/**
 * Checks every op and commits them as one changeset, through the store's one commit path: the ops
 * are checked when every earlier change has been applied, the changeset is made durable, then
 * applied; `view` is taken right after, so it shows this change and no later one (its ETag is the
 * version this change made). A change that cannot be made durable is applied nowhere: 503.
 */
export async function commitOps<T>(
  b: ApiBackend,
  source: string,
  ops: readonly Op[],
  view: () => T,
  batch = false,
): Promise<{ view: T; seq: number | null; changes: number }> {
  // One request is checked and applied without yielding: a cap keeps the stall it causes short.
  const max = b.maxChanges ?? DEFAULT_MAX_CHANGES;
  const count = ops.reduce((n, op) => n + (op.op === 'put-rrset' ? Math.max(1, op.records.length) : 1), 0);
  if (count > max) {
    throw new ApiError(
      413,
      'ERR_TOO_LARGE',
      `${count} changes in one request; at most ${max} (--max-changes): split it into several requests`,
      batch ? 'changes' : 'records',
    );
  }
  const build = () => {
    const tx = new Transaction(b);
    ops.forEach((op, i) => tx.add(op, batch ? `changes[${i}]` : undefined));
    return tx.changes();
  };
  try {
    const { changeset, view: out } = await b.state.transact(source, build, view);
    return { view: out, seq: changeset?.seq ?? null, changes: changeset?.changes.length ?? 0 };
  } catch (err) {
    if (err instanceof NotDurableError) throw new ApiError(503, err.code, err.message);
    throw err;
  }
}
