// The difference between two versions of a zone as a transfer sends them (RFC 1995 §4: the RRs
// deleted and the RRs added between two serials), for the IXFR history (6-serve/ixfr-history.ts).
// RRs are compared by their wire form without owner (TYPE CLASS TTL RDATA): a TTL change is the
// old RR deleted and the new one added, as an IXFR client applies it. The apex SOA is left out:
// the history writes the old and new SOA around each difference itself. Pure.

import { Type } from '../0-base/constants.ts';
import type { NameKey } from '../0-base/name.ts';
import { every, runSync, type Steps } from '../0-base/slices.ts';
import type { RRset } from '../1-codec/rrset.ts';
import type { Entry } from '../1-codec/response.ts';
import { LayeredMap } from '../2-zone/overlay.ts';
import type { ZoneNode } from '../2-zone/types.ts';
import type { PooledZone } from '../4-gslb/pool.ts';

export interface ZoneDiff {
  readonly deleted: readonly Entry[];
  readonly added: readonly Entry[];
  /** Octets of the RRs in both lists, without owner names (the history's byte bound). */
  readonly bytes: number;
}

/**
 * What changed from `before` to `after` (the same origin), with the pools' transferred RRsets of
 * each version (`poolsBefore`, `poolsAfter`: what 5-answer/transfer.ts `poolRecords` gave at each
 * serial). Names are compared only where the node maps can differ: when one version's nodes are an
 * overlay on the other's (2-zone/overlay.ts), the names of the overlays alone; otherwise every name
 * (`everyName`), yielding now and then so a large zone can be compared in slices (0-base/slices.ts).
 */
export function* zoneDiffSteps(
  before: PooledZone,
  poolsBefore: readonly Entry[],
  after: PooledZone,
  poolsAfter: readonly Entry[],
): Steps<ZoneDiff> {
  const deleted: Entry[] = [];
  const added: Entry[] = [];
  let bytes = 0;
  const rrsetDiff = (owner: NameKey, old: RRset | undefined, now: RRset | undefined) => {
    if (old === now || (old && now && sameWires(old, now))) return;
    const oldWires = new Set((old?.wire ?? []).map((w) => w.toString('latin1')));
    const nowWires = new Set((now?.wire ?? []).map((w) => w.toString('latin1')));
    const gone = old ? pickMissing(old, nowWires) : [];
    const come = now ? pickMissing(now, oldWires) : [];
    if (gone.length) {
      deleted.push({ owner, rrset: old!, pick: gone });
      for (const i of gone) bytes += old!.wire[i]!.length;
    }
    if (come.length) {
      added.push({ owner, rrset: now!, pick: come });
      for (const i of come) bytes += now!.wire[i]!.length;
    }
  };
  const nodeDiff = (name: NameKey, old: ZoneNode | undefined, now: ZoneNode | undefined) => {
    if (old === now) return;
    const apex = name === after.origin;
    for (const [t, rrset] of now?.rrsets ?? [])
      if (!(apex && t === Type.SOA)) rrsetDiff(name, old?.rrsets.get(t), rrset);
    for (const [t, rrset] of old?.rrsets ?? [])
      if (!(apex && t === Type.SOA) && !now?.rrsets.has(t)) rrsetDiff(name, rrset, undefined);
  };
  const names = candidates(before.nodes, after.nodes);
  if (names) {
    for (const name of names) nodeDiff(name, before.nodes.get(name), after.nodes.get(name));
  } else {
    // Every name: those of `after`, then those only `before` has.
    let i = 0;
    for (const [name, node] of after.nodes) {
      nodeDiff(name, before.nodes.get(name), node);
      if (every(++i)) yield;
    }
    for (const [name, node] of before.nodes) {
      if (!after.nodes.has(name)) nodeDiff(name, node, undefined);
      if (every(++i)) yield;
    }
  }
  // Pools: by owner and type, as transferred at each serial.
  const key = (e: Entry) => `${e.owner}|${e.rrset.type}`;
  const old = new Map(poolsBefore.map((e) => [key(e), e]));
  const now = new Map(poolsAfter.map((e) => [key(e), e]));
  for (const k of new Set([...old.keys(), ...now.keys()])) {
    const o = old.get(k);
    const n = now.get(k);
    rrsetDiff((o ?? n)!.owner, o?.rrset, n?.rrset);
  }
  return { deleted, added, bytes };
}

/** Indexes of the RRs of `rrset` whose wire form is not in `others`. */
function pickMissing(rrset: RRset, others: ReadonlySet<string>): number[] {
  const out: number[] = [];
  rrset.wire.forEach((w, i) => {
    if (!others.has(w.toString('latin1'))) out.push(i);
  });
  return out;
}

/** zoneDiffSteps run straight through. */
export const zoneDiff = (
  before: PooledZone,
  poolsBefore: readonly Entry[],
  after: PooledZone,
  poolsAfter: readonly Entry[],
): ZoneDiff => runSync(zoneDiffSteps(before, poolsBefore, after, poolsAfter));

/** Whether comparing these versions goes through every name (a reload), not an overlay's names only (an update). */
export const everyName = (before: PooledZone, after: PooledZone): boolean =>
  candidates(before.nodes, after.nodes) === null;

/** The same RRs in the same order (what a reload of an unchanged name gives): no difference. */
function sameWires(a: RRset, b: RRset): boolean {
  if (a.wire.length !== b.wire.length) return false;
  for (let i = 0; i < a.wire.length; i++) if (!a.wire[i]!.equals(b.wire[i]!)) return false;
  return true;
}

/** The names whose nodes may differ between two node maps; null: any name may. */
function candidates(a: ReadonlyMap<NameKey, ZoneNode>, b: ReadonlyMap<NameKey, ZoneNode>): Iterable<NameKey> | null {
  // An update lays an overlay over the file's nodes: only the overlays' names can differ.
  if (a instanceof LayeredMap && b instanceof LayeredMap && a.base === b.base)
    return new Set([...a.overlay.keys(), ...b.overlay.keys()]);
  if (b instanceof LayeredMap && b.base === a) return b.overlay.keys();
  if (a instanceof LayeredMap && a.base === b) return a.overlay.keys();
  return null;
}
