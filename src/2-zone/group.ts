// Groups parsed records by owner and type into RRsets, applying RFC 2181 §5: identical RRs are one
// RR, and an RRset has one TTL. The sets are built in their final form (wire encoding included)
// in this one pass, and the maps made here become the zone's own: a million-record zone would
// otherwise allocate every map and RRset twice. Each set remembers its source records until the
// checks are done, so they can point at a line.

import { Type } from '../0-base/constants.ts';
import { isSubdomain, keyOf, nameToText, type NameKey } from '../0-base/name.ts';
import { SourceError } from '../0-base/errors.ts';
import { rdataTarget } from './rdata.ts';
import { nameEnd } from '../0-base/name.ts';
import { encodeRR } from '../1-codec/rrset.ts';
import type { ParsedRecord, ZoneNode } from './types.ts';
import type { RRset } from '../1-codec/rrset.ts';
import { every, tableFull, type Steps } from '../0-base/slices.ts';

/** An RRset being assembled; it is also the finished RRset once `release`d. */
export interface PendingSet extends RRset {
  readonly rdata: Buffer[];
  readonly wire: Buffer[];
  targets: NameKey[];
  /** `records[i]` is where `rdata[i]` came from; emptied by `release`. */
  records: ParsedRecord[];
  /** Comparison forms of `rdata`, made once the set is big enough to need them. */
  seen: Set<string> | undefined;
}

export interface PendingNode extends ZoneNode {
  readonly rrsets: Map<number, PendingSet>;
}

/** Owners at or below the origin, each with its RRsets by type. */
export type Grouped = Map<NameKey, PendingNode>;

export interface GroupResult {
  readonly names: Grouped;
  readonly errors: SourceError[];
  readonly warnings: SourceError[];
}

const NO_TARGETS: NameKey[] = [];
const NO_RECORDS: ParsedRecord[] = [];

export function* groupRecordsSteps(origin: NameKey, records: readonly ParsedRecord[]): Steps<GroupResult> {
  const names: Grouped = new Map();
  const errors: SourceError[] = [];
  const warnings: SourceError[] = [];
  let i = 0;
  for (const rec of records) {
    if (every(++i)) yield;
    const key = keyOf(rec.owner);
    if (!isSubdomain(key, origin)) {
      errors.push(
        new SourceError(
          'ERR_ZONE_CONTENT',
          rec.file,
          rec.line,
          `${nameToText(rec.owner)} is outside the zone ${nameToText(origin)}`,
        ),
      );
      continue;
    }
    let node = names.get(key);
    if (!node) {
      if (tableFull(names.size)) yield true;
      names.set(key, (node = { name: key, rrsets: new Map() }));
    }
    const set = node.rrsets.get(rec.type);
    if (!set) {
      node.rrsets.set(rec.type, newSet(key, rec));
      continue;
    }
    if (has(set, rec.rdata)) continue;
    if (rec.ttl !== set.ttl && set.records.every((r) => r.ttl === set.ttl)) {
      warnings.push(
        new SourceError(
          'ERR_ZONE_CONTENT',
          rec.file,
          rec.line,
          `TTL ${rec.ttl} differs from ${set.ttl}, the TTL of the first record of this RRset; ` +
            `using ${set.ttl} for all (RFC 2181 §5.2)`,
        ),
      );
    }
    set.rdata.push(rec.rdata);
    set.wire.push(encodeRR(set.type, set.ttl, rec.rdata));
    const t = rdataTarget(set.type, rec.rdata);
    if (t !== undefined) {
      if (set.targets === NO_TARGETS) set.targets = [t];
      else set.targets.push(t);
    }
    set.records.push(rec);
  }
  return { names, errors, warnings };
}

// Arrays start as literals holding their first element: an empty array's first push reserves
// room for 17, and most RRsets hold one RR.
function newSet(owner: NameKey, rec: ParsedRecord): PendingSet {
  const { type, ttl, rdata } = rec;
  const t = rdataTarget(type, rdata);
  return {
    owner,
    type,
    ttl,
    rdata: [rdata],
    wire: [encodeRR(type, ttl, rdata)],
    targets: t !== undefined ? [t] : NO_TARGETS,
    records: [rec],
    seen: undefined,
  };
}

/**
 * Drops what only the checks needed, so the parsed records can be freed with the zone kept.
 * Returns the number of RRs.
 */
export function* release(names: Grouped): Steps<number> {
  let i = 0;
  let count = 0;
  for (const node of names.values()) {
    if (every(++i)) yield;
    for (const set of node.rrsets.values()) {
      set.records = NO_RECORDS;
      set.seen = undefined;
      count += set.rdata.length;
    }
  }
  return count;
}

/** Sets up to this size are searched directly; larger ones keep a set of comparison forms. */
const SCAN_LIMIT = 8;

function has(set: PendingSet, rdata: Buffer): boolean {
  if (set.rdata.length < SCAN_LIMIT) {
    const c = comparable(set.type, rdata);
    return set.rdata.some((r) => r.length === rdata.length && comparable(set.type, r) === c);
  }
  set.seen ??= new Set(set.rdata.map((r) => comparable(set.type, r)));
  const c = comparable(set.type, rdata);
  if (set.seen.has(c)) return true;
  set.seen.add(c);
  return false;
}

/**
 * RDATA as a string that is equal for RRs RFC 2181 §5 calls identical: names embedded in the
 * RDATA of these types compare without case (RFC 4034 §6.2 lists them for canonical form).
 */
function comparable(type: number, rdata: Buffer): string {
  const s = rdata.toString('latin1');
  const spans = nameSpans(type, rdata);
  if (spans.length === 0) return s;
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    out += s.slice(at, start) + keyOf(rdata, start, end); // ASCII-only folding, as DNS does
    at = end;
  }
  return out + s.slice(at);
}

/** [start, end) of each domain name inside RDATA of the types whose names are case-insensitive. */
function nameSpans(type: number, d: Buffer): [number, number][] {
  const one = (at: number): [number, number][] => {
    const end = nameEnd(d, at);
    return end < 0 ? [] : [[at, end]];
  };
  switch (type) {
    case Type.NS:
    case Type.CNAME:
    case Type.PTR:
    case Type.DNAME:
      return one(0);
    case Type.MX:
      return one(2);
    case Type.SRV:
      return one(6);
    case Type.SOA: {
      const first = one(0);
      return first.length ? [...first, ...one(first[0]![1])] : [];
    }
    case Type.NAPTR: {
      let p = 4;
      for (let k = 0; k < 3 && p < d.length; k++) p += 1 + d[p]!;
      return one(p);
    }
    default:
      return [];
  }
}
