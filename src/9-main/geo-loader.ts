// The client location database, opened once, the first time a zone about to be served has a geo pool.

import { cachedGeo, openGeoDatabase, openSharedGeo, type GeoSpec, type SharedGeo } from '../3-geo/index.ts';
import type { GeoDatabase } from '../3-geo/types.ts';
import type { Logger } from '../0-base/log.ts';
import { usesGeo, type PooledZone } from '../4-gslb/pool.ts';

export class GeoLoader {
  readonly #spec: GeoSpec;
  readonly #log: Logger;
  /** Told of the database once this process has opened it (a primary gives it to its worker threads). */
  readonly #opened: ((shared: SharedGeo) => void) | undefined;
  /** The database another thread opened (a worker's primary); opened from it, not from the spec. */
  #shared: SharedGeo | undefined;
  #db: GeoDatabase | null = null;

  /** `spec`: where client locations come from (`geo:` in gslbd.yaml); geoip-lite when absent. */
  constructor(
    spec: GeoSpec | undefined,
    log: Logger,
    opts: { shared?: SharedGeo; opened?: (s: SharedGeo) => void } = {},
  ) {
    this.#spec = spec ?? { type: 'geoip-lite' };
    this.#log = log;
    this.#shared = opts.shared;
    this.#opened = opts.opened;
  }

  /** The database once open; null until a geo pool asked for it. */
  get db(): GeoDatabase | null {
    return this.#db;
  }

  /** A worker: the database its primary opened, used from the next `ensure` that needs one. */
  set shared(s: SharedGeo) {
    this.#shared = s;
  }

  /**
   * Opens the database if one of `zones` needs it and it is not open yet; the caller puts those
   * zones in service after this resolves, so a geo pool never answers without it. Opening does
   * not stall answering: geoip-lite's data (~40 MB of RSS) loads in slices of a few ms each. A
   * primary with workers answers only /explain but loads it too, before its workers need it: they
   * answer from its tables (SharedArrayBuffers), which it hands them through `opened`. A failure
   * rejects, and nothing has changed.
   */
  async ensure(zones: readonly PooledZone[]): Promise<GeoDatabase | null> {
    if (this.#db || !zones.some(usesGeo)) return this.#db;
    if (this.#shared) {
      this.#db = cachedGeo(openSharedGeo(this.#shared));
      this.#log.debug({ geo: this.#db.description }, "client location database: the primary's, shared");
      return this.#db;
    }
    const db = await openGeoDatabase(this.#spec);
    this.#db = cachedGeo(db);
    this.#log.info({ geo: this.#db.description }, 'client location database loaded');
    const shared = db.shared?.();
    if (shared) this.#opened?.(shared);
    return this.#db;
  }
}
