// Zone transfers as `zones-options` (gslbd.yaml) asks for them, for one Service: the ACL each
// AXFR/IXFR is checked against (6-serve/transfer.ts, put on the query handler once some zone may
// be transferred), NOTIFY to each zone's secondaries when its serial changes (6-serve/notify.ts),
// the serial bumps that follow the pools a transfer sends (transfer-serials.ts), and the IXFR
// history (6-serve/ixfr-history.ts), fed with every zone put in service. A worker only answers
// transfers: its primary notifies and bumps; each worker keeps its own history from the same
// changesets it applies.

import { CidrSet } from '../0-base/cidr.ts';
import { GslbError } from '../0-base/errors.ts';
import { formatListen, type ListenAddress } from '../0-base/listen.ts';
import type { Logger } from '../0-base/log.ts';
import { keyFromText, nameToText, type NameKey } from '../0-base/name.ts';
import type { TsigKey } from '../1-codec/tsig.ts';
import type { Clock } from '../3-health/clock.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { ZoneStore } from '../2-zone/store.ts';
import type { QueryCounters } from '../6-serve/counters.ts';
import type { Handler } from '../6-serve/handler.ts';
import { Notifier } from '../6-serve/notify.ts';
import { IxfrHistory } from '../6-serve/ixfr-history.ts';
import { createTransferHandler, type ZoneTransferAcl } from '../6-serve/transfer.ts';
import { zonesOptionsErrors, type ZoneOptions } from '../7-config/zones-options.ts';
import type { Change } from '../7-state/types.ts';
import { TransferSerials } from './transfer-serials.ts';

export interface ZoneTransfersOptions {
  readonly handler: Handler;
  readonly zones: ZoneStore<PooledZone>;
  readonly zonesDir: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly health: () => HealthView;
  readonly counters: QueryCounters;
  /** Commits a serial bump (the state's commit path: durable before visible). */
  readonly commit: (changes: readonly Change[]) => Promise<unknown>;
  /** A worker: it answers transfers; its primary notifies and bumps serials. */
  readonly follower: boolean;
}

export class ZoneTransfers {
  readonly #o: ZoneTransfersOptions;
  /** Zones that may be transferred, and by whom. */
  #acls: ReadonlyMap<NameKey, ZoneTransferAcl> = new Map();
  /** Secondaries to NOTIFY per zone (`notify`), and the key to sign with. */
  #notifyLists: ReadonlyMap<NameKey, { readonly to: readonly ListenAddress[]; readonly key: TsigKey | null }> =
    new Map();
  /** The serial each secondary of each zone (`origin|address`) was last notified of. */
  readonly #notified = new Map<string, number>();
  #notifier: Notifier | null = null;
  /** Until `answering()`: nothing is notified (a secondary would ask a server not yet listening). */
  #answering = false;
  /** Serials bumped when the pools a transfer sends change; null with no pools transferred. */
  #serials: { readonly serials: TransferSerials; readonly timer: NodeJS.Timeout } | null = null;
  readonly #history: IxfrHistory;

