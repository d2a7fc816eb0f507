// Secondary zones (`primary:` in zones-options): gslbd keeps a copy of a zone its primary holds.
// Each process reads the copies under `<data>/secondary` (`load`, at start and on every reload), so
// workers serve what the primary process pulled. The process that keeps the state (not a worker)
// also runs each zone's timers (RFC 1035 §4.3.5, RFC 1996):
// - at start, on NOTIFY from the primary, and every SOA REFRESH, an IXFR (AXFR with no copy) asks
//   for what changed; the answer is checked by building the zone with its pools file, written and
//   fsynced, then put in service (durable before visible);
// - a failure is retried every SOA RETRY; with no copy yet, after 2 s, doubling to a minute;
// - with no answer for SOA EXPIRE since the last one, the zone expires: it is answered SERVFAIL
//   until the primary answers again. A copy kept across a restart keeps its expiry.
// A transfer that is garbage, fails its checks or breaks a pool never replaces the copy in service.

import { formatListen } from '../0-base/listen.ts';
import type { Logger } from '../0-base/log.ts';
import { keyFromText, keyOf, nameToText, type NameKey } from '../0-base/name.ts';
import { serialNewer, soaSerial, soaTimers } from '../0-base/serial.ts';
import { Type } from '../0-base/constants.ts';
import type { WireRecord } from '../1-codec/records.ts';
import type { TsigKey } from '../1-codec/tsig.ts';
import type { Clock } from '../3-health/clock.ts';
import { buildSecondaryZone } from '../4-gslb/load.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { ZoneFailure } from '../2-zone/loader.ts';
import { SourceError } from '../0-base/errors.ts';
import type { NotifyVerdict } from '../6-serve/notify.ts';
import { applySteps, pullZone, PullError, type PullResult } from '../6-serve/pull.ts';
import type { PrimaryOptions, ZoneOptions } from '../7-config/zones-options.ts';
import {
  CopyError,
  readCopy,
  readRefreshed,
  writeCopy,
  writeRefreshed,
  type CopyRecord,
} from '../7-state/secondary-copy.ts';

/** Waits are clamped to this (setTimeout's limit is about 24.8 days). */
const MAX_WAIT_MS = 2 ** 31 - 1;
const FIRST_RETRY_MS = 2000;
const MAX_NO_COPY_RETRY_MS = 60_000;

interface Secondary {
  readonly origin: NameKey;
  readonly primary: PrimaryOptions;
  /** Where the copy's records came from, for errors: `transfer from 192.0.2.1:53`. */
  readonly label: string;
}

interface ZoneTimers {
  readonly s: Secondary;
  /** The copy in service (records and SOA), as read or last pulled; null: none yet. */
  copy: { readonly records: readonly CopyRecord[]; readonly soa: Buffer } | null;
  /** The copy built with its pools file, as last put in service by this process. */
  zone?: PooledZone;
  /** When the primary last answered (ms). */
  refreshedAt: number | null;
  timer: unknown;
  expireTimer: unknown;
  running: boolean;
  /** A NOTIFY came during a refresh: one more right after it. */
  again: boolean;
  failures: number;
  expired: boolean;
}

export interface SecondaryZonesOptions {
  /** `<data>/secondary`; null (no data directory): secondary zones cannot be served. */
  readonly dir: string | null;
  readonly zonesDir: string;
  readonly log: Logger;
  readonly clock: Clock;
  /** The TSIG keys in service (a primary's key is one of them). */
  readonly keys: () => readonly TsigKey[];
  /** A copy changed on disk, or expired or came back: put the secondary zones in service again. */
  readonly changed: () => Promise<void>;
  /** A worker: a NOTIFY it accepted goes to the process that runs the timers. */
  readonly notified?: (zone: NameKey) => void;
}

export class SecondaryZones {
  readonly #o: SecondaryZonesOptions;
  #zones: ReadonlyMap<NameKey, Secondary> = new Map();
  readonly #timers = new Map<NameKey, ZoneTimers>();
  #running = false;

  constructor(o: SecondaryZonesOptions) {
    this.#o = o;
  }

