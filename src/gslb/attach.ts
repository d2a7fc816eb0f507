// Joins a zone and its pools file: checks that every pool name may be dynamic, makes sure each
// pool name exists as a node (with its empty non-terminals), and returns the zone with pools.

import { findCut } from '../answer/resolve.ts';
import { Type, typeName } from '../dns/constants.ts';
import { isSubdomain, nameToText, parentKey, type NameKey } from '../dns/name.ts';
import { SourceError } from '../errors.ts';
import type { Zone, ZoneNode } from '../zone/types.ts';
import { Pool } from './pool.ts';
import type { PoolDef } from './types.ts';

const STATIC_CONFLICTS = [Type.A, Type.AAAA, Type.CNAME, Type.DNAME];

export function attachPools(zone: Zone, defs: readonly PoolDef[]): { zone: Zone; errors: SourceError[] } {
  const errors: SourceError[] = [];
  const nodes = new Map(zone.nodes);
  const pools = new Map<NameKey, Pool>();
  for (const def of defs) {
    const fail = (reason: string) => errors.push(new SourceError('ERR_POOLS', def.file, def.line, `pool ${def.label}: ${reason}`));
    if (!isSubdomain(def.name, zone.origin)) {
      fail(`${nameToText(def.name)} is outside zone ${nameToText(zone.origin)}`);
      continue;
    }
    const below = findCut(zone, def.name);
    if (below !== undefined) {
      fail(`${nameToText(def.name)} lies in the delegation ${nameToText(below)}: its answers come from the child zone`);
      continue;
    }
    const node = nodes.get(def.name);
    const clash = node && STATIC_CONFLICTS.find((t) => node.rrsets.has(t));
    if (clash !== undefined) {
      fail(`${nameToText(def.name)} also has static ${typeName(clash)} data in ${zone.file}: a name is either a pool or static data`);
      continue;
    }
    // The pool name and every name between it and the apex must exist (RFC 4592 §2.2.2: else
    // a wildcard could answer for it, or an ancestor would wrongly be NXDOMAIN).
    for (let k: NameKey | null = def.name; k !== null && !nodes.has(k); k = parentKey(k)) {
      const empty: ZoneNode = { name: k, rrsets: new Map() };
      nodes.set(k, empty);
    }
    pools.set(def.name, new Pool(def));
  }
  if (errors.length) return { zone, errors };
  return { zone: { ...zone, nodes, pools }, errors };
}
