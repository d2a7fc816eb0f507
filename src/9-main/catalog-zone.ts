// The catalog zone (`catalog:` in gslbd.yaml, RFC 9432) for one Service: which zones it lists,
// when it changes, and where it goes. Its members are the zones in service that `zones-options`
// lets some secondary transfer, the catalog aside; after the start and after every reload, a change
// of them gives the catalog a new serial (CatalogSerials), puts it in service here and in the
// followers (a primary's workers), and then notifies its secondaries. A worker makes none: it
// serves the catalog its primary gives it.

import { GslbError } from '../0-base/errors.ts';
import type { Logger } from '../0-base/log.ts';
import { keyFromText, type NameKey } from '../0-base/name.ts';
import { catalogZone } from '../2-zone/catalog.ts';
import type { ZoneStore } from '../2-zone/store.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { catalogErrors, type CatalogOptions } from '../7-config/catalog-options.ts';
import type { ZoneOptions } from '../7-config/zones-options.ts';
import { CatalogSerials, type CatalogContent } from './catalog.ts';

export interface CatalogZoneOptions {
  readonly catalog: CatalogOptions;
  readonly zones: ZoneStore<PooledZone>;
  readonly zonesDir: string;
  readonly log: Logger;
  /** Where its serial is kept, and the clock (ms) that makes it; null in a worker, which makes no catalog. */
  readonly serials: { readonly dataDir: string | null; readonly now: () => number } | null;
  /** A primary's workers: resolves once they serve `content`. */
  readonly followers?: (content: CatalogContent) => Promise<void>;
  /** NOTIFY to the secondaries whose serial changed (ZoneTransfers.notify). */
  readonly notify: () => void;
}

export class CatalogZone {
  readonly #o: CatalogZoneOptions;
  readonly #origin: NameKey;
  readonly #serials: CatalogSerials | null;

  constructor(o: CatalogZoneOptions) {
    this.#o = o;
    this.#origin = keyFromText(o.catalog.zone);
    this.#serials = o.serials && new CatalogSerials({ zone: o.catalog.zone, log: o.log, ...o.serials });
  }

  /**
   * The zone files zones-options may name, the catalog's among them (it has options and no file).
   * Throws GslbError ERR_CONFIG, at the line of `catalog:`, for a catalog nobody may transfer or a
   * zone file of its name.
   */
  filesFor(options: readonly ZoneOptions[], zoneFiles: ReadonlySet<NameKey>): ReadonlySet<NameKey> {
    const [error] = catalogErrors(this.#o.catalog, options, zoneFiles, this.#o.zonesDir);
    if (error) throw new GslbError('ERR_CONFIG', error);
    return new Set([...zoneFiles, this.#origin]);
  }

  /** Takes a zone file of the catalog's name out of `loaded` (logged): it is never served. */
  dropFile(loaded: PooledZone[]): void {
    const i = loaded.findIndex((z) => z.origin === this.#origin);
    if (i < 0) return;
    this.#o.log.error(
      { zone: this.#o.catalog.zone },
      "zone file not served: its name is the catalog's, which gslbd generates",
    );
    loaded.splice(i, 1);
  }

  /** Puts this catalog in service (a worker's, from its primary; or one `update` made). */
  put(content: CatalogContent): void {
    const members = content.members.map((m) => keyFromText(m));
    this.#o.zones.put(catalogZone(this.#origin, content.serial, members, this.#o.catalog.file));
  }

  /** Reads the serial the last run kept (before the first `update`). */
  open(): Promise<void> {
    return this.#serials?.open() ?? Promise.resolve();
  }

  /** The members by `options` and the zones in service; when they changed, the new catalog goes in service, to the followers, then NOTIFY. */
  async update(options: readonly ZoneOptions[]): Promise<void> {
    if (!this.#serials) return;
    const zone = this.#o.catalog.zone;
    const members = options
      .filter((o) => o.transfer && o.zone !== zone && this.#o.zones.get(keyFromText(o.zone)))
      .map((o) => o.zone);
    const content = await this.#serials.next(members);
    if (!content) return;
    this.put(content);
    await this.#o.followers?.(content);
    this.#o.log.info({ zone, serial: content.serial, members: content.members }, 'catalog zone in service');
    this.#o.notify();
  }
}