  /** The origins of the secondary zones configured. */
  get origins(): ReadonlySet<NameKey> {
    return new Set(this.#zones.keys());
  }

  /** The secondary zones from now on (`zones-options` entries with `primary`). */
  configure(options: readonly ZoneOptions[]): void {
    this.#zones = new Map(
      options.flatMap((o) =>
        o.primary
          ? [
              [
                keyFromText(o.zone),
                {
                  origin: keyFromText(o.zone),
                  primary: o.primary,
                  label: `transfer of ${o.zone} from ${formatListen(o.primary.address)}`,
                },
              ] as const,
            ]
          : [],
      ),
    );
    if (this.#running) this.#follow();
  }

  /**
   * Every secondary zone with a copy on disk, built with its pools file; expired ones marked. A
   * damaged copy, or one whose pools no longer fit, is a failure (a reload keeps what is in service).
   */
  async load(reuse = false): Promise<{ zones: PooledZone[]; failures: ZoneFailure[] }> {
    const zones: PooledZone[] = [];
    const failures: ZoneFailure[] = [];
    const dir = this.#o.dir;
    for (const s of this.#zones.values()) {
      const fail = (reason: string) =>
        failures.push({
          origin: s.origin,
          file: s.label,
          errors: [new SourceError('ERR_ZONE_IO', s.label, 0, reason)],
        });
      if (dir === null) {
        fail('a secondary zone needs a data directory (--data) for its copy');
        continue;
      }
      const t = this.#timers.get(s.origin);
      // The process that pulled the copy built it then (with its pools file): after a transfer, or
      // when the zone expires or comes back, that zone is served as it is. A reload builds again
      // (the pools file may have changed), from the records in memory when this process has them.
      let zone = reuse ? t?.zone : undefined;
      if (!zone) {
        let records = t?.copy?.records;
        if (!records) {
          try {
            records = (await readCopy(dir, s.origin))?.records;
          } catch (e) {
            if (!(e instanceof CopyError)) throw e;
            fail(e.message);
            continue;
          }
        }
        if (!records) continue;
        const built = await this.#build(s, records);
        if (built.kind === 'invalid') {
          failures.push({ origin: s.origin, file: s.label, errors: built.errors });
          continue;
        }
        zone = built.zone;
        if (t) t.zone = zone;
      }
      const refreshedAt = t ? t.refreshedAt : await readRefreshed(dir, s.origin);
      const expire = soaTimers(zone.soa.rdata[0]!).expire * 1000;
      const expired = t ? t.expired : refreshedAt !== null && this.#o.clock.now() >= refreshedAt + expire;
      zones.push(expired ? { ...zone, expired: true } : zone);
    }
    return { zones, failures };
  }

  async #build(
    s: Secondary,
    records: readonly CopyRecord[],
  ): Promise<{ kind: 'zone'; zone: PooledZone } | { kind: 'invalid'; errors: SourceError[] }> {
    const parsed = records.map((r, i) => ({ ...r, file: s.label, line: i + 1 }));
    const built = await buildSecondaryZone(
      this.#o.zonesDir,
      s.origin,
      s.label,
      parsed,
      formatListen(s.primary.address),
    );
    // Built with attachPoolsFile: its pools are Pools.
    return built.kind === 'zone' ? { kind: 'zone', zone: built.zone as PooledZone } : built;
  }

  /** Runs the refresh timers of every secondary zone (in the process that keeps the state). */
  start(): void {
    this.#running = true;
    this.#follow();
  }

