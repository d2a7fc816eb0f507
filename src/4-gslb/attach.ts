// Joins a zone and its pools file: checks that every pool name may be dynamic, makes sure each
// pool name exists as a node (with its empty non-terminals), and returns the zone with pools.

import { findCut, findDname } from '../2-zone/find.ts';
import { Type, typeName } from '../0-base/constants.ts';
import { isSubdomain, nameToText, parentKey, type NameKey } from '../0-base/name.ts';
import { SourceError } from '../0-base/errors.ts';
import type { BuiltZone } from '../2-zone/build.ts';
import type { ZoneNode } from '../2-zone/types.ts';
import { Pool } from './pool.ts';
import type { PoolDef } from './types.ts';

const STATIC_CONFLICTS = [Type.A, Type.AAAA, Type.CNAME, Type.DNAME];

/**
 * `zone` is one the loader has just built: the pool names are added to its own node map rather
 * than to a copy (copying a million names would stall answering for 100 ms or more during a
 * reload). Nothing is added when any pool has an error; the zone is then not served anyway.
 */
export function attachPools(zone: BuiltZone, defs: readonly PoolDef[]): { zone: BuiltZone; errors: SourceError[] } {
  const errors: SourceError[] = [];
  const nodes = zone.nodes;
  const pools = new Map<NameKey, Pool>();
  for (const def of defs) {
    const fail = (reason: string) =>
      errors.push(new SourceError('ERR_POOLS', def.file, def.line, `pool ${def.label}: ${reason}`));
    if (!isSubdomain(def.name, zone.origin)) {
      fail(`${nameToText(def.name)} is outside zone ${nameToText(zone.origin)}`);
      continue;
    }
    const below = findCut(zone, def.name);
    if (below !== undefined) {
      fail(`${nameToText(def.name)} lies in the delegation ${nameToText(below)}: its answers come from the child zone`);
      continue;
    }
    const redirected = findDname(zone, def.name);
    if (redirected !== undefined) {
      fail(`${nameToText(def.name)} lies below the DNAME at ${nameToText(redirected)}, which redirects it (RFC 6672)`);
      continue;
    }
    const node = nodes.get(def.name);
    const clash = node && STATIC_CONFLICTS.find((t) => node.rrsets.has(t));
    if (clash !== undefined) {
      fail(
        `${nameToText(def.name)} also has static ${typeName(clash)} data in ${zone.file}: a name is either a pool or static data`,
      );
      continue;
    }
    pools.set(def.name, new Pool(def));
  }
  if (errors.length) return { zone, errors };
  // The pool name and every name between it and the apex must exist (RFC 4592 §2.2.2: else
  // a wildcard could answer for it, or an ancestor would wrongly be NXDOMAIN).
  for (const name of pools.keys()) {
    for (let k: NameKey | null = name; k !== null && !nodes.has(k); k = parentKey(k)) {
      const empty: ZoneNode = { name: k, rrsets: new Map() };
      nodes.set(k, empty);
    }
  }
  return { zone: { ...zone, pools }, errors };
}