  constructor(o: ZoneTransfersOptions) {
    this.#o = o;
    this.#history = new IxfrHistory(
      o.health,
      () => o.clock.now(),
      (fields) => o.log.debug(fields, 'IXFR history: a serial step kept'),
    );
    o.zones.watch((zones) => {
      for (const z of zones) {
        // After the swap: a failure here must not fail the publishing. The history then lags the
        // serial in service, and an IXFR gets the whole zone (steps() checks the serial).
        try {
          this.#history.seen(z);
        } catch (err) {
          o.log.error({ err, zone: nameToText(z.origin) }, 'IXFR history not kept for this change');
        }
      }
    });
  }

  /**
   * Puts `options` in service, for AXFR/IXFR from the next message on. Throws GslbError ERR_CONFIG
   * (nothing changed), at the line of gslbd.yaml, for a zone with no file among `zoneFiles` or a
   * transfer key that is not a TSIG key in service. Until some transfer is allowed, AXFR and IXFR
   * stay on the query path, which REFUSES them.
   */
  set(options: readonly ZoneOptions[], zoneFiles: ReadonlySet<NameKey>): void {
    const o = this.#o;
    const tsigKeys = o.handler.tsig.keys;
    const [error] = zonesOptionsErrors(options, zoneFiles, new Set(tsigKeys.map((k) => k.name)), o.zonesDir);
    if (error) throw new GslbError('ERR_CONFIG', error);
    const acls = new Map<NameKey, ZoneTransferAcl>();
    for (const z of options) {
      const t = z.transfer;
      if (!t) continue;
      acls.set(keyFromText(z.zone), {
        allow: t.allow ? new CidrSet(t.allow) : null,
        keys: t.keys ? new Set(t.keys.map((k) => keyFromText(k.name))) : null,
        pools: z.poolsInTransfer,
      });
    }
    this.#acls = acls;
    this.#history.configure(
      new Map(
        options
          .filter((z) => z.transfer)
          .map((z) => [keyFromText(z.zone), { steps: z.ixfrHistory, pools: z.poolsInTransfer }] as const),
      ),
    );
    for (const origin of acls.keys()) {
      const zone = o.zones.get(origin);
      if (zone) this.#history.seen(zone);
    }
    this.#notifyLists = new Map(
      options
        .filter((z) => z.notify.length > 0)
        .map((z) => {
          const first = z.transfer?.keys?.[0];
          const key = first ? (tsigKeys.find((k) => k.name === keyFromText(first.name)) ?? null) : null;
          return [keyFromText(z.zone), { to: z.notify, key }] as const;
        }),
    );
    this.notify();
    this.#followSerials(options);
    if (acls.size === 0 || o.handler.onTransfer) return;
    o.handler.onTransfer = createTransferHandler({
      zones: o.zones,
      acls: () => this.#acls,
      tsig: () => o.handler.tsig,
      health: o.health,
      now: () => o.clock.now(),
      logRefused: (fields) => o.log.info(fields, 'zone transfer refused'),
      logTransfer: (fields) => o.log.info(fields, 'zone transfer'),
      counters: o.counters,
      history: this.#history,
      onError: (err) => o.log.error({ err }, 'zone transfer failed: connection closed'),
    });
  }

  /**
   * The service answers on its addresses now (the workers, with `--workers`): the NOTIFYs held
   * since the start go out. A secondary asks for the SOA the moment it is notified.
   */
  answering(): void {
    this.#answering = true;
    this.notify();
  }

  /**
   * RFC 1996: each secondary in a zone's `notify` list that was last told of another serial (or of
   * none: at start, or added by a reload) is notified. Call after every change in service; nothing
   * goes before `answering()`.
   */
  notify(): void {
    const o = this.#o;
    if (o.follower || !this.#answering || this.#notifyLists.size === 0) return;
    this.#notifier ??= new Notifier({
      now: () => o.clock.now(),
      report: (fields, ok) =>
        ok
          ? o.log.info(fields, 'NOTIFY answered')
          : o.log.warn(fields, 'NOTIFY not answered: the secondary will find the change by its SOA refresh'),
    });
    for (const [origin, { to, key }] of this.#notifyLists) {
      const zone = o.zones.get(origin);
      if (!zone) continue;
      const soa = { ttl: zone.soa.ttl, rdata: zone.soa.rdata[0]! };
      // Per secondary: one added to the list by a reload is told the current serial at once.
      for (const address of to) {
        const k = `${origin}|${formatListen(address)}`;
        if (this.#notified.get(k) === zone.serial) continue;
        this.#notified.set(k, zone.serial);
        this.#notifier.notify({ zone: origin, serial: zone.serial, soa, to: address, key });
      }
    }
  }

  stop(): void {
    this.#notifier?.stop();
    if (this.#serials) clearInterval(this.#serials.timer);
  }

  /**
   * The zones whose transfers carry pools (`all`, `healthy`) get their serial bumped when what a
   * transfer sends of their pools changes (transfer-serials.ts), checked every second. Not in a
   * worker: the primary's bump reaches it as a changeset.
   */
  #followSerials(options: readonly ZoneOptions[]): void {
    const o = this.#o;
    if (o.follower) return;
    const zones = new Map(
      options
        .filter((z) => z.transfer && z.poolsInTransfer !== 'omit')
        .map(
          (z) => [keyFromText(z.zone), { mode: z.poolsInTransfer, minIntervalMs: z.transferMinIntervalMs }] as const,
        ),
    );
    if (!this.#serials) {
      if (zones.size === 0) return;
      const serials = new TransferSerials({
        zones: o.zones,
        health: o.health,
        now: () => o.clock.now(),
        commit: o.commit,
        log: (fields, msg) => o.log.info(fields, msg),
      });
      const timer = setInterval(() => void serials.check(), 1000);
      timer.unref();
      this.#serials = { serials, timer };
    }
    this.#serials.serials.set(zones);
    void this.#serials.serials.check();
  }
}