  stop(): void {
    this.#running = false;
    for (const t of this.#timers.values()) this.#clear(t);
    this.#timers.clear();
  }

  /** RFC 1996 §3.10: a NOTIFY is taken only from the zone's primary, signed with its key when it has one. */
  accept(zone: NameKey, from: string, key: NameKey | null): NotifyVerdict {
    const s = this.#zones.get(zone);
    if (!s) return { ok: false, reason: 'not a secondary zone here' };
    const host = from.startsWith('::ffff:') ? from.slice(7) : from;
    if (host !== s.primary.address.host) return { ok: false, reason: `not from the primary ${s.primary.address.host}` };
    const want = s.primary.key ? keyFromText(s.primary.key.name) : null;
    if (want !== null && key !== want) return { ok: false, reason: `not signed with ${s.primary.key!.name}` };
    this.refresh(zone);
    return { ok: true };
  }

  /** Asks the primary of `zone` now (a NOTIFY came); a worker passes it on. */
  refresh(zone: NameKey): void {
    const t = this.#timers.get(zone);
    if (t) this.#soon(t);
    else this.#o.notified?.(zone);
  }

  /** Timers for the zones configured: new ones start now, removed ones stop. */
  #follow(): void {
    for (const [origin, t] of this.#timers) {
      const s = this.#zones.get(origin);
      if (
        s &&
        formatListen(s.primary.address) === formatListen(t.s.primary.address) &&
        s.primary.key?.name === t.s.primary.key?.name
      )
        continue;
      this.#clear(t);
      this.#timers.delete(origin);
    }
    for (const s of this.#zones.values()) {
      if (this.#timers.has(s.origin)) continue;
      const t: ZoneTimers = {
        s,
        copy: null,
        refreshedAt: null,
        timer: null,
        expireTimer: null,
        running: false,
        again: false,
        failures: 0,
        expired: false,
      };
      this.#timers.set(s.origin, t);
      void this.#first(t);
    }
  }

  /** Reads the copy on disk (what is served), then asks the primary at once, as every secondary does at start. */
  async #first(t: ZoneTimers): Promise<void> {
    const dir = this.#o.dir;
    if (dir !== null) {
      try {
        const copy = await readCopy(dir, t.s.origin);
        const soa = copy?.records.find((r) => r.type === Type.SOA && keyOf(r.owner) === t.s.origin);
        if (copy && soa) {
          t.copy = { records: copy.records, soa: soa.rdata };
          t.refreshedAt = (await readRefreshed(dir, t.s.origin)) ?? this.#o.clock.now();
          t.expired = this.#o.clock.now() >= t.refreshedAt + soaTimers(soa.rdata).expire * 1000;
          this.#armExpire(t);
        }
      } catch (e) {
        if (!(e instanceof CopyError)) throw e;
        this.#o.log.error(
          { zone: nameToText(t.s.origin), error: e.message },
          'secondary: copy not usable: transferring the zone again',
        );
      }
    }
    if (this.#timers.get(t.s.origin) === t) this.#soon(t);
  }

