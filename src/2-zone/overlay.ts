// Dynamic zone data (API, RFC 2136 UPDATE) laid over a zone loaded from its file.
//
// Copying a large zone's node map for every update would make an update cost O(zone); instead the
// patched zone reads through a small overlay map (changed names only) into the file's map.
// Empty non-terminals appear and disappear as names are added and deleted (RFC 4592 §2.2.2).

import { Type } from '../0-base/constants.ts';
import { keyOf, parentKey, parseName, type NameKey } from '../0-base/name.ts';
import { rdataTarget } from './rdata.ts';
import { makeRRset } from '../1-codec/rrset.ts';
import type { Zone, ZoneNode } from './types.ts';
import type { RRset } from '../1-codec/rrset.ts';
import type { RRsetEdits } from './types.ts';
import { soaSerial } from '../0-base/serial.ts';
import { every, runSync, type Steps } from '../0-base/slices.ts';

/** Reads `overlay` first (null there: the name is gone), then `base`. */
export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  readonly #base: ReadonlyMap<K, V>;
  readonly #overlay: ReadonlyMap<K, V | null>;
  /** Children gained (+) or lost (−) per name relative to `base`, for the next patch. */
  readonly childDelta: ReadonlyMap<K, number>;

  constructor(
    base: ReadonlyMap<K, V>,
    overlay: ReadonlyMap<K, V | null>,
    childDelta: ReadonlyMap<K, number> = new Map(),
  ) {
    this.#base = base;
    this.#overlay = overlay;
    this.childDelta = childDelta;
  }

  get base(): ReadonlyMap<K, V> {
    return this.#base;
  }

  get overlay(): ReadonlyMap<K, V | null> {
    return this.#overlay;
  }

  get(k: K): V | undefined {
    const o = this.#overlay.get(k);
    return o === undefined ? this.#base.get(k) : (o ?? undefined);
  }

  has(k: K): boolean {
    const o = this.#overlay.get(k);
    return o === undefined ? this.#base.has(k) : o !== null;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [k, v] of this.#base) if (!this.#overlay.has(k)) yield [k, v];
    for (const [k, v] of this.#overlay) if (v !== null) yield [k, v];
  }

  get size(): number {
    let n = 0;
    for (const _ of this.entries()) n++;
    return n;
  }

  *keys(): MapIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (v: V, k: K, m: ReadonlyMap<K, V>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

/** Direct children per name of a node map loaded from file, computed once per map. */
const childCounts = new WeakMap<ReadonlyMap<NameKey, ZoneNode>, Map<NameKey, number>>();

function childrenOf(nodes: ReadonlyMap<NameKey, ZoneNode>, origin: NameKey): Map<NameKey, number> {
  return childCounts.get(nodes) ?? runSync(countChildrenSteps(nodes, origin));
}

/**
 * Counts the children of every name of a zone's final node map (add no names to it afterwards).
 * The loader runs this in slices after each load: left to the zone's first change, the count would
 * block that change, or the reload that lays the journal's changes over the new zone, for about
 * 150 ms at a million names.
 */
export function* countChildrenSteps(
  nodes: ReadonlyMap<NameKey, ZoneNode>,
  origin: NameKey,
): Steps<Map<NameKey, number>> {
  const counts = new Map<NameKey, number>();
  let i = 0;
  for (const k of nodes.keys()) {
    if (every(++i)) yield;
    const p = parentKey(k);
    if (p !== null && k !== origin) counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  childCounts.set(nodes, counts);
  return counts;
}

/** How many names are directly below `name` in `zone` (a zone loaded from file, or one patched here). */
export function childCount(zone: Zone, name: NameKey): number {
  const layered = zone.nodes instanceof LayeredMap ? (zone.nodes as LayeredMap<NameKey, ZoneNode>) : null;
  const base = layered?.base ?? zone.nodes;
  return (childrenOf(base, zone.origin).get(name) ?? 0) + (layered?.childDelta.get(name) ?? 0);
}

/** The RRsets of the edits, as the answer path needs them. */
export function editsToRRsets(edits: RRsetEdits): { owner: NameKey; type: number; rrset: RRset | null }[] {
  const out: { owner: NameKey; type: number; rrset: RRset | null }[] = [];
  for (const e of edits.values()) {
    const owner = keyOf(parseName(e.name, null));
    if (e.rdata.length === 0) {
      out.push({ owner, type: e.type, rrset: null });
      continue;
    }
    const rdata = e.rdata.map((h) => Buffer.from(h, 'hex'));
    const targets = rdata.map((d) => rdataTarget(e.type, d)).filter((t): t is NameKey => t !== undefined);
    out.push({ owner, type: e.type, rrset: makeRRset(owner, e.type, e.ttl, rdata, targets) });
  }
  return out;
}

/**
 * `zone` with `edits` applied. Edits must already be valid for the zone (7-state/editor.ts).
 * `zone` may itself be a patched zone: the new edits then go onto its overlay, so an update costs
 * in proportion to the overlay's size (a map copy), not to every edit made so far.
 */
export function applyEdits<Z extends Zone>(zone: Z, edits: RRsetEdits | undefined): Z {
  if (!edits || edits.size === 0) return zone;
  // A patched zone's node map knows what it lies over (and survives `{ ...zone }` copies).
  const layered = zone.nodes instanceof LayeredMap ? (zone.nodes as LayeredMap<NameKey, ZoneNode>) : null;
  const baseNodes = layered?.base ?? zone.nodes;
  const origin = zone.origin;
  const children = childrenOf(baseNodes, origin);
  const overlay = new Map<NameKey, ZoneNode | null>(layered?.overlay);
  const childDelta = new Map<NameKey, number>(layered?.childDelta);
  const nodeOf = (k: NameKey): ZoneNode | undefined => {
    const o = overlay.get(k);
    return o === undefined ? baseNodes.get(k) : (o ?? undefined);
  };
  const childCount = (k: NameKey) => (children.get(k) ?? 0) + (childDelta.get(k) ?? 0);
  const bump = (k: NameKey, d: number) => childDelta.set(k, (childDelta.get(k) ?? 0) + d);

  // A name appears: its parent gains a child, and missing ancestors appear as empty non-terminals.
  const appear = (k: NameKey): void => {
    if (k === origin) return;
    const p = parentKey(k)!;
    bump(p, 1);
    if (!nodeOf(p)) {
      overlay.set(p, { name: p, rrsets: new Map() });
      appear(p);
    }
  };
  // A name goes: an empty non-terminal parent left without children goes too.
  const vanish = (k: NameKey): void => {
    if (k === origin) return;
    const p = parentKey(k)!;
    bump(p, -1);
    const pn = nodeOf(p);
    if (p !== origin && pn && pn.rrsets.size === 0 && childCount(p) === 0) {
      overlay.set(p, null);
      vanish(p);
    }
  };

  const cuts = new Set(zone.cuts);
  const dnames = new Set(zone.dnames);
  let soa = zone.soa;
  for (const { owner, type, rrset } of editsToRRsets(edits)) {
    const before = nodeOf(owner);
    const rrsets = new Map(before?.rrsets ?? []);
    if (rrset) rrsets.set(type, rrset);
    else rrsets.delete(type);
    if (owner === origin && type === Type.SOA && rrset) soa = rrset;
    if (type === Type.NS && owner !== origin) {
      if (rrset) cuts.add(owner);
      else cuts.delete(owner);
    }
    if (type === Type.DNAME) {
      if (rrset) dnames.add(owner);
      else dnames.delete(owner);
    }
    // A pool name is a node even with no RRset of its own (4-gslb/attach.ts made it one): deleting
    // the last static RRset there (external-dns's TXT owner record, say) must not make it vanish.
    if (rrsets.size > 0 || childCount(owner) > 0 || owner === origin || zone.pools?.has(owner)) {
      overlay.set(owner, { name: owner, rrsets });
      if (!before) appear(owner);
    } else if (before) {
      overlay.set(owner, null);
      vanish(owner);
    }
  }
  const soaRdata = soa.rdata[0]!;
  const serial = soaSerial(soaRdata);
  return { ...zone, soa, serial, nodes: new LayeredMap(baseNodes, overlay, childDelta), cuts, dnames };
}
