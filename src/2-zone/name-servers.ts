// Which NS sets of a zone name each in-zone name server, so that a change can find the delegations
// it affects without writing their names: deleting a name server's address, the wildcard that
// answers for it (RFC 4592 §3.3.1), or adding a name below it (which makes it exist, so the
// wildcard no longer does) can each leave a delegation without the address it needs
// (7-state/editor.ts).
//
// A zone with 100,000 delegations has as many NS sets, and each change makes a new zone version:
// an index built per version cost 0.2-0.9 s per write there. So the zone file's NS sets are indexed
// once, in slices right after the load (loader.ts), and per version only the overlay's: the names
// changed since the load.

import { Type } from '../0-base/constants.ts';
import { isSubdomain, type NameKey } from '../0-base/name.ts';
import { LayeredMap } from './overlay.ts';
import { rdataTarget } from './rdata.ts';
import { every, runSync, type Steps } from '../0-base/slices.ts';
import type { Zone, ZoneNode } from './types.ts';

/** Owners of NS sets naming each in-zone name server. May list owners whose NS set has changed since: check. */
export interface NameServerIndex {
  owners(target: NameKey): readonly NameKey[];
  /** The name servers that are not names of the zone: only a wildcard can answer for them. */
  absent(): Iterable<NameKey>;
}

type Index = Map<NameKey, NameKey[]>;

interface FileIndex {
  readonly owners: Index;
  /** Name servers that are not names of the file's zone (a handful, if any). */
  readonly absent: readonly NameKey[];
}

const byNodes = new WeakMap<ReadonlyMap<NameKey, ZoneNode>, FileIndex>();
const byZone = new WeakMap<Zone, NameServerIndex>();

function* indexSteps(origin: NameKey, nodes: Iterable<[NameKey, ZoneNode | null]>): Steps<Index> {
  const out: Index = new Map();
  let i = 0;
  for (const [owner, node] of nodes) {
    if (every(++i)) yield;
    for (const d of node?.rrsets.get(Type.NS)?.rdata ?? []) {
      const target = rdataTarget(Type.NS, d);
      if (target === undefined || !isSubdomain(target, origin)) continue;
      const owners = out.get(target);
      if (owners) owners.push(owner);
      else out.set(target, [owner]);
    }
  }
  return out;
}

/** Indexes the NS sets of a zone's final node map, as loaded from its file (add no names to it afterwards). */
export function* indexNameServersSteps(nodes: ReadonlyMap<NameKey, ZoneNode>, origin: NameKey): Steps<void> {
  if (byNodes.has(nodes)) return;
  const owners = yield* indexSteps(origin, nodes);
  byNodes.set(nodes, { owners, absent: [...owners.keys()].filter((t) => !nodes.has(t)) });
}

/** The index of `zone`'s NS sets: the file's (indexed at load), and the overlay's for this version. */
export function nameServerIndex(zone: Zone): NameServerIndex {
  const known = byZone.get(zone);
  if (known) return known;
  const layered = zone.nodes instanceof LayeredMap ? (zone.nodes as LayeredMap<NameKey, ZoneNode>) : null;
  const base = layered?.base ?? zone.nodes;
  runSync(indexNameServersSteps(base, zone.origin));
  const file = byNodes.get(base)!;
  const changed = layered ? runSync(indexSteps(zone.origin, layered.overlay)) : new Map<NameKey, NameKey[]>();
  // Absent now: absent from the file, or named since, or a name the overlay removed.
  const maybe = [...file.absent, ...changed.keys(), ...(layered?.overlay.keys() ?? [])];
  const absent = new Set(maybe.filter((t) => (file.owners.has(t) || changed.has(t)) && !zone.nodes.has(t)));
  const made: NameServerIndex = {
    owners: (target) => [...(file.owners.get(target) ?? []), ...(changed.get(target) ?? [])],
    absent: () => absent,
  };
  byZone.set(zone, made);
  return made;
}
