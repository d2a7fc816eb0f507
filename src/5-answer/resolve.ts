// The authoritative answer algorithm: RFC 1034 §4.3.2 with RFC 2308 negative answers, RFC 4592
// wildcards, RFC 6672 DNAME, RFC 6604 rcodes for CNAME chains and RFC 8482 for ANY. Pure: zones in, Answer out.

import { Rcode, Type } from '../0-base/constants.ts';
import { isAddressType } from '../0-base/address.ts';
import { MAX_NAME, isSubdomain, keyToWire, parentKey, wildcardOf, type NameKey } from '../0-base/name.ts';
import { makeRRset } from '../1-codec/rrset.ts';
import type { Answer, Entry } from '../1-codec/response.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { Pool, PoolAnswer } from '../4-gslb/pool.ts';
import type { PolicyContext } from '../3-policy/types.ts';
import type { ZoneSource } from '../2-zone/store.ts';
import type { ZoneNode } from '../2-zone/types.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { RRset } from '../1-codec/rrset.ts';
import { findCut, findDname } from '../2-zone/find.ts';
import { soaMinimum } from '../0-base/serial.ts';

export interface Question {
  readonly qname: NameKey;
  readonly qtype: number;
  /** For pool names: who is asking (policy context) and the targets' state. */
  readonly gslb: { readonly ctx: PolicyContext; readonly health: HealthView };
  /** Receives each pool decision taken for this answer (for /explain and metrics). */
  readonly onPool?: (pool: Pool, decision: PoolAnswer) => void;
}

const REFUSED: Answer = { rcode: Rcode.REFUSED, aa: false, answer: [], authority: [], additional: [] };
/** Enough for any sane chain; a loop or a longer chain stops here (RFC 1034 §3.6.2 forbids loops). */
const MAX_CHAIN = 16;

/** RFC 2308 §3: the SOA of a negative answer carries TTL = min(SOA TTL, SOA MINIMUM). */
export function negativeSoa(zone: PooledZone): Entry {
  const rdata = zone.soa.rdata[0]!;
  return { owner: zone.origin, rrset: zone.soa, ttl: Math.min(zone.soa.ttl, soaMinimum(rdata)) };
}

/** Adds A and AAAA of in-zone `targets` to `out` (RFC 1035 §3.3.9/§3.3.11, RFC 2782). */
function addAddresses(zone: PooledZone, targets: readonly NameKey[], glue: boolean, out: Entry[]): void {
  for (const t of targets) {
    if (!isSubdomain(t, zone.origin)) continue;
    if (!glue && findCut(zone, t) !== undefined) continue;
    const node = zone.nodes.get(t);
    if (!node) continue;
    const a = node.rrsets.get(Type.A);
    if (a) out.push({ owner: t, rrset: a });
    const aaaa = node.rrsets.get(Type.AAAA);
    if (aaaa) out.push({ owner: t, rrset: aaaa });
  }
}

function additionalFor(zone: PooledZone, rrset: RRset, out: Entry[]): void {
  const t = rrset.type;
  if (t === Type.MX || t === Type.SRV || t === Type.NS) addAddresses(zone, rrset.targets, t === Type.NS, out);
}

/** The zone to answer from: DS for a zone apex belongs to the parent side (RFC 4035 §3.1.4.1). */
function zoneFor(zones: ZoneSource<PooledZone>, qname: NameKey, qtype: number): PooledZone | undefined {
  const zone = zones.find(qname);
  if (zone && qtype === Type.DS && zone.origin === qname) {
    const up = parentKey(qname);
    const parent = up === null ? undefined : zones.find(up);
    if (parent) return parent;
  }
  return zone;
}

