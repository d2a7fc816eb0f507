// Load-time content checks of a grouped zone, the ones named-checkzone and Knot apply before they
// serve a zone: one SOA at the apex, apex NS, CNAME exclusivity, glue for in-zone name servers,
// every RRset small enough for one response.
// Errors stop the zone loading; warnings (data that will never be served, odd but legal data)
// do not. Also works out the delegation points and DNAMEs the answer path steers by.

import { Type, typeName } from '../0-base/constants.ts';
import { isAddressType } from '../0-base/address.ts';
import { nameToText, parentKey, type NameKey } from '../0-base/name.ts';
import { AT_CUT, CNAME_COMPANIONS, glueProblem, type ZoneView } from './rules.ts';
import { SourceError } from '../0-base/errors.ts';
import type { Grouped, PendingNode } from './group.ts';
import { rdataTarget } from './rdata.ts';
import { rrsetSizeError } from './rrset-size.ts';
import type { ParsedRecord } from './types.ts';
import { every, type Steps } from '../0-base/slices.ts';

export interface Integrity {
  /** Delegation points not themselves occluded by a higher cut or DNAME. */
  readonly cuts: Set<NameKey>;
  readonly dnames: Set<NameKey>;
  readonly errors: SourceError[];
  readonly warnings: SourceError[];
}

const txt = nameToText;

/** `names` holds every name of the zone, empty non-terminals (nodes without RRsets) included. */
export function* checkIntegritySteps(origin: NameKey, file: string, names: Grouped): Steps<Integrity> {
  let i = 0;
  const errors: SourceError[] = [];
  const warnings: SourceError[] = [];
  const error = (at: ParsedRecord | null, reason: string) =>
    errors.push(new SourceError('ERR_ZONE_CONTENT', at ? at.file : file, at ? at.line : 0, reason));
  const warn = (at: ParsedRecord, reason: string) =>
    warnings.push(new SourceError('ERR_ZONE_CONTENT', at.file, at.line, reason));
  // Delegation points and DNAME owners hide every name below them. Most zones have few or none,
  // so they are found once and each name's ancestors are looked up in that small set.
  const blockers = new Set<NameKey>();
  for (const [name, { rrsets }] of names) {
    if (every(++i)) yield;
    if ((name !== origin && rrsets.has(Type.NS)) || rrsets.has(Type.DNAME)) blockers.add(name);
  }
  /** The highest delegation point or DNAME owner strictly above `name`, if any. */
  const occluder = (name: NameKey): NameKey | undefined => {
    let top: NameKey | undefined;
    for (let k = parentKey(name); k !== null && k.length >= origin.length; k = parentKey(k))
      if (blockers.has(k)) top = k;
    return top;
  };

  const cuts = new Set<NameKey>();
  const dnames = new Set<NameKey>();
  /** Served names with MX or SRV records, whose targets are checked once all cuts are known. */
  const pointers: PendingNode[] = [];
  for (const [name, pending] of names) {
    if (every(++i)) yield;
    const node = pending.rrsets;
    for (const set of node.values()) {
      const tooLarge = rrsetSizeError(name, set.type, set.rdata);
      if (tooLarge !== null) error(set.records[0]!, tooLarge);
    }
    const soa = node.get(Type.SOA);
    if (soa && name !== origin)
      error(soa.records[0]!, `SOA at ${txt(name)}: only the zone apex ${txt(origin)} may have one`);
    checkAliases(pending, name === origin, error);
    const occ = name === origin || blockers.size === 0 ? undefined : occluder(name);
    if (occ !== undefined) {
      const cut = occ !== origin && names.get(occ)!.rrsets.has(Type.NS);
      for (const set of node.values()) {
        if (cut && isAddressType(set.type)) continue; // glue
        warn(
          set.records[0]!,
          `${typeName(set.type)} at ${txt(name)} is not served: it is below the ` +
            (cut ? `delegation point ${txt(occ)}` : `DNAME at ${txt(occ)} (RFC 6672 §2.3)`),
        );
      }
      continue;
    }
    if (node.has(Type.DNAME)) dnames.add(name);
    if (name !== origin && node.has(Type.NS)) {
      cuts.add(name);
      for (const set of node.values()) {
        if (!AT_CUT.has(set.type)) {
          warn(set.records[0]!, `${typeName(set.type)} at ${txt(name)} is not served: the name is a delegation point`);
        }
      }
      continue;
    }
    if (node.has(Type.DS)) {
      warn(
        node.get(Type.DS)!.records[0]!,
        name === origin
          ? 'DS at the zone apex belongs in the parent zone'
          : `DS at ${txt(name)}, which is not a delegation point`,
      );
    }
    if (node.has(Type.MX) || node.has(Type.SRV)) pointers.push(pending);
  }

  const apex = names.get(origin)?.rrsets;
  const soa = apex?.get(Type.SOA);
  if (!soa) error(null, `no SOA record at the zone apex ${txt(origin)}`);
  else if (soa.rdata.length > 1) error(soa.records[1]!, `a second SOA record at the apex: a zone has exactly one`);
  if (!apex?.has(Type.NS)) error(null, `no NS records at the zone apex ${txt(origin)}`);

  // The loader's view of the zone for the rules it shares with the API and UPDATE (rules.ts).
  const view: ZoneView = {
    origin,
    has: (name, type) => names.get(name)?.rrsets.has(type) ?? false,
    exists: (name) => names.has(name),
    nameServers: (name) =>
      (names.get(name)?.rrsets.get(Type.NS)?.rdata ?? [])
        .map((rd) => rdataTarget(Type.NS, rd))
        .filter((t) => t !== undefined),
  };
  const checkNameServers = (owner: NameKey): void => {
    const ns = names.get(owner)?.rrsets.get(Type.NS);
    ns?.rdata.forEach((rd, i) => {
      const target = rdataTarget(Type.NS, rd);
      const problem = target === undefined ? null : glueProblem(view, target);
      if (problem) error(ns.records[i]!, problem);
    });
  };
  checkNameServers(origin);
  // A TLD-like zone is mostly delegations: this loop may be as long as the one over all names.
  for (const cut of cuts) {
    if (every(++i)) yield;
    checkNameServers(cut);
  }

  // RFC 2181 §10.3: MX and SRV targets must not be aliases. Legal to load, so only a warning.
  for (const { rrsets } of pointers) {
    if (every(++i)) yield;
    for (const set of [rrsets.get(Type.MX), rrsets.get(Type.SRV)]) {
      set?.rdata.forEach((rd, i) => {
        const target = rdataTarget(set.type, rd);
        if (target !== undefined && names.get(target)?.rrsets.has(Type.CNAME)) {
          warn(
            set.records[i]!,
            `${typeName(set.type)} target ${txt(target)} is an alias (CNAME); RFC 2181 §10.3 forbids that`,
          );
        }
      });
    }
  }
  return { cuts, dnames, errors, warnings };
}

