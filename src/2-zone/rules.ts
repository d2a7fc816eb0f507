// The rules a zone's content must keep, in one place, for whoever changes it: the loader checks a
// whole zone file with them (integrity.ts), and the ZoneEditor (7-state/editor.ts) checks every
// name a change touches with them, whether the change came from the HTTP API or RFC 2136 UPDATE.
//
// Each rule reads the zone through a `ZoneView` (what the zone will hold once the change is made)
// and returns the reason it is broken, or null. The reasons are the messages operators read.
// The size of an RRset has its own file, rrset-size.ts, used the same way.

import { Type } from '../0-base/constants.ts';
import { isAddressType } from '../0-base/address.ts';
import { isSubdomain, nameToText, parentKey, wildcardOf, type NameKey } from '../0-base/name.ts';

/** The zone as it would be: the caller lays its pending changes over the zone in service. */
export interface ZoneView {
  readonly origin: NameKey;
  /** Does `name` own an RRset of `type`? (Pool names own A/AAAA while their pool has such targets.) */
  has(name: NameKey, type: number): boolean;
  /** Does `name` exist (own data, or have names below it)? */
  exists(name: NameKey): boolean;
  /** The NS targets at `name` (empty when none). */
  nameServers(name: NameKey): readonly NameKey[];
}

/** What belongs at a delegation point: the NS set, its DS, glue, and their DNSSEC records. */
export const AT_CUT: ReadonlySet<number> = new Set<number>([
  Type.NS,
  Type.DS,
  Type.A,
  Type.AAAA,
  Type.RRSIG,
  Type.NSEC,
]);

const txt = nameToText;

export const isCut = (z: ZoneView, name: NameKey): boolean => name !== z.origin && z.has(name, Type.NS);

/** The delegation point at or above `name` (the apex excluded), if any. */
export function cutAbove(z: ZoneView, name: NameKey): NameKey | undefined {
  for (let k: NameKey | null = name; k !== null && k.length > z.origin.length; k = parentKey(k))
    if (isCut(z, k)) return k;
  return undefined;
}

/**
 * May `name` own an RRset of `type`? RFC 1034 §4.2.1: at a delegation point only the NS set, its
 * DS and glue; below it only glue. RFC 6672 §2.3: nothing below a DNAME. The SOA is the apex's.
 */
export function placementProblem(z: ZoneView, name: NameKey, type: number): string | null {
  if (type === Type.SOA && name !== z.origin) return 'an SOA record belongs at the zone apex only';
  for (let k: NameKey | null = parentKey(name); k !== null && k.length >= z.origin.length; k = parentKey(k)) {
    if (z.has(k, Type.DNAME)) return `${txt(name)} is below the DNAME at ${txt(k)}: RFC 6672 §2.3 allows no data there`;
  }
  const cut = cutAbove(z, name);
  if (cut === undefined || isAddressType(type)) return null;
  if (cut === name && AT_CUT.has(type)) return null;
  return `${txt(name)} is at or below the delegation ${txt(cut)}: only NS, DS and glue addresses belong there`;
}

/** RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME is alone at its name (DNSSEC records aside, RFC 4035 §2.5). */
export const CNAME_COMPANIONS: ReadonlySet<number> = new Set<number>([Type.CNAME, Type.RRSIG, Type.NSEC]);

export const cnameConflict = (name: NameKey): string =>
  `${txt(name)}: CNAME and other data cannot share a name (RFC 2181 §10.1)`;

/** Does the name server `target` of the NS set at `owner` have the address it needs in the zone? */
export function glueProblem(z: ZoneView, target: NameKey): string | null {
  if (!isSubdomain(target, z.origin)) return null;
  const cut = cutAbove(z, target);
  if (cut !== undefined) {
    return hasAddress(z, target)
      ? null
      : `missing glue: name server ${txt(target)} is at or below the delegation point ${txt(cut)} and has no A or AAAA record`;
  }
  if (z.has(target, Type.CNAME)) return `name server ${txt(target)} is an alias (CNAME); RFC 2181 §10.3 forbids that`;
  return hasAddress(z, target) ? null : `name server ${txt(target)} has no A or AAAA record in the zone`;
}

function hasAddress(z: ZoneView, name: NameKey): boolean {
  if (z.has(name, Type.A) || z.has(name, Type.AAAA)) return true;
  if (z.exists(name)) return false;
  // RFC 4592 §3.3.1: a name that does not exist is answered from its closest encloser's wildcard.
  for (let p = parentKey(name); p !== null && p.length >= z.origin.length; p = parentKey(p)) {
    if (!z.exists(p)) continue;
    const w = wildcardOf(p);
    return z.has(w, Type.A) || z.has(w, Type.AAAA);
  }
  return false;
}
