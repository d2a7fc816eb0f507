// Which NS sets of a zone name each in-zone name server, so that a change can find the delegations
// it affects without writing their names: deleting a name server's address, the wildcard that
// answers for it (RFC 4592 §3.3.1), or adding a name below it (which makes it exist, so the
// wildcard no longer does) can each leave a delegation without the address it needs.

import { Type } from '../dns/constants.ts';
import { isSubdomain, type NameKey } from '../dns/name.ts';
import { rdataTarget } from '../zone/rdata.ts';
import type { Zone } from '../zone/types.ts';

/** A zone version is immutable: its index is built once, by the first change that needs it. */
const cache = new WeakMap<Zone, ReadonlyMap<NameKey, readonly NameKey[]>>();

/**
 * In-zone name server → owners of the NS sets naming it: the apex and the delegation points the
 * loader checks glue for (`zone.cuts`). Costs one pass over those NS sets.
 */
export function nameServerOwners(zone: Zone): ReadonlyMap<NameKey, readonly NameKey[]> {
  const known = cache.get(zone);
  if (known) return known;
  const out = new Map<NameKey, NameKey[]>();
  for (const owner of [zone.origin, ...zone.cuts]) {
    for (const d of zone.nodes.get(owner)?.rrsets.get(Type.NS)?.rdata ?? []) {
      const target = rdataTarget(Type.NS, d);
      if (target === undefined || !isSubdomain(target, zone.origin)) continue;
      const owners = out.get(target);
      if (owners) owners.push(owner);
      else out.set(target, [owner]);
    }
  }
  cache.set(zone, out);
  return out;
}
