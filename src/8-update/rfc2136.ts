// RFC 2136 UPDATE, authenticated with TSIG (RFC 8945), applied as one transaction: the message is
// checked (TSIG, zone section, the key's zones, update prescan §3.4.1), then, inside one
// StateStore.transact, the prerequisites (§3.2) are checked and the updates applied to a
// ZoneEditor's working copy (§3.4.2) against the zone as every earlier transaction left it, and
// the resulting changeset is made durable before anything sees it. The answer waits for the
// journal's fsync (§3.5: changes are on stable storage before the response goes out); any error
// commits nothing.
//
// Choices where the RFCs leave room:
// - Order: TSIG (RFC 8945 §5.2), zone section (§3.1), then permission (§3.3) before the
//   prerequisites, so an unauthenticated client cannot probe the zone with them.
// - Unsigned updates and a key updating a zone not listed for it: REFUSED (§3.3: policy).
// - ZCLASS ANY/NONE: FORMERR (a meta-class names no zone); another class we do not serve: NOTAUTH.
// - The response echoes the zone section only (§3.8 allows echoing all or nothing; BIND, Knot do
//   this too), plus an OPT if the request had one.
// - RDATA added or deleted must be valid for its type as a zone file would need it: else FORMERR.
// - A/AAAA at a pool name change the pool's targets; their TTL is the pool's, the update's is not used.

import type { PooledZone } from '../4-gslb/pool.ts';
import { Class, isMetaType, Rcode, Type, typeName } from '../0-base/constants.ts';
import type { Transport, UpdateHandler } from '../6-serve/handler.ts';
import { nameToText, ROOT, type NameKey } from '../0-base/name.ts';
import { encodeError } from '../1-codec/response.ts';
import { tsigAnswer, TsigError, verifyRequest, type TsigKey, type TsigVerdict } from '../1-codec/tsig.ts';
import type { Logger } from '../0-base/log.ts';
import { NotDurableError, type Change, type StateStore } from '../7-state/types.ts';
import { encodeRdata } from '../2-zone/rdata.ts';
import { RdataError } from '../2-zone/rdata-io.ts';
import type { ZoneSource } from '../2-zone/store.ts';
import { DEFAULT_MAX_CHANGES, EditError, rdataKey, ZoneEditor, type EditOp } from '../7-state/editor.ts';
import { parseUpdate, UpdateFormatError, type UpdateMessage, type UpdateRecord } from './message.ts';

export interface UpdateDeps {
  readonly zones: ZoneSource<PooledZone>;
  readonly state: StateStore;
  /** Read at every message: a getter lets a reload's keys apply to the next one (Service does). */
  readonly keys: readonly TsigKey[];
  /** Seconds: the largest TSIG fudge accepted (RFC 8945 §5.2.3); 300 when absent. Read at every message. */
  readonly maxFudge?: number;
  /** Milliseconds since the epoch (TSIG time checks). */
  readonly now: () => number;
  readonly log: Pick<Logger, 'info' | 'warn' | 'debug' | 'error'>;
  /** Told the outcome of each UPDATE (metrics): NOERROR is 'applied', any other rcode 'rejected'. */
  readonly count?: (result: 'applied' | 'rejected') => void;
  /** Most RRs one update section may carry (`--max-changes`); more: REFUSED. */
  readonly maxChanges?: number;
}

/** How an update ended: the rcode to answer and, for the log, why. */
interface Outcome {
  readonly rcode: number;
  readonly reason: string;
  /** Worth an info line: an authenticated update refused for what it asked (zone rules, size). */
  readonly notable?: boolean;
}

const outcome = (rcode: number, reason: string, notable = false): Outcome => ({ rcode, reason, notable });

// 16 is BADVERS as an rcode, BADSIG as a TSIG error.
const RCODE_NAMES = new Map<number, string>(
  Object.entries(Rcode)
    .filter(([k]) => k !== 'BADSIG')
    .map(([k, v]) => [v, k]),
);
const TSIG_ERRORS = new Map<number, string>(Object.entries(TsigError).map(([k, v]) => [v, k]));

