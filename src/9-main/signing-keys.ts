// The signed zones' keys for one Service (`dnssec:` in gslbd.yaml): the Signer that signs answers
// with them, each rollover step logged as its time comes, the key files read again on reload (a
// rollover asked for by `gslbd dnssec rollover`), and in a cluster the keys as etcd has them, made
// once for every node by compare-and-swap and looked at again every few seconds.

import { GslbError } from '../0-base/errors.ts';
import type { Logger } from '../0-base/log.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { signingKey } from '../1-codec/dnssec.ts';
import type { Clock } from '../3-health/clock.ts';
import { Signer, type ZoneKey } from '../5-answer/sign.ts';
import { syncKeys } from '../7-state/dnssec-etcd.ts';
import { loadKeys, readKeys, type StoredKey } from '../7-state/dnssec-keys.ts';
import type { ClusterNode } from './cluster-node.ts';

/** How often a cluster node reads the keys in etcd again (a rollover is pre-published far longer). */
const KEY_POLL_MS = 5000;

/**
 * Online signing as the command line prepared it: the signed zones' keys (7-state/dnssec-keys.ts
 * loadKeys; a reload reads them again from `dataDir`, for a rollover), the algorithm and the
 * signatures' validity.
 */
export interface DnssecSetup {
  readonly keys: readonly StoredKey[];
  readonly validityMs: number;
  readonly zones: readonly NameKey[];
  readonly algorithm: StoredKey['algorithm'];
}

export interface SigningKeysOptions {
  readonly dnssec: DnssecSetup;
  /** Where the key files are; null (a worker): keys come from the primary only (`set`). */
  readonly dataDir: string | null;
  readonly clock: Clock;
  readonly log: Logger;
  readonly onSignature: (result: 'hit' | 'miss' | 'made') => void;
  /** This node of a cluster, once the Service has made it; null alone. */
  readonly node: () => ClusterNode | null;
  /** The cluster's etcd key prefix, with a node. */
  readonly prefix?: string;
  /** Told of every new set of keys (the workers sign with the same). */
  readonly followers?: { dnssec(keys: readonly StoredKey[]): void };
}

export class SigningKeys {
  readonly signer: Signer;
  readonly #o: SigningKeysOptions;
  #keys: readonly StoredKey[];
  #epoch = -1;
  #stepTimer: NodeJS.Timeout | null = null;
  #poll: NodeJS.Timeout | null = null;

  constructor(o: SigningKeysOptions) {
    this.#o = o;
    this.#keys = o.dnssec.keys;
    this.signer = new Signer({
      zones: signedZones(o.dnssec.keys),
      validityMs: o.dnssec.validityMs,
      onSignature: o.onSignature,
    });
  }

  /** Each step of a rollover is logged as its time comes (the signer reads the times per query). */
  start(): void {
    this.#logSteps();
    this.#stepTimer = setInterval(() => this.#logSteps(), 1000);
    this.#stepTimer.unref();
  }

