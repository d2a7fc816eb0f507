// The signed zones' keys in a cluster (`cluster:` with `dnssec:`): etcd holds each zone's key file
// (`<prefix>dnssec/<zone>`), so every node signs with the same keys. Every change is a
// compare-and-swap: the first key is created only if none exists (two nodes starting together
// make one key, the loser takes the winner's), and a rollover is added and put on the clock only
// over the version read. Each node keeps a copy in its own key file (0600), which `gslbd dnssec ds`
// reads and a start with etcd unreachable signs with.

import type { Etcd3 } from 'etcd3';
import { GslbError } from '../0-base/errors.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { generatePrivateKey, signingKey, type AlgorithmNumber } from '../1-codec/dnssec.ts';
import { readKeys, schedule, writeKeys, type StoredKey } from './dnssec-keys.ts';

/** Compare-and-swap attempts before giving up (other nodes kept changing the keys meanwhile). */
const MAX_ATTEMPTS = 10;

type Stored = Omit<StoredKey, 'zone'>;

const same = (a: readonly StoredKey[], b: readonly StoredKey[]) =>
  a.length === b.length && a.every((k, i) => JSON.stringify(k) === JSON.stringify(b[i]));

/**
 * The keys of each of `zones` as etcd has them, after this node's part: the first key made if etcd
 * and the local file have none (the local file's taken if only it has one), a rollover asked for
 * on this node (a pending key in the local file) added, a pending rollover put on the clock, keys
 * past their deletion dropped; each change a compare-and-swap. The local file is brought in line.
 */
export async function syncKeys(
  client: Etcd3,
  prefix: string,
  dataDir: string,
  zones: readonly NameKey[],
  algorithm: AlgorithmNumber,
  now: number,
  onCreated: (key: StoredKey) => void = () => {},
): Promise<StoredKey[]> {
  const out: StoredKey[] = [];
  for (const zone of zones) {
    const name = `${prefix}dnssec/${nameToText(zone)}`;
    const local = await readKeys(dataDir, zone);
    let keys: readonly StoredKey[] | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && keys === null; attempt++) {
      const kv = (await client.get(name).exec()).kvs[0];
      if (!kv) {
        let first: readonly StoredKey[] = local;
        if (!first.length) {
          const pem = generatePrivateKey(algorithm);
          const tag = signingKey(algorithm, pem).tag;
          first = [{ zone, algorithm, tag, created: new Date(now).toISOString(), private: pem }];
        }
        first = schedule(first, now);
        // Created only if no node has created it meanwhile (its create revision would not be 0).
        const res = await client
          .if(name, 'Create', '==', 0)
          .then(client.put(name).value(JSON.stringify(first.map(({ zone: _z, ...k }) => k))))
          .commit();
        if (res.succeeded) {
          keys = first;
          if (!local.length) onCreated(first[0]!);
        }
        continue;
      }
      const remote: StoredKey[] = (JSON.parse(kv.value.toString()) as Stored[]).map((k) => ({ ...k, zone }));
      let next: readonly StoredKey[] = remote;
      // A rollover asked for on this node: its pending key joins, if none is under way.
      const asked = local.find((k) => k.pending && !remote.some((r) => r.tag === k.tag));
      const live = remote.filter((k) => (k.delete ?? Infinity) > now);
      if (asked && live.length === 1) next = [...remote, asked];
      next = schedule(next, now);
      if (next === remote || same(next, remote)) {
        keys = remote;
        continue;
      }
      const res = await client
        .if(name, 'Mod', '==', kv.mod_revision)
        .then(client.put(name).value(JSON.stringify(next.map(({ zone: _z, ...k }) => k))))
        .commit();
      if (res.succeeded) keys = next;
    }
    if (keys === null)
      throw new GslbError('ERR_DNSSEC_KEY', `${nameToText(zone)}: the keys in etcd kept changing; not taken`);
    if (!same(keys, local)) await writeKeys(dataDir, zone, keys);
    out.push(...keys);
  }
  return out;
}
