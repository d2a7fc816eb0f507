// The set of zones in service. Readers take whatever map is current; a reload or update builds a
// new map and swaps the reference (never a change in place), so an answer sees one version.

import { isSubdomain, parentKey, type NameKey } from '../0-base/name.ts';
import type { Zone } from './types.ts';

/** What the answer path needs from the zones in service. */
export interface ZoneSource<Z extends Zone = Zone> {
  /** The most specific zone containing `name` (parent and child both served: the child wins). */
  find(name: NameKey): Z | undefined;
  /** The zone with exactly this origin. */
  get(origin: NameKey): Z | undefined;
  /** Changes whenever the zones in service change (answer caches key on it); absent: never cache. */
  readonly version?: number;
}

/**
 * Up to this many zones, find() compares the name's tail with each origin (longest first) instead
 * of slicing the name label by label and hashing every slice: a query asks this once.
 */
const FEW_ZONES = 32;

/** `Z`: the kind of zone kept (with the pools gslb/ attaches: PooledZone). */
export class ZoneStore<Z extends Zone = Zone> implements ZoneSource<Z> {
  #zones: ReadonlyMap<NameKey, Z> = new Map();
  /** The zones longest origin first, when there are few; else null. */
  #few: readonly Z[] | null = [];
  #version = 0;
  /** A method's type, so that a store of PooledZones is still a ZoneStore<Zone> (parameter bivariance). */
  #watcher: { put(zones: readonly Z[]): void } | null = null;

  get version(): number {
    return this.#version;
  }

  find(name: NameKey): Z | undefined {
    const few = this.#few;
    if (few !== null) {
      for (const z of few) if (isSubdomain(name, z.origin)) return z;
      return undefined;
    }
    const zones = this.#zones;
    for (let k: NameKey | null = name; k !== null; k = parentKey(k)) {
      const z = zones.get(k);
      if (z) return z;
    }
    return undefined;
  }

  get(origin: NameKey): Z | undefined {
    return this.#zones.get(origin);
  }

  all(): Z[] {
    return [...this.#zones.values()];
  }

  /** Puts these zones in service, replacing those with the same origins. */
  put(...zones: Z[]): void {
    const next = new Map(this.#zones);
    for (const z of zones) next.set(z.origin, z);
    this.#swap(next);
    this.#watcher?.put(zones);
  }

  /**
   * `fn` is told of every zone put in service, after the swap (zone transfers keep their IXFR
   * history with it); one watcher, the last given. Not on the query path: only loads and published
   * changes put zones.
   */
  watch(fn: (zones: readonly Z[]) => void): void {
    this.#watcher = { put: fn };
  }

  #swap(next: ReadonlyMap<NameKey, Z>): void {
    this.#zones = next;
    this.#few = next.size <= FEW_ZONES ? [...next.values()].sort((a, b) => b.origin.length - a.origin.length) : null;
    this.#version++;
  }

  /** Takes the zones with these origins out of service. */
  remove(...origins: NameKey[]): void {
    const next = new Map(this.#zones);
    for (const o of origins) next.delete(o);
    this.#swap(next);
  }
}