  #clear(t: ZoneTimers): void {
    this.#o.clock.clearTimeout(t.timer);
    this.#o.clock.clearTimeout(t.expireTimer);
    t.timer = t.expireTimer = null;
  }

  /** A refresh now, or right after the one running. */
  #soon(t: ZoneTimers): void {
    if (t.running) {
      t.again = true;
      return;
    }
    this.#o.clock.clearTimeout(t.timer);
    t.timer = this.#o.clock.setTimeout(() => void this.#refresh(t), 0);
  }

  #later(t: ZoneTimers, ms: number): void {
    this.#o.clock.clearTimeout(t.timer);
    t.timer = this.#o.clock.setTimeout(() => void this.#refresh(t), Math.min(Math.max(ms, 1000), MAX_WAIT_MS));
  }

  /** The zone expires EXPIRE seconds after the primary last answered (RFC 1035 §3.3.13). */
  #armExpire(t: ZoneTimers): void {
    this.#o.clock.clearTimeout(t.expireTimer);
    t.expireTimer = null;
    if (!t.copy || t.refreshedAt === null || t.expired) return;
    const at = t.refreshedAt + soaTimers(t.copy.soa).expire * 1000;
    t.expireTimer = this.#o.clock.setTimeout(
      () => void this.#expire(t),
      Math.min(Math.max(at - this.#o.clock.now(), 0), MAX_WAIT_MS),
    );
  }

  async #expire(t: ZoneTimers): Promise<void> {
    if (this.#timers.get(t.s.origin) !== t || !t.copy || t.refreshedAt === null) return;
    if (this.#o.clock.now() < t.refreshedAt + soaTimers(t.copy.soa).expire * 1000) return this.#armExpire(t);
    t.expired = true;
    this.#o.log.error(
      {
        zone: nameToText(t.s.origin),
        primary: formatListen(t.s.primary.address),
        since: new Date(t.refreshedAt).toISOString(),
      },
      'secondary: zone expired (no answer from its primary for SOA EXPIRE): answered SERVFAIL until the primary answers',
    );
    await this.#o.changed();
  }

  async #refresh(t: ZoneTimers): Promise<void> {
    if (this.#timers.get(t.s.origin) !== t || t.running) return;
    t.running = true;
    t.again = false;
    const zone = nameToText(t.s.origin);
    const primary = formatListen(t.s.primary.address);
    try {
      const changed = await this.#pull(t);
      t.failures = 0;
      t.refreshedAt = this.#o.clock.now();
      const wasExpired = t.expired;
      t.expired = false;
      if (this.#o.dir !== null) await writeRefreshed(this.#o.dir, t.s.origin, t.refreshedAt);
      if (changed || wasExpired) await this.#o.changed();
      if (wasExpired) this.#o.log.warn({ zone, primary }, 'secondary: the primary answers again: the zone is served');
      this.#armExpire(t);
      this.#later(t, soaTimers(t.copy!.soa).refresh * 1000);
    } catch (e) {
      t.failures++;
      const reason = e instanceof Error ? e.message : String(e);
      const wait = t.copy
        ? soaTimers(t.copy.soa).retry * 1000
        : Math.min(FIRST_RETRY_MS * 2 ** (t.failures - 1), MAX_NO_COPY_RETRY_MS);
      this.#o.log.warn(
        { zone, primary, reason, retryInS: Math.round(wait / 1000), copy: t.copy ? soaSerial(t.copy.soa) : null },
        t.copy ? 'secondary: refresh failed: the copy in service is kept' : 'secondary: no copy yet: transfer failed',
      );
      this.#later(t, wait);
    } finally {
      t.running = false;
    }
    if (t.again) this.#soon(t);
  }

  /** Asks the primary; true when the copy changed (written and ready to put in service). */
  async #pull(t: ZoneTimers): Promise<boolean> {
    const key = this.#key(t.s.primary);
    const request = { zone: t.s.origin, primary: t.s.primary.address, key, now: () => this.#o.clock.now() };
    let r: PullResult;
    try {
      r = await pullZone({ ...request, soa: t.copy?.soa ?? null });
    } catch (e) {
      // A primary that does not do IXFR (NOTIMP, FORMERR): the whole zone instead.
      if (!(e instanceof PullError) || !t.copy || (e.rcode !== 4 && e.rcode !== 1)) throw e;
      r = await pullZone({ ...request, soa: null });
    }
    if (r.kind === 'current') {
      this.#o.log.debug({ zone: nameToText(t.s.origin), serial: r.serial }, 'secondary: the copy is current');
      return false;
    }
    // RFC 1982: only a newer serial replaces the copy (a primary restored from an old backup, or
    // one that sends the same serial again, must not take the zone back).
    if (t.copy && !serialNewer(r.serial, soaSerial(t.copy.soa))) {
      this.#o.log.warn(
        { zone: nameToText(t.s.origin), serial: r.serial, copy: soaSerial(t.copy.soa) },
        'secondary: the primary sent a serial that is not newer: the copy is kept',
      );
      return false;
    }
    let records: readonly WireRecord[];
    if (r.kind === 'full') records = r.records;
    else {
      try {
        records = applySteps(t.copy!.records as WireRecord[], r.steps);
      } catch (e) {
        if (!(e instanceof PullError)) throw e;
        this.#o.log.warn(
          { zone: nameToText(t.s.origin), reason: e.message },
          'secondary: IXFR does not apply to the copy: AXFR',
        );
        const full = await pullZone({ ...request, soa: null });
        if (full.kind !== 'full') throw new PullError('the AXFR after a failed IXFR was not a zone');
        records = full.records;
      }
    }
    const plain: CopyRecord[] = records.map((rr) => ({ owner: rr.owner, type: rr.type, ttl: rr.ttl, rdata: rr.rdata }));
    const built = await this.#build(t.s, plain);
    if (built.kind === 'invalid')
      throw new PullError(
        `serial ${r.serial} not taken: ${built.errors
          .slice(0, 5)
          .map((e) => e.message)
          .join('; ')}`,
      );
    if (this.#o.dir === null) throw new PullError('no data directory (--data) to keep the copy in');
    await writeCopy(this.#o.dir, t.s.origin, {
      zone: nameToText(t.s.origin),
      primary: formatListen(t.s.primary.address),
      serial: built.zone.serial,
      records: plain,
    });
    const before = t.copy ? soaSerial(t.copy.soa) : null;
    t.copy = { records: plain, soa: built.zone.soa.rdata[0]! };
    t.zone = built.zone;
    this.#o.log.info(
      {
        zone: nameToText(t.s.origin),
        from: before,
        serial: built.zone.serial,
        kind: r.kind === 'full' ? 'AXFR' : 'IXFR',
        records: plain.length,
        bytes: r.bytes,
      },
      'secondary: zone transferred',
    );
    return true;
  }

  #key(p: PrimaryOptions): TsigKey | null {
    if (!p.key) return null;
    const name = keyFromText(p.key.name);
    const key = this.#o.keys().find((k) => k.name === name);
    if (!key) throw new PullError(`no TSIG key ${p.key.name} in service`);
    return key;
  }
}
