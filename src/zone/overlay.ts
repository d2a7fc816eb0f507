// Dynamic zone data (API, RFC 2136 UPDATE) laid over a zone loaded from its file.
//
// Copying a large zone's node map for every update would make an update cost O(zone); instead the
// patched zone reads through a small overlay map (changed names only) into the file's map.
// Empty non-terminals appear and disappear as names are added and deleted (RFC 4592 §2.2.2).

import { Type } from '../dns/constants.ts';
import { keyOf, parentKey, parseName, type NameKey } from '../dns/name.ts';
import { rdataTarget } from './rdata.ts';
import { makeRRset } from './rrset.ts';
import type { RRset, Zone, ZoneNode } from './types.ts';
import type { RRsetEdits } from '../state/types.ts';
import { nameEnd } from './rdata-io.ts';

/** Reads `overlay` first (null there: the name is gone), then `base`. */
export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  readonly #base: ReadonlyMap<K, V>;
  readonly #overlay: ReadonlyMap<K, V | null>;

  constructor(base: ReadonlyMap<K, V>, overlay: ReadonlyMap<K, V | null>) {
    this.#base = base;
    this.#overlay = overlay;
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

/** Direct children per name of a zone loaded from file, computed once per zone version. */
const childCounts = new WeakMap<Zone, Map<NameKey, number>>();

function childrenOf(base: Zone): Map<NameKey, number> {
  let counts = childCounts.get(base);
  if (!counts) {
    counts = new Map();
    for (const k of base.nodes.keys()) {
      const p = parentKey(k);
      if (p !== null && k !== base.origin) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    childCounts.set(base, counts);
  }
  return counts;
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

/** How a patched zone was made: the zone from the file, and what lies over it. */
interface Layer {
  readonly file: Zone;
  readonly overlay: Map<NameKey, ZoneNode | null>;
  readonly childDelta: Map<NameKey, number>;
}
const layers = new WeakMap<Zone, Layer>();

/**
 * `zone` with `edits` applied. Edits must already be valid for the zone (update/editor.ts).
 * `zone` may itself be a patched zone: the new edits then go onto its overlay, so an update costs
 * in proportion to the overlay's size (a map copy), not to every edit made so far.
 */
export function applyEdits(zone: Zone, edits: RRsetEdits | undefined): Zone {
  if (!edits || edits.size === 0) return zone;
  const layer = layers.get(zone);
  const base = layer?.file ?? zone;
  const children = childrenOf(base);
  const overlay = new Map<NameKey, ZoneNode | null>(layer?.overlay);
  const childDelta = new Map<NameKey, number>(layer?.childDelta);
  const nodeOf = (k: NameKey): ZoneNode | undefined => {
    const o = overlay.get(k);
    return o === undefined ? base.nodes.get(k) : (o ?? undefined);
  };
  const childCount = (k: NameKey) => (children.get(k) ?? 0) + (childDelta.get(k) ?? 0);
  const bump = (k: NameKey, d: number) => childDelta.set(k, (childDelta.get(k) ?? 0) + d);

  // A name appears: its parent gains a child, and missing ancestors appear as empty non-terminals.
  const appear = (k: NameKey): void => {
    if (k === base.origin) return;
    const p = parentKey(k)!;
    bump(p, 1);
    if (!nodeOf(p)) {
      overlay.set(p, { name: p, rrsets: new Map() });
      appear(p);
    }
  };
  // A name goes: an empty non-terminal parent left without children goes too.
  const vanish = (k: NameKey): void => {
    if (k === base.origin) return;
    const p = parentKey(k)!;
    bump(p, -1);
    const pn = nodeOf(p);
    if (p !== base.origin && pn && pn.rrsets.size === 0 && childCount(p) === 0) {
      overlay.set(p, null);
      vanish(p);
    }
  };

  const cuts = new Set(zone.cuts);
  let soa = zone.soa;
  for (const { owner, type, rrset } of editsToRRsets(edits)) {
    const before = nodeOf(owner);
    const rrsets = new Map(before?.rrsets ?? []);
    if (rrset) rrsets.set(type, rrset);
    else rrsets.delete(type);
    if (owner === base.origin && type === Type.SOA && rrset) soa = rrset;
    if (type === Type.NS && owner !== base.origin) {
      if (rrset) cuts.add(owner);
      else cuts.delete(owner);
    }
    if (rrsets.size > 0 || childCount(owner) > 0 || owner === base.origin) {
      overlay.set(owner, { name: owner, rrsets });
      if (!before) appear(owner);
    } else if (before) {
      overlay.set(owner, null);
      vanish(owner);
    }
  }
  const soaRdata = soa.rdata[0]!;
  const serial = soaRdata.readUInt32BE(nameEnd(soaRdata, nameEnd(soaRdata, 0)));
  const patched: Zone = { ...zone, soa, serial, nodes: new LayeredMap(base.nodes, overlay), cuts };
  layers.set(patched, { file: base, overlay, childDelta });
  return patched;
}