export function resolve(zones: ZoneSource<PooledZone>, q: Question): Answer {
  const zone = zoneFor(zones, q.qname, q.qtype);
  const qtype = q.qtype;
  // Names in no zone of ours, and zone transfers (not offered): REFUSED.
  if (!zone || qtype === Type.AXFR || qtype === Type.IXFR) return REFUSED;
  // RFC 1035 §4.3.5: a secondary whose copy expired is no longer authoritative for the zone.
  if (zone.expired)
    return { zone: zone.origin, rcode: Rcode.SERVFAIL, aa: false, answer: [], authority: [], additional: [] };
  const answer: Entry[] = [];
  const authority: Entry[] = [];
  const additional: Entry[] = [];
  let name = q.qname;
  /** RFC 7871 §7.2.1: the widest scope valid for every pool decision in this answer. */
  let scope = 0;

  for (let hop = 0; hop < MAX_CHAIN; hop++) {
    const cut = findCut(zone, name);
    const dname = findDname(zone, name);
    // The higher of the two (the shorter key) hides the other.
    if (dname !== undefined && (cut === undefined || dname.length < cut.length)) {
      // RFC 6672 §3.2: the DNAME, then a CNAME synthesized from it, then on with the new name.
      const rrset = zone.nodes.get(dname)!.rrsets.get(Type.DNAME)!;
      answer.push({ owner: dname, rrset });
      const prefix = name.slice(0, name.length - dname.length);
      const target = prefix + rrset.targets[0]!;
      // §2.2: a substitution longer than a name may be is YXDOMAIN, with the DNAME alone.
      if (target.length > MAX_NAME)
        return { zone: zone.origin, rcode: Rcode.YXDOMAIN, aa: true, answer, authority, additional };
      // §3.1: the DNAME's TTL. The prefix is the question's (compressed to it); the target keeps the zone's case.
      answer.push({
        owner: name,
        rrset: makeRRset(name, Type.CNAME, rrset.ttl, [Buffer.concat([keyToWire(prefix), rrset.rdata[0]!])], [target]),
      });
      if (!isSubdomain(target, zone.origin) || answer.some((e) => e.owner === target)) {
        return { zone: zone.origin, rcode: Rcode.NOERROR, aa: true, answer, authority, additional };
      }
      name = target;
      continue;
    }
    if (cut !== undefined && !(cut === name && qtype === Type.DS)) {
      // Referral (RFC 1034 §4.3.2 step 3b): not authoritative for what lies below the cut.
      const ns = zone.nodes.get(cut)!.rrsets.get(Type.NS)!;
      authority.push({ owner: cut, rrset: ns });
      addAddresses(zone, ns.targets, true, additional);
      return { zone: zone.origin, rcode: Rcode.NOERROR, aa: answer.length > 0, answer, authority, additional };
    }

    const owner = name;
    let node: ZoneNode | undefined = zone.nodes.get(name);
    if (!node) {
      // RFC 4592 §3.3.1: the closest encloser is the longest existing ancestor (empty
      // non-terminals exist); a wildcard directly below it is the source of synthesis.
      let encloser = parentKey(name)!;
      while (!zone.nodes.has(encloser)) encloser = parentKey(encloser)!;
      node = zone.nodes.get(wildcardOf(encloser));
      if (!node) {
        authority.push(negativeSoa(zone));
        return { zone: zone.origin, rcode: Rcode.NXDOMAIN, aa: true, answer, authority, additional };
      }
    }

    const pool = zone.pools?.get(owner);
    // RFC 8482 §4.2: ANY gets one RRset, the lowest type. At a pool name that is the pool's own
    // answer (A, or AAAA when it has no IPv4 target): no A, AAAA or CNAME can sit beside a pool.
    const poolType = pool && qtype === Type.ANY ? (pool.targetsFor(Type.A).length ? Type.A : Type.AAAA) : qtype;
    if (qtype === Type.ANY && !pool) {
      anyAnswer(node, owner, answer);
      // The one RRset chosen gets the same additional-section addresses as when asked by type.
      for (const e of answer) additionalFor(zone, e.rrset, additional);
      if (answer.length === 0) authority.push(negativeSoa(zone));
      return { zone: zone.origin, rcode: Rcode.NOERROR, aa: true, answer, authority, additional };
    }
    if (pool && isAddressType(poolType)) {
      const decision = pool.answer(poolType, q.gslb.ctx, q.gslb.health);
      q.onPool?.(pool, decision);
      scope = Math.max(scope, decision.scope);
      if (decision.rrset) {
        // One shape for both (pick undefined: every RR), not a spread of an optional field.
        answer.push({ owner, rrset: decision.rrset, ttl: decision.ttl, pick: decision.pick });
      } else {
        // No address of this family, or fallback `none`: NODATA, cached no longer than the pool's TTL.
        const soa = negativeSoa(zone);
        authority.push({ ...soa, ttl: Math.min(soa.ttl!, decision.ttl) });
      }
      return {
        zone: zone.origin,
        rcode: Rcode.NOERROR,
        aa: true,
        answer,
        authority,
        additional,
        ecsScope: scope,
        dynamic: true,
      };
    }
    const rrset = node.rrsets.get(qtype);
    if (rrset) {
      answer.push({ owner, rrset });
      additionalFor(zone, rrset, additional);
      return { zone: zone.origin, rcode: Rcode.NOERROR, aa: true, answer, authority, additional };
    }
    const cname = node.rrsets.get(Type.CNAME);
    if (cname) {
      answer.push({ owner, rrset: cname });
      const target = cname.targets[0]!;
      // Follow the chain only inside this zone; a resolver restarts outside it (RFC 1034 §4.3.2).
      if (!isSubdomain(target, zone.origin) || answer.some((e) => e.owner === target)) {
        return { zone: zone.origin, rcode: Rcode.NOERROR, aa: true, answer, authority, additional };
      }
      name = target;
      continue;
    }
    // NODATA (RFC 2308 §2.2): the name exists (possibly as an empty non-terminal), the type not.
    authority.push(negativeSoa(zone));
    return { zone: zone.origin, rcode: Rcode.NOERROR, aa: true, answer, authority, additional };
  }
  return { zone: zone.origin, rcode: Rcode.NOERROR, aa: true, answer, authority, additional };
}

/**
 * RFC 8482 §4.2: ANY gets one RRset, the CNAME if there is one, else the lowest type; Knot does the
 * same over both transports, and a full answer only feeds amplification and misuse.
 */
function anyAnswer(node: ZoneNode, owner: NameKey, out: Entry[]): void {
  let best: RRset | undefined;
  for (const rrset of node.rrsets.values()) {
    if (!best || rrset.type === Type.CNAME || (best.type !== Type.CNAME && rrset.type < best.type)) best = rrset;
  }
  if (best) out.push({ owner, rrset: best });
}
