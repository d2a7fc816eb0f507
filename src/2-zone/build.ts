// Parsed records → an immutable Zone: RRsets pre-encoded for the answer path, every empty
// non-terminal present as a node (so NXDOMAIN and NODATA are one map lookup apart), delegation
// points and DNAMEs listed. A zone that fails a content check is not built at all: the caller keeps
// serving the previous version.

import { Type } from '../0-base/constants.ts';
import { parentKey, type NameKey } from '../0-base/name.ts';
import type { SourceError } from '../0-base/errors.ts';
import { groupRecordsSteps, release, type Grouped, type PendingSet } from './group.ts';
import { every, runSliced, runSync, tableFull, type Steps } from '../0-base/slices.ts';
import { checkIntegritySteps } from './integrity.ts';
import { soaSerial } from '../0-base/serial.ts';
import type { ParsedRecord, Zone, ZoneNode } from './types.ts';

export type BuildResult =
  | { readonly kind: 'zone'; readonly zone: BuiltZone; readonly records: number; readonly warnings: SourceError[] }
  | { readonly kind: 'invalid'; readonly errors: SourceError[]; readonly warnings: SourceError[] };

/**
 * A zone just built. Its node map is still the builder's own, shared with no reader yet, so the
 * loader may add its pool names to it (`attachPools`) before it serves the zone.
 */
export interface BuiltZone extends Zone {
  readonly nodes: Map<NameKey, ZoneNode>;
}

/** Shared by every empty non-terminal; never written to. */
const NO_RRSETS = new Map<number, PendingSet>();

/**
 * Builds the zone `origin` (a key) from its records; `file` names the zone in messages that have
 * no line (no SOA, say). `records` counts RRs after duplicates are merged. Errors and warnings
 * are sorted by file and line.
 */
export function buildZone(origin: NameKey, file: string, records: readonly ParsedRecord[]): BuildResult {
  return runSync(buildSteps(origin, file, records));
}

/** The same, in slices: a reload of a large zone leaves the event loop free to answer meanwhile. */
export function buildZoneSliced(origin: NameKey, file: string, records: readonly ParsedRecord[]): Promise<BuildResult> {
  return runSliced(buildSteps(origin, file, records));
}

function* buildSteps(origin: NameKey, file: string, records: readonly ParsedRecord[]): Steps<BuildResult> {
  const grouped = yield* groupRecordsSteps(origin, records);
  const names = grouped.names;
  yield* addEmptyNonTerminals(origin, names);
  const checked = yield* checkIntegritySteps(origin, file, names);
  const errors = sortByPlace([...grouped.errors, ...checked.errors]);
  const warnings = sortByPlace([...grouped.warnings, ...checked.warnings]);
  if (errors.length > 0) return { kind: 'invalid', errors, warnings };

  const count = yield* release(names);
  const soa = names.get(origin)!.rrsets.get(Type.SOA)!;
  const soaRdata = soa.rdata[0]!;
  const serial = soaSerial(soaRdata);
  const zone: BuiltZone = { origin, file, serial, soa, nodes: names, cuts: checked.cuts, dnames: checked.dnames };
  return { kind: 'zone', zone, records: count, warnings };
}

/**
 * Adds the names between an owner and the origin that own nothing themselves (RFC 4592 §2.2.2),
 * as nodes without RRsets. They go straight into the map that becomes the zone's: no second set of
 * names to build, then copy in one go.
 */
function* addEmptyNonTerminals(origin: NameKey, names: Grouped): Steps<void> {
  let i = 0;
  // Names added here are visited too; their parents are all present by then, so each stops at once.
  for (const name of names.keys()) {
    if (every(++i)) yield;
    for (let k = parentKey(name); k !== null && k.length > origin.length && !names.has(k); k = parentKey(k)) {
      if (tableFull(names.size)) yield true;
      names.set(k, { name: k, rrsets: NO_RRSETS });
    }
  }
}

function sortByPlace(list: SourceError[]): SourceError[] {
  return list.sort((a, b) => (a.file === b.file ? a.line - b.line : a.file < b.file ? -1 : 1));
}