/** The UPDATE handler for the DNS handler's `onUpdate`. */
export function createUpdateHandler(deps: UpdateDeps): UpdateHandler {
  // TSIG failures are worth a warning, but a flood of forged messages must not flood the log.
  let warnedAt = -Infinity;
  return async (msg: Buffer, via: Transport): Promise<Buffer | null> => {
    if (msg.length < 12) return null;
    const now = deps.now();
    const verdict = verifyRequest(msg, deps.keys, now, deps.maxFudge);
    let parsed: UpdateMessage | null = null;
    let early: Outcome | null = null;
    const tsigStart = verdict.kind === 'unsigned' ? null : (verdict.record?.start ?? null);
    try {
      parsed = parseUpdate(msg, tsigStart);
    } catch (e) {
      if (!(e instanceof UpdateFormatError)) throw e;
      early = outcome(Rcode.FORMERR, e.message);
    }
    // A TSIG failure wins: its answer says so (and the message is read only to echo its zone).
    if (verdict.kind === 'error') early = outcome(verdict.rcode, verdict.reason);
    const done = early ?? (await processUpdate(parsed!, verdict, deps));
    const keyName =
      verdict.kind === 'ok'
        ? nameToText(verdict.key.name)
        : verdict.kind === 'error' && verdict.record
          ? nameToText(verdict.record.keyName)
          : null;
    const zone = parsed?.zones.length === 1 ? nameToText(parsed.zones[0]!.name) : null;
    const fields = {
      from: via.address,
      tcp: via.tcp,
      zone,
      key: keyName,
      rcode: rcodeText(done.rcode, verdict),
      reason: done.reason,
    };
    deps.count?.(done.rcode === Rcode.NOERROR ? 'applied' : 'rejected');
    if (done.rcode === Rcode.NOERROR) deps.log.info(fields, 'update');
    else if (verdict.kind === 'error' && verdict.rcode === Rcode.NOTAUTH && now - warnedAt >= 10_000) {
      warnedAt = now;
      deps.log.warn(fields, 'update: TSIG check failed');
    } else if (done.notable) deps.log.info(fields, 'update refused');
    else deps.log.debug(fields, 'update refused');
    // RFC 2136 §2.2: header bits other than QR, opcode and rcode are zero in a response.
    const flags = msg.readUInt16BE(2) & 0x7800;
    const response = encodeError(
      msg,
      msg.readUInt16BE(0),
      flags,
      done.rcode,
      parsed?.zoneEnd ?? 12,
      parsed?.edns ?? null,
    );
    return tsigAnswer(response, verdict, now);
  };
}

function rcodeText(rcode: number, v: TsigVerdict): string {
  const name = RCODE_NAMES.get(rcode) ?? String(rcode);
  return v.kind === 'error' && v.tsigError ? `${name}/${TSIG_ERRORS.get(v.tsigError) ?? v.tsigError}` : name;
}

