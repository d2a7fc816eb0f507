// The serial of a zone whose pools are transferred follows what a transfer would send: a drain, a
// weight or a health change alters the pools' RRsets in a transfer without touching zone data, so
// without a new serial a secondary would never fetch them (and two transfers under one serial
// would differ). Each zone's pools, as a transfer gives them, are compared at every check with
// those of its last serial; a difference commits an SOA with the serial bumped (the one commit
// path: journaled, published, then NOTIFY follows). `all` bumps at once (a drain is an operator's
// act); `healthy` at most once per `transfer-min-interval`, so a flapping target cannot make
// secondaries transfer without pause.

import { Type } from '../0-base/constants.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { nextSerialSoa } from '../0-base/serial.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { ZoneSource } from '../2-zone/store.ts';
import { poolRecords, type PoolsInTransfer } from '../5-answer/transfer.ts';
import type { Change } from '../7-state/types.ts';

export interface TransferSerialsDeps {
  readonly zones: ZoneSource<PooledZone>;
  readonly health: () => HealthView;
  readonly now: () => number;
  /** Commits the SOA change (StateStore.commit); rejects when it cannot be made durable. */
  readonly commit: (changes: readonly Change[]) => Promise<unknown>;
  readonly log: (fields: Record<string, unknown>, msg: string) => void;
}

export interface TransferSerialZone {
  readonly mode: PoolsInTransfer;
  /** ms; `healthy` only. */
  readonly minIntervalMs: number;
}

export class TransferSerials {
  readonly #deps: TransferSerialsDeps;
  #zones: ReadonlyMap<NameKey, TransferSerialZone> = new Map();
  /** Per zone: the serial and the pools' transfer form it was last seen with, and when it was bumped. */
  readonly #seen = new Map<NameKey, { serial: number; pools: string; bumpedAt: number }>();
  #busy = false;

  constructor(deps: TransferSerialsDeps) {
    this.#deps = deps;
  }

  /** The zones to follow (those with pools in `all` or `healthy` mode); others are forgotten. */
  set(zones: ReadonlyMap<NameKey, TransferSerialZone>): void {
    this.#zones = new Map([...zones].filter(([, z]) => z.mode !== 'omit'));
    for (const o of [...this.#seen.keys()]) if (!this.#zones.has(o)) this.#seen.delete(o);
  }

  /** Compares each followed zone's pools with those of its serial; bumps the serials that lag. */
  async check(): Promise<void> {
    // One at a time: a bump in flight is not made twice.
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (const [origin, z] of this.#zones) await this.#checkZone(origin, z);
    } finally {
      this.#busy = false;
    }
  }

  async #checkZone(origin: NameKey, z: TransferSerialZone): Promise<void> {
    const { zones, health, now, commit, log } = this.#deps;
    const zone = zones.get(origin);
    if (!zone?.pools?.size) return;
    const t = now();
    const pools = fingerprint(zone, z.mode, health(), t);
    const seen = this.#seen.get(origin);
    // First sight, or a new serial (a change of zone data, a reload): what it has is its own.
    if (!seen || seen.serial !== zone.serial) {
      this.#seen.set(origin, { serial: zone.serial, pools, bumpedAt: seen?.bumpedAt ?? -Infinity });
      return;
    }
    if (seen.pools === pools) return;
    if (z.mode === 'healthy' && t - seen.bumpedAt < z.minIntervalMs) return;
    const soa = zone.soa;
    const rdata = nextSerialSoa(soa.rdata[0]!);
    const text = nameToText(origin);
    try {
      await commit([
        { kind: 'rrset', zone: text, name: text, type: Type.SOA, ttl: soa.ttl, rdata: [rdata.toString('hex')] },
      ]);
    } catch (err) {
      log({ zone: text, err: (err as Error).message }, 'transfer serial not bumped: tried again at the next check');
      return;
    }
    const after = zones.get(origin);
    this.#seen.set(origin, { serial: after?.serial ?? zone.serial, pools, bumpedAt: t });
    log({ zone: text, serial: after?.serial, mode: z.mode }, 'serial bumped: the pools a transfer sends changed');
  }
}

/** The pools' A/AAAA RRsets as a transfer would send them now, as one comparable string. */
function fingerprint(zone: PooledZone, mode: PoolsInTransfer, health: HealthView, now: number): string {
  const parts: string[] = [];
  for (const pool of zone.pools!.values()) {
    for (const e of poolRecords(pool, mode, health, now)) {
      parts.push(`${e.owner}|${e.rrset.type}|${e.rrset.rdata.map((d) => d.toString('hex')).join(',')}`);
    }
  }
  return parts.join(';');
}
