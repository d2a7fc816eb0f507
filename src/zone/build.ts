// Parsed records → an immutable Zone: RRsets pre-encoded for the answer path, every empty
// non-terminal present as a node (so NXDOMAIN and NODATA are one map lookup apart), delegation
// points and DNAMEs listed. A zone that fails a content check is not built at all: the caller keeps
// serving the previous version.

import { Type } from '../dns/constants.ts';
import { parentKey, type NameKey } from '../dns/name.ts';
import type { SourceError } from '../errors.ts';
import { groupRecords, release, type Grouped, type PendingNode, type PendingSet } from './group.ts';
import { checkIntegrity } from './integrity.ts';
import { nameEnd } from './rdata-io.ts';
import type { ParsedRecord, Zone } from './types.ts';

export type BuildResult =
  | { readonly kind: 'zone'; readonly zone: Zone; readonly records: number; readonly warnings: SourceError[] }
  | { readonly kind: 'invalid'; readonly errors: SourceError[]; readonly warnings: SourceError[] };

/** Shared by every empty non-terminal; never written to. */
const NO_RRSETS = new Map<number, PendingSet>();

/**
 * Builds the zone `origin` (a key) from its records; `file` names the zone in messages that have
 * no line (no SOA, say). `records` counts RRs after duplicates are merged. Errors and warnings
 * are sorted by file and line.
 */
export function buildZone(origin: NameKey, file: string, records: readonly ParsedRecord[]): BuildResult {
  const grouped = groupRecords(origin, records);
  const names = grouped.names;
  const ents = emptyNonTerminals(origin, names);
  const checked = checkIntegrity(origin, file, names, (k) => names.has(k) || ents.has(k));
  const errors = sortByPlace([...grouped.errors, ...checked.errors]);
  const warnings = sortByPlace([...grouped.warnings, ...checked.warnings]);
  if (errors.length > 0) return { kind: 'invalid', errors, warnings };

  release(names);
  let count = 0;
  for (const node of names.values()) for (const set of node.rrsets.values()) count += set.rdata.length;
  const nodes: Map<NameKey, PendingNode> = names;
  for (const name of ents) nodes.set(name, { name, rrsets: NO_RRSETS });
  const soa = names.get(origin)!.rrsets.get(Type.SOA)!;
  const soaRdata = soa.rdata[0]!;
  const serial = soaRdata.readUInt32BE(nameEnd(soaRdata, nameEnd(soaRdata, 0)));
  const zone: Zone = { origin, file, serial, soa, nodes, cuts: checked.cuts, dnames: checked.dnames };
  return { kind: 'zone', zone, records: count, warnings };
}

/** Names between an owner and the origin that own nothing themselves (RFC 4592 §2.2.2). */
function emptyNonTerminals(origin: NameKey, names: Grouped): Set<NameKey> {
  const ents = new Set<NameKey>();
  for (const name of names.keys()) {
    for (let k = parentKey(name); k !== null && k.length > origin.length; k = parentKey(k)) {
      if (names.has(k) || ents.has(k)) break;
      ents.add(k);
    }
  }
  return ents;
}

function sortByPlace(list: SourceError[]): SourceError[] {
  return list.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}