/** Steps §3.1 to §3.6 for a message whose TSIG verified or that had none. */
function processUpdate(m: UpdateMessage, verdict: TsigVerdict, deps: UpdateDeps): Outcome | Promise<Outcome> {
  if (m.edns && m.edns.version > 0) return outcome(Rcode.BADVERS, `EDNS version ${m.edns.version}`);
  // §3.1.1: exactly one zone, type SOA, a zone we are authoritative for (its apex, not a name in it).
  if (m.zones.length !== 1) return outcome(Rcode.FORMERR, `ZOCOUNT ${m.zones.length}`);
  const z = m.zones[0]!;
  if (z.type !== Type.SOA) return outcome(Rcode.FORMERR, `zone section type ${typeName(z.type)}`);
  if (z.klass === Class.ANY || z.klass === Class.NONE) return outcome(Rcode.FORMERR, `zone section class ${z.klass}`);
  const zone = z.klass === Class.IN ? deps.zones.get(z.name) : undefined;
  if (!zone) return outcome(Rcode.NOTAUTH, `${nameToText(z.name)} is not a zone served here`);
  if (zone.generated) return outcome(Rcode.REFUSED, `${nameToText(z.name)} is generated by gslbd: it takes no update`);
  // §3.3: permission.
  if (verdict.kind !== 'ok') return outcome(Rcode.REFUSED, 'unsigned update');
  const key = verdict.key;
  if (key.zones && !key.zones.includes(zone.origin))
    return outcome(Rcode.REFUSED, `key ${nameToText(key.name)} may not update ${nameToText(zone.origin)}`);

  // RFC 2136 zone_of(name) == ZNAME: in this zone and not in a child zone we also serve.
  const inZone = (name: NameKey) => deps.zones.find(name)?.origin === zone.origin;
  // One update runs without yielding: a cap on each section keeps the stall it causes short
  // (bench/big-writes.ts). Prerequisites are read against the zone much as changes are written.
  const max = deps.maxChanges ?? DEFAULT_MAX_CHANGES;
  if (m.prerequisites.length > max)
    return outcome(
      Rcode.REFUSED,
      `${m.prerequisites.length} prerequisites in one update; at most ${max} (--max-changes)`,
      true,
    );
  if (m.updates.length > max)
    return outcome(Rcode.REFUSED, `${m.updates.length} changes in one update; at most ${max} (--max-changes)`, true);
  const scan = prescan(m.updates, inZone);
  if (scan) return scan;
  // Prerequisites and the update itself read the zone when every earlier change has been applied
  // (StateStore.transact), so nothing can come between the prerequisites and the commit (§3.7).
  let refused: Outcome | null = null;
  const build = (): readonly Change[] => {
    const editor = new ZoneEditor(deps.zones.get(zone.origin) ?? zone);
    refused = checkPrerequisites(m.prerequisites, editor, inZone);
    if (refused) return [];
    try {
      for (const rr of m.updates) editor.apply(toOp(rr));
      return editor.changes();
    } catch (e) {
      // The zone would break a rule the loader and the API keep (2-zone/rules.ts): REFUSED, as Knot
      // answers an update that fails its semantic checks, with the reason in the log.
      if (!(e instanceof EditError)) throw e;
      refused = outcome(Rcode.REFUSED, e.message, true);
      return [];
    }
  };
  const serial = () => deps.zones.get(zone.origin)?.serial;
  return deps.state.transact(`update:${nameToText(key.name)}`, build, serial).then(
    // §3.6: the serial moves only when the zone does; an update that changes nothing just succeeds.
    ({ changeset, view }) =>
      refused ??
      outcome(Rcode.NOERROR, changeset ? `${changeset.changes.length} change(s), serial ${view}` : 'no change'),
    (err: unknown) => {
      if (!(err instanceof NotDurableError)) throw err;
      deps.log.error(
        { err: err.cause, zone: nameToText(zone.origin) },
        'update not made durable: not applied, answered SERVFAIL',
      );
      return outcome(Rcode.SERVFAIL, 'journal write failed');
    },
  );
}

/** RFC 2136 §3.2.5, in section order; value-dependent RRsets are compared last, whole. */
function checkPrerequisites(
  rrs: readonly UpdateRecord[],
  editor: ZoneEditor,
  inZone: (n: NameKey) => boolean,
): Outcome | null {
  const temp = new Map<string, { name: NameKey; type: number; rdata: Buffer[] }>();
  for (const rr of rrs) {
    const what = `${nameToText(rr.name)} ${typeName(rr.type)}`;
    if (rr.ttl !== 0) return outcome(Rcode.FORMERR, `prerequisite ${what}: TTL is not 0`);
    if (!inZone(rr.name)) return outcome(Rcode.NOTZONE, `prerequisite ${what}: outside the zone`);
    if (rr.klass === Class.ANY || rr.klass === Class.NONE) {
      if (rr.rdlength !== 0) return outcome(Rcode.FORMERR, `prerequisite ${what}: RDATA with class ${rr.klass}`);
      const exists = rr.type === Type.ANY ? editor.nameInUse(rr.name) : editor.rrset(rr.name, rr.type) !== undefined;
      if (rr.klass === Class.ANY && !exists)
        return outcome(rr.type === Type.ANY ? Rcode.NXDOMAIN : Rcode.NXRRSET, `prerequisite ${what}: does not exist`);
      if (rr.klass === Class.NONE && exists)
        return outcome(rr.type === Type.ANY ? Rcode.YXDOMAIN : Rcode.YXRRSET, `prerequisite ${what}: exists`);
    } else if (rr.klass === Class.IN) {
      const k = `${rr.name}|${rr.type}`;
      const set = temp.get(k) ?? { name: rr.name, type: rr.type, rdata: [] };
      set.rdata.push(rr.rdata);
      temp.set(k, set);
    } else {
      return outcome(Rcode.FORMERR, `prerequisite ${what}: class ${rr.klass}`);
    }
  }
  for (const set of temp.values()) {
    // §3.2.3: the RRsets must be equal as sets. By key, not pair by pair: a prerequisite section
    // naming a large RRset whole cost seconds compared pairwise (quadratic).
    const cur = new Set((editor.rrset(set.name, set.type)?.rdata ?? []).map((d) => rdataKey(set.type, d)));
    const wanted = new Set(set.rdata.map((d) => rdataKey(set.type, d)));
    if (cur.size !== wanted.size || [...wanted].some((k) => !cur.has(k))) {
      return outcome(Rcode.NXRRSET, `prerequisite ${nameToText(set.name)} ${typeName(set.type)}: RRset differs`);
    }
  }
  return null;
}