/** RFC 1034 §3.6.2 / RFC 2181 §10.1: a CNAME is alone at its name; RFC 6672 §2.4: one DNAME. */
function checkAliases(
  { name, rrsets: node }: PendingNode,
  apex: boolean,
  error: (at: ParsedRecord, reason: string) => void,
): void {
  const dname = node.get(Type.DNAME);
  if (dname && dname.rdata.length > 1) error(dname.records[1]!, `more than one DNAME at ${txt(name)} (RFC 6672 §2.4)`);
  const cname = node.get(Type.CNAME);
  if (!cname) return;
  const c = cname.records[0]!;
  if (apex) return error(c, 'CNAME at the zone apex, which has SOA and NS records (RFC 1034 §3.6.2)');
  if (cname.rdata.length > 1) error(cname.records[1]!, `more than one CNAME at ${txt(name)} (RFC 1034 §3.6.2)`);
  for (const set of node.values()) {
    if (CNAME_COMPANIONS.has(set.type)) continue;
    const o = set.records[0]!;
    // Point at whichever came second in the file: that is the one that broke the rule.
    const [at, other] = o.file === c.file && o.line > c.line ? [o, c] : [c, o];
    error(
      at,
      `${txt(name)} has a CNAME and other data (${typeName(at === c ? set.type : Type.CNAME)} at ` +
        `${other.file}:${other.line}); RFC 2181 §10.1 allows nothing beside a CNAME`,
    );
    return;
  }
}
