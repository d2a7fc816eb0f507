// The client location database, opened once, the first time a zone about to be served has a geo pool.

import { cachedGeo, openGeoDatabase, type GeoSpec } from '../3-geo/index.ts';
import type { GeoDatabase } from '../3-geo/types.ts';
import type { Logger } from '../0-base/log.ts';
import { usesGeo, type PooledZone } from '../4-gslb/pool.ts';

export class GeoLoader {
  readonly #spec: GeoSpec;
  readonly #log: Logger;
  #db: GeoDatabase | null = null;

  /** `spec`: where client locations come from (`geo:` in gslbd.yaml); geoip-lite when absent. */
  constructor(spec: GeoSpec | undefined, log: Logger) {
    this.#spec = spec ?? { type: 'geoip-lite' };
    this.#log = log;
  }

  /** The database once open; null until a geo pool asked for it. */
  get db(): GeoDatabase | null {
    return this.#db;
  }

  /**
   * Opens the database if one of `zones` needs it and it is not open yet; the caller puts those
   * zones in service after this resolves, so a geo pool never answers without it. Opening does
   * not stall answering: geoip-lite's data (~40 MB of RSS) loads in slices of a few ms each. A
   * primary with workers answers only /explain but loads it too: loaded on the first lookup
   * instead, it would either stall the primary or explain the first requests without the
   * client's location the workers answer by. A failure rejects, and nothing has changed.
   */
  async ensure(zones: readonly PooledZone[]): Promise<GeoDatabase | null> {
    if (this.#db || !zones.some(usesGeo)) return this.#db;
    this.#db = cachedGeo(await openGeoDatabase(this.#spec));
    this.#log.info({ geo: this.#db.description }, 'client location database loaded');
    return this.#db;
  }
}
