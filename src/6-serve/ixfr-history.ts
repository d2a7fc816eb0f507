// IXFR history (RFC 1995): per zone, the differences between consecutive serials as condensed
// differences (the RRs deleted and added per serial step, with the old and new SOA), so that an
// IXFR from a secondary a few serials behind is answered with what changed, not the whole zone.
// Fed with every version of a zone put in service (`seen`): a change published from the state
// (API, UPDATE, a serial bump for pools) or a reload of a changed file (like Knot's
// ixfr-from-differences) gives one step, the difference between the zone as transferred before and
// after. Kept in memory: after a restart the first IXFR of each secondary is answered in full.

import { nameToText, type NameKey } from '../0-base/name.ts';
import { serialNewer } from '../0-base/serial.ts';
import type { Entry } from '../1-codec/response.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { poolRecords, type PoolsInTransfer } from '../5-answer/transfer.ts';
import { everyName, zoneDiffSteps, type ZoneDiff } from '../5-answer/zone-diff.ts';
import { runSliced, runSync } from '../0-base/slices.ts';

/**
 * Octets of differences kept per zone at most (RR wire forms): the oldest steps go first. A step
 * larger than this alone (a file replaced whole) empties the history: an AXFR is as good then.
 */
export const IXFR_HISTORY_BYTES = 64 * 1024 * 1024;

/** One serial step: SOA(old), the RRs deleted, SOA(new), the RRs added (RFC 1995 §4). */
export interface IxfrStep {
  readonly from: number;
  readonly oldSoa: Entry;
  readonly newSoa: Entry;
  readonly deleted: readonly Entry[];
  readonly added: readonly Entry[];
  readonly bytes: number;
  /**
   * A transfer under serial `from` sent other pools than the history kept for it (an AXFR between
   * a change of the pools and its serial bump): a secondary at `from` may not hold what this
   * step's deletions name, so an IXFR from `from` gets the whole zone.
   */
  readonly unsure: boolean;
}

export interface IxfrZoneSettings {
  /** Serial steps kept; 0: none (every IXFR is answered in full). */
  readonly steps: number;
  readonly pools: PoolsInTransfer;
}

interface ZoneHistory {
  readonly settings: IxfrZoneSettings;
  /** The version last seen, its serial and SOA, and its pools as transferred when its serial came. */
  zone: PooledZone;
  serial: number;
  soa: Entry;
  pools: readonly Entry[];
  /** A transfer under `serial` sent other pools than `pools`. */
  unsure: boolean;
  steps: IxfrStep[];
  bytes: number;
}

export class IxfrHistory {
  readonly #zones = new Map<NameKey, ZoneHistory>();
  readonly #health: () => HealthView;
  readonly #now: () => number;
  #settings: ReadonlyMap<NameKey, IxfrZoneSettings> = new Map();

  readonly #onStep: ((fields: Record<string, unknown>) => void) | undefined;
  /** Zones whose difference is being made in slices, with the latest version seen meanwhile. */
  readonly #busy = new Map<NameKey, PooledZone | null>();

  readonly #maxBytes: number;

  /**
   * `onStep`: told of each step kept (zone, serials, RRs deleted and added, octets, ms taken).
   * `maxBytes`: the octets of steps kept per zone (IXFR_HISTORY_BYTES; less in tests).
   */
  constructor(
    health: () => HealthView,
    now: () => number,
    onStep?: (fields: Record<string, unknown>) => void,
    maxBytes = IXFR_HISTORY_BYTES,
  ) {
    this.#health = health;
    this.#now = now;
    this.#onStep = onStep;
    this.#maxBytes = maxBytes;
  }

