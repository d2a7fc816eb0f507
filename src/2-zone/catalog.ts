// A catalog zone (RFC 9432, schema version 2): a zone whose content lists other zones, so that a
// secondary that consumes it (Knot `catalog-role: interpret`, BIND `catalog-zones`) adds and drops
// member zones by itself. Built here from a member list and a serial, never read from a file;
// 9-main decides the members and keeps the serial going forward.

import { createHash } from 'node:crypto';
import { Type } from '../0-base/constants.ts';
import { keyFromText, keyToWire, type NameKey } from '../0-base/name.ts';
import { buildZone } from './build.ts';
import type { ParsedRecord, Zone } from './types.ts';

/** RFC 9432 §4.2.1: the schema version this catalog follows. */
export const CATALOG_VERSION = '2';

/**
 * SOA timers. REFRESH: NOTIFY is the fast path, the hourly refresh a fallback. EXPIRE as large as
 * RFC 1982 allows, as RFC 9432's examples: a consumer that cannot reach us keeps its member zones.
 */
const SOA_TIMERS = [3600, 600, 2147483646, 0] as const;

/**
 * The unique id of a member (RFC 9432 §4.3: one label, unique in the catalog): the first 8 octets
 * of SHA-256 over its lower-case wire name, as 16 hex digits. It depends on the member's name
 * only, so a member keeps its id whatever else joins or leaves (§5.1: a changed id makes a consumer
 * reset the zone).
 */
export function memberId(member: NameKey): string {
  return createHash('sha256').update(keyToWire(member)).digest('hex').slice(0, 16);
}

/** The owner of a member's PTR: `<id>.zones.<catalog>` (RFC 9432 §4.3). */
export function memberOwner(catalog: NameKey, member: NameKey): NameKey {
  return keyFromText(`${memberId(member)}.zones`, keyToWire(catalog));
}

/**
 * The catalog `origin` at `serial` listing `members`: SOA, NS `invalid.` (§4.1), `version` TXT
 * "2" (§4.2.1) and one PTR per member (§4.3), every TTL 0 (§4: TTLs have no meaning here).
 * `file` names it in messages. It has no pools (`never`: it goes in any store of zones). Throws if
 * two members share an id (2^-64: a defect, not a config).
 */
export function catalogZone(origin: NameKey, serial: number, members: readonly NameKey[], file: string): Zone<never> {
  const apex = keyToWire(origin);
  const invalid = keyToWire(keyFromText('invalid.'));
  const soa = Buffer.alloc(invalid.length * 2 + 20);
  invalid.copy(soa, 0);
  invalid.copy(soa, invalid.length);
  [serial >>> 0, ...SOA_TIMERS].forEach((n, i) => soa.writeUInt32BE(n, invalid.length * 2 + i * 4));
  const rr = (owner: Buffer, type: number, rdata: Buffer, line: number): ParsedRecord => ({
    owner,
    type,
    ttl: 0,
    rdata,
    file,
    line,
  });
  const records = [
    rr(apex, Type.SOA, soa, 1),
    rr(apex, Type.NS, invalid, 1),
    rr(keyToWire(keyFromText('version', apex)), Type.TXT, Buffer.from([1, ...Buffer.from(CATALOG_VERSION)]), 1),
  ];
  const owners = new Set<NameKey>();
  for (const m of members) {
    const owner = memberOwner(origin, m);
    if (owners.has(owner)) throw new Error(`catalog ${file}: two members with the id of ${memberId(m)}`);
    owners.add(owner);
    records.push(rr(keyToWire(owner), Type.PTR, keyToWire(m), 1));
  }
  const built = buildZone(origin, file, records);
  if (built.kind !== 'zone') throw new Error(`catalog ${file}: ${built.errors.map((e) => e.message).join('; ')}`);
  const { nodes, soa: soaSet, cuts, dnames } = built.zone;
  return { origin, file, serial: built.zone.serial, soa: soaSet, nodes, cuts, dnames, generated: true };
}