/** RFC 2136 §3.4.1.3, plus RDATA that must be valid for its type. */
function prescan(rrs: readonly UpdateRecord[], inZone: (n: NameKey) => boolean): Outcome | null {
  for (const rr of rrs) {
    const what = `update ${nameToText(rr.name)} ${typeName(rr.type)}`;
    if (!inZone(rr.name)) return outcome(Rcode.NOTZONE, `${what}: outside the zone`);
    // Meta and query types (ANY, AXFR, MAILA, MAILB, OPT, TSIG ...) are never data; TYPE 0 is reserved.
    const meta = isMetaType(rr.type) || rr.type === 0;
    if (rr.klass === Class.IN) {
      if (meta) return outcome(Rcode.FORMERR, `${what}: not a data type`);
    } else if (rr.klass === Class.ANY) {
      if (rr.ttl !== 0 || rr.rdlength !== 0) return outcome(Rcode.FORMERR, `${what}: class ANY with TTL or RDATA`);
      if (meta && rr.type !== Type.ANY) return outcome(Rcode.FORMERR, `${what}: not a data type`);
      continue;
    } else if (rr.klass === Class.NONE) {
      if (rr.ttl !== 0) return outcome(Rcode.FORMERR, `${what}: class NONE with a TTL`);
      if (meta) return outcome(Rcode.FORMERR, `${what}: not a data type`);
    } else {
      return outcome(Rcode.FORMERR, `${what}: class ${rr.klass}`);
    }
    const bad = rdataProblem(rr.type, rr.rdata);
    if (bad) return outcome(Rcode.FORMERR, `${what}: ${bad}`);
  }
  return null;
}

/** The zone loader's own check of RDATA given in RFC 3597 form (the same rules as a zone file). */
function rdataProblem(type: number, rdata: Buffer): string | undefined {
  const tokens = ['\\#', String(rdata.length), rdata.toString('hex')].map((text) => ({ text, quoted: false, line: 0 }));
  try {
    encodeRdata(type, tokens, 0, Buffer.from(ROOT, 'latin1'));
    return undefined;
  } catch (e) {
    if (e instanceof RdataError) return e.message;
    throw e;
  }
}

/** §3.4.2: the update RR's class says what it does. */
function toOp(rr: UpdateRecord): EditOp {
  if (rr.klass === Class.ANY)
    return rr.type === Type.ANY
      ? { op: 'delete-name', name: rr.name }
      : { op: 'delete-rrset', name: rr.name, type: rr.type };
  if (rr.klass === Class.NONE) return { op: 'delete-rr', name: rr.name, type: rr.type, rdata: rr.rdata };
  // RFC 2181 §8: a TTL with the top bit set is taken as zero.
  return { op: 'add', name: rr.name, type: rr.type, ttl: rr.ttl > 0x7fffffff ? 0 : rr.ttl, rdata: rr.rdata };
}