  /** The zones to keep a history for; a zone whose settings changed starts afresh. */
  configure(settings: ReadonlyMap<NameKey, IxfrZoneSettings>): void {
    this.#settings = settings;
    for (const [origin, h] of [...this.#zones]) {
      const s = settings.get(origin);
      if (!s || s.steps !== h.settings.steps || s.pools !== h.settings.pools) this.#zones.delete(origin);
    }
  }

  /**
   * A version of a zone in service now. A new serial adds a step; an older one starts afresh. The
   * difference after an update (an overlay's names) is made at once; after a reload (every name) in
   * slices, queries answered meanwhile, and until it is done an IXFR gets the whole zone.
   */
  seen(zone: PooledZone): void {
    const settings = this.#settings.get(zone.origin);
    if (!settings || settings.steps === 0) return;
    // A difference being made: the latest version seen meanwhile is taken up after it.
    if (this.#busy.has(zone.origin)) {
      this.#busy.set(zone.origin, zone);
      return;
    }
    const h = this.#zones.get(zone.origin);
    if (!h || (h.serial !== zone.serial && !serialNewer(zone.serial, h.serial))) {
      this.#zones.set(zone.origin, this.#start(zone, settings));
      return;
    }
    if (h.serial === zone.serial) {
      h.zone = zone;
      return;
    }
    const started = performance.now();
    const pools = this.#pools(zone, settings.pools);
    const steps = zoneDiffSteps(h.zone, h.pools, zone, pools);
    if (!everyName(h.zone, zone)) return this.#keep(h, zone, pools, runSync(steps), started, settings);
    this.#busy.set(zone.origin, null);
    void runSliced(steps)
      .then(
        (diff) => {
          // Unless the zone's settings changed meanwhile (its history started afresh).
          if (this.#zones.get(zone.origin) === h) this.#keep(h, zone, pools, diff, started, settings);
        },
        () => this.#zones.delete(zone.origin),
      )
      .finally(() => {
        const next = this.#busy.get(zone.origin);
        this.#busy.delete(zone.origin);
        if (next) this.seen(next);
      });
  }

  /** The step from `h`'s serial to `zone`'s, kept within the bounds. */
  #keep(
    h: ZoneHistory,
    zone: PooledZone,
    pools: readonly Entry[],
    diff: ZoneDiff,
    started: number,
    settings: IxfrZoneSettings,
  ): void {
    const newSoa: Entry = { owner: zone.origin, rrset: zone.soa };
    const step: IxfrStep = { from: h.serial, oldSoa: h.soa, newSoa, ...diff, unsure: h.unsure };
    Object.assign(h, { zone, serial: zone.serial, soa: newSoa, pools, unsure: false });
    h.steps.push(step);
    h.bytes += step.bytes;
    while (h.steps.length > settings.steps || (h.bytes > this.#maxBytes && h.steps.length > 0))
      h.bytes -= h.steps.shift()!.bytes;
    this.#onStep?.({
      zone: nameToText(zone.origin),
      from: step.from,
      to: zone.serial,
      deleted: count(diff.deleted),
      added: count(diff.added),
      bytes: diff.bytes,
      ms: Math.round((performance.now() - started) * 100) / 100,
      kept: h.steps.length,
    });
  }

  /**
   * The steps from serial `have` to `current`, oldest first; null when `have` is not in the history
   * (older than what is kept, unknown, or the history does not reach `current`): answer in full.
   */
  steps(origin: NameKey, have: number, current: number): readonly IxfrStep[] | null {
    const h = this.#zones.get(origin);
    if (!h || h.serial !== current) return null;
    const i = h.steps.findIndex((s) => s.from === have);
    return i < 0 || h.steps[i]!.unsure ? null : h.steps.slice(i);
  }

  /**
   * A whole zone is being transferred (AXFR, or IXFR in full): when the pools it sends now differ
   * from those the history keeps for its serial (their change not yet followed by a bump), an IXFR
   * from this serial will get the whole zone too, since the secondary's pools are not the kept ones.
   */
  sentWhole(zone: PooledZone): void {
    const h = this.#zones.get(zone.origin);
    if (!h || h.unsure || h.serial !== zone.serial || h.settings.pools === 'omit' || !zone.pools?.size) return;
    if (fingerprint(this.#pools(zone, h.settings.pools)) !== fingerprint(h.pools)) h.unsure = true;
  }

  #start(zone: PooledZone, settings: IxfrZoneSettings): ZoneHistory {
    return {
      settings,
      zone,
      serial: zone.serial,
      soa: { owner: zone.origin, rrset: zone.soa },
      pools: this.#pools(zone, settings.pools),
      unsure: false,
      steps: [],
      bytes: 0,
    };
  }

  /** The zone's pools as a transfer sends them now. */
  #pools(zone: PooledZone, mode: PoolsInTransfer): Entry[] {
    if (mode === 'omit' || !zone.pools) return [];
    const health = this.#health();
    const now = this.#now();
    return [...zone.pools.values()].flatMap((p) => [...poolRecords(p, mode, health, now)]);
  }
}

/** RRs in `entries` (each its picked RRs). */
const count = (entries: readonly Entry[]): number =>
  entries.reduce((n, e) => n + (e.pick?.length ?? e.rrset.wire.length), 0);

const fingerprint = (pools: readonly Entry[]): string =>
  pools.map((e) => `${e.owner}|${e.rrset.type}|${e.rrset.wire.map((w) => w.toString('hex')).join(',')}`).join(';');

/**
 * The records of an incremental transfer (RFC 1995 §4): SOA(new), then per step SOA(old), the
 * deletions, SOA(new of that step), the additions, and SOA(new) last.
 */
export function* incrementalRecords(current: Entry, steps: readonly IxfrStep[]): Generator<Entry> {
  yield current;
  for (const s of steps) {
    yield s.oldSoa;
    yield* s.deleted;
    yield s.newSoa;
    yield* s.added;
  }
  yield current;
}
