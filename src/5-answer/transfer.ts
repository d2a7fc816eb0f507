// The records of a zone transfer (RFC 5936 §2.2): the zone as it is served now, SOA first and
// last, every RRset in between, and each pool as the plain A/AAAA RRsets a secondary can serve
// (secondaries cannot run our policies). Pure: a zone and the targets' state in, entries out.

import { Type } from '../0-base/constants.ts';
import { addressFamily, addressRdata, typeOfFamily } from '../0-base/address.ts';
import { makeRRset } from '../1-codec/rrset.ts';
import type { Entry } from '../1-codec/response.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { Pool, PooledZone } from '../4-gslb/pool.ts';
import type { TargetDef } from '../4-gslb/types.ts';

/**
 * What a pool becomes in a transfer (`pools-in-transfer`):
 * - `all`: every configured target not drained (an override `drain`, or weight 0);
 * - `healthy`: the targets in service now, as gslbd would choose among them;
 * - `omit`: nothing (the pool's name gets no address records).
 * When no target qualifies, the pool's `fallback` decides, as it does for gslbd's own answers.
 */
export type PoolsInTransfer = 'all' | 'healthy' | 'omit';

export const POOLS_IN_TRANSFER: readonly PoolsInTransfer[] = ['all', 'healthy', 'omit'];

/**
 * Every record of `zone` for a transfer, lazily: SOA, then each name's RRsets (a pool's address
 * records after its name's own RRsets), then the SOA again (RFC 5936 §2.2: the first and last RR
 * of the transfer are the zone's SOA). Targets' state is read as of `now`.
 */
export function* zoneRecords(
  zone: PooledZone,
  pools: PoolsInTransfer,
  health: HealthView,
  now: number,
): Generator<Entry> {
  const soa: Entry = { owner: zone.origin, rrset: zone.soa };
  yield soa;
  for (const node of zone.nodes.values()) {
    for (const rrset of node.rrsets.values()) {
      if (rrset.type === Type.SOA && node.name === zone.origin) continue;
      yield { owner: node.name, rrset };
    }
    const pool = pools === 'omit' ? undefined : zone.pools?.get(node.name);
    if (pool) yield* poolRecords(pool, pools, health, now);
  }
  yield soa;
}

/** A pool's A and AAAA RRsets as transferred in `mode`, with the pool's TTL. */
export function* poolRecords(pool: Pool, mode: PoolsInTransfer, health: HealthView, now: number): Generator<Entry> {
  const def = pool.def;
  for (const family of [4, 6] as const) {
    const type = typeOfFamily(family);
    const targets = pool.targetsFor(type);
    if (targets.length === 0) continue;
    let addresses = targets.filter((t) => transferred(t, mode, health, now)).map((t) => t.address);
    if (addresses.length === 0) {
      // No target qualifies: what gslbd itself answers then (fail open by default).
      const f = def.fallback;
      addresses =
        f.kind === 'all'
          ? targets.map((t) => t.address)
          : f.kind === 'sorry'
            ? f.addresses.filter((a) => addressFamily(a) === family)
            : [];
    }
    if (addresses.length === 0) continue;
    yield {
      owner: def.name,
      rrset: makeRRset(
        def.name,
        type,
        def.ttl,
        addresses.map((a) => addressRdata(a)!),
      ),
    };
  }
}

function transferred(t: TargetDef, mode: PoolsInTransfer, health: HealthView, now: number): boolean {
  const st = health.status(t, now);
  // A drain override shows as weight 0 (7-state/target-health.ts), as does a configured weight 0.
  if ((st.weight ?? t.weight) <= 0) return false;
  return mode === 'all' || st.up;
}