  /**
   * In a cluster, once the node has started: the keys are etcd's, taken (or made, once for all
   * nodes) before answering, then looked at again every few seconds for a rollover another node
   * put in service.
   */
  async join(): Promise<void> {
    if (!this.#o.node() || this.#o.dataDir === null) return;
    const keys = await this.#read(true);
    this.set(keys);
    this.#o.followers?.dnssec(keys);
    this.#poll = setInterval(() => void this.reload(), KEY_POLL_MS);
    this.#poll.unref();
  }

  /**
   * The keys from now on (a reload read them; a worker is told by its primary): a rollover's new key
   * is published, signs, and the old one retires at the times they carry.
   */
  set(keys: readonly StoredKey[]): void {
    this.#keys = keys;
    this.signer.setZones(signedZones(keys));
    this.#logSteps();
  }

  /**
   * The keys read again: a rollover asked for (`gslbd dnssec rollover`) is put on the clock from now
   * and written back, here and in the followers. Keys that do not read keep the ones in service
   * (logged).
   */
  async reload(): Promise<void> {
    if (this.#o.dataDir === null) return;
    try {
      const keys = await this.#read(false);
      if (same(keys, this.#keys)) return;
      for (const k of keys) {
        if (k.publish !== undefined && !this.#keys.some((old) => old.tag === k.tag && old.zone === k.zone))
          this.#o.log.info(
            { zone: nameToText(k.zone), tag: k.tag, publish: k.publish, active: k.active },
            `dnssec: rollover of ${nameToText(k.zone)} started: key ${k.tag} published, signing from ${new Date(k.active!).toISOString()}`,
          );
      }
      this.set(keys);
      this.#o.followers?.dnssec(keys);
    } catch (err) {
      this.#o.log.error({ error: (err as Error).message }, 'dnssec: keys not reloaded: the keys in service are kept');
    }
  }

  stop(): void {
    if (this.#stepTimer) clearInterval(this.#stepTimer);
    if (this.#poll) clearInterval(this.#poll);
  }

  /** Logs each key whose state changed since the last call (at most once a second). */
  #logSteps(): void {
    const now = this.#o.clock.now();
    const epoch = this.signer.epoch(now);
    if (epoch === this.#epoch) return;
    const first = this.#epoch < 0;
    this.#epoch = epoch;
    for (const z of this.signer.describe(now)) {
      for (const k of z.keys) {
        const fields = { zone: nameToText(z.zone), tag: k.tag, algorithm: k.algorithm, state: k.state };
        if (!first || z.keys.length > 1) this.#o.log.info(fields, `dnssec: key ${k.tag} of ${fields.zone} ${k.state}`);
      }
    }
  }

  /**
   * The signed zones' keys: alone, from the key files (loadKeys); in a cluster, as etcd has them
   * (syncKeys: compare-and-swap, so every node signs with the same keys). `start`: with etcd out of
   * reach, the node's own copies, if it has them.
   */
  async #read(start: boolean): Promise<StoredKey[]> {
    const d = this.#o.dnssec;
    const dataDir = this.#o.dataDir!;
    const now = this.#o.clock.now();
    const node = this.#o.node();
    if (!node) return loadKeys(dataDir, d.zones, d.algorithm, now);
    const made = (k: StoredKey) =>
      this.#o.log.info(
        { zone: nameToText(k.zone), algorithm: k.algorithm, tag: k.tag },
        'dnssec: key made and shared through etcd (gslbd dnssec ds prints its DS for the parent)',
      );
    try {
      return await syncKeys(node.store.client, this.#o.prefix!, dataDir, d.zones, d.algorithm, now, made);
    } catch (err) {
      if (!start) throw err;
      const local = (await Promise.all(d.zones.map((z) => readKeys(dataDir, z)))).flat();
      if (d.zones.some((z) => !local.some((k) => k.zone === z)))
        throw new GslbError(
          'ERR_DNSSEC_KEY',
          `the signed zones' keys: etcd: ${(err as Error).message}, and no copy here`,
        );
      this.#o.log.warn(
        { error: (err as Error).message },
        "dnssec: etcd unreachable: signing with this node's copy of the keys",
      );
      return local;
    }
  }
}

/** The keys as the Signer takes them: by zone, each loaded once. */
function signedZones(keys: readonly StoredKey[]) {
  const zones = new Map<NameKey, { origin: NameKey; keys: ZoneKey[] }>();
  for (const k of keys) {
    let z = zones.get(k.zone);
    if (!z) zones.set(k.zone, (z = { origin: k.zone, keys: [] }));
    const { publish, active, inactive, delete: del } = k;
    z.keys.push({
      key: signingKey(k.algorithm, k.private),
      ...(publish !== undefined && { publish }),
      ...(active !== undefined && { active }),
      ...(inactive !== undefined && { inactive }),
      ...(del !== undefined && { delete: del }),
    });
  }
  return [...zones.values()];
}

const same = (a: readonly StoredKey[], b: readonly StoredKey[]) =>
  a.length === b.length && a.every((k, i) => JSON.stringify(k) === JSON.stringify(b[i]));
