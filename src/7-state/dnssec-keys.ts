// The signed zones' keys on disk: one file per zone under `<data>/keys/`, owner-only (0600, in a
// 0700 directory), holding the zone's combined signing keys as PKCS#8 PEM with their schedule.
// The first key is made at the first start that signs the zone; a rollover adds the next one.
// Private keys are never logged.

import { mkdir, open, readFile, rename, chmod } from 'node:fs/promises';
import path from 'node:path';
import { GslbError } from '../0-base/errors.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { generatePrivateKey, signingKey, type AlgorithmNumber } from '../1-codec/dnssec.ts';
import { syncPath } from './durable-file.ts';

/**
 * When a key is in the DNSKEY RRset (publish ≤ t < delete) and when it signs (active ≤ t <
 * inactive), ms since the epoch; absent: from always, or for ever.
 */
export interface KeyTimes {
  readonly publish?: number;
  readonly active?: number;
  readonly inactive?: number;
  readonly delete?: number;
}

/** A zone's key as stored and as handed to the processes that sign (plain data: it crosses IPC). */
export interface StoredKey extends KeyTimes {
  readonly zone: NameKey;
  readonly algorithm: AlgorithmNumber;
  readonly tag: number;
  /** ISO time it was made. */
  readonly created: string;
  /** PKCS#8 PEM. */
  readonly private: string;
  /**
   * A rollover asked for (`gslbd dnssec rollover`) and not yet put in service: its times are set
   * when gslbd first loads it, so the new key is pre-published for the whole time asked.
   */
  readonly pending?: { readonly prepublishMs: number; readonly retireMs: number };
}

interface KeyFile {
  readonly zone: string;
  readonly keys: readonly Omit<StoredKey, 'zone'>[];
}

export const keysDir = (dataDir: string): string => path.join(dataDir, 'keys');

/** `<data>/keys/<zone>.json`, the zone's name without its final dot (`root` for the root). */
export function keyFile(dataDir: string, zone: NameKey): string {
  const text = nameToText(zone);
  const base = text === '.' ? 'root' : text.slice(0, -1).replace(/[/\\]/g, '_');
  return path.join(keysDir(dataDir), `${base}.json`);
}

/** The stored keys of `zone`, oldest first ([] when there is none yet); throws ERR_DNSSEC_KEY for a file that does not read. */
export async function readKeys(dataDir: string, zone: NameKey): Promise<StoredKey[]> {
  const file = keyFile(dataDir, zone);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new GslbError('ERR_DNSSEC_KEY', `${file}: ${(e as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as KeyFile;
    if (!parsed.keys.length) throw new Error('no key in it');
    // Checked here: a key that does not load fails the start, not the first signed answer.
    return parsed.keys.map((k) => ({ ...k, zone, tag: signingKey(k.algorithm, k.private).tag }));
  } catch (e) {
    throw new GslbError('ERR_DNSSEC_KEY', `${file}: not a key file gslbd wrote (${(e as Error).message})`);
  }
}

/** The key that signs at `now` (the newest active one), if any. */
export function activeKey(keys: readonly StoredKey[], now: number): StoredKey | undefined {
  return keys.findLast((k) => !k.pending && (k.active ?? -Infinity) <= now && now < (k.inactive ?? Infinity));
}

/**
 * The keys of each of `zones`, the first made (and stored durably, 0600) for a zone that has
 * none, a pending rollover put on the clock from `now` (and stored), keys past their deletion
 * dropped. A zone whose signing key is of another algorithm than `algorithm` fails the start
 * (ERR_DNSSEC_KEY): an algorithm change is not done behind the operator's back.
 */
export async function loadKeys(
  dataDir: string,
  zones: readonly NameKey[],
  algorithm: AlgorithmNumber,
  now: number,
  onCreated: (key: StoredKey) => void = () => {},
): Promise<StoredKey[]> {
  const dir = keysDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const out: StoredKey[] = [];
  for (const zone of zones) {
    let keys: readonly StoredKey[] = await readKeys(dataDir, zone);
    const current = activeKey(keys, now);
    if (current && current.algorithm !== algorithm) {
      throw new GslbError(
        'ERR_DNSSEC_KEY',
        `${keyFile(dataDir, zone)}: the key of ${nameToText(zone)} is of algorithm ${current.algorithm}, gslbd.yaml asks for ${algorithm}; an algorithm change needs a rollover`,
      );
    }
    const scheduled = schedule(keys, now);
    if (keys.length === 0) {
      const pem = generatePrivateKey(algorithm);
      const key: StoredKey = {
        zone,
        algorithm,
        tag: signingKey(algorithm, pem).tag,
        created: new Date(now).toISOString(),
        private: pem,
      };
      keys = [key];
      await writeKeys(dataDir, zone, keys);
      onCreated(key);
    } else if (scheduled !== keys) {
      keys = scheduled;
      await writeKeys(dataDir, zone, keys);
    }
    out.push(...keys);
  }
  return out;
}

/**
 * A pending rollover put on the clock (RFC 7583 §3.3.1's CSK rollover, with the DNSKEY RRset
 * signed by every published key): the new key is published at `now` and signs from `now +
 * prepublish`, when the old one stops; the old one leaves the DNSKEY RRset `retire` later. Keys
 * deleted before `now` are dropped. Returns `keys` itself when nothing changed.
 */
export function schedule(keys: readonly StoredKey[], now: number): readonly StoredKey[] {
  const live = keys.filter((k) => (k.delete ?? Infinity) > now);
  const next = live.find((k) => k.pending);
  if (!next && live.length === keys.length) return keys;
  if (!next) return live;
  const { prepublishMs, retireMs } = next.pending!;
  const switchAt = now + prepublishMs;
  return live.map((k) => {
    if (k === next) {
      const { pending: _p, ...rest } = k;
      return { ...rest, publish: now, active: switchAt };
    }
    return k.inactive === undefined ? { ...k, inactive: switchAt, delete: switchAt + retireMs } : k;
  });
}

/**
 * Adds a new key of the signing key's algorithm to `zone`'s file, pending (its times are set when
 * gslbd loads it). Refuses (ERR_DNSSEC_KEY) while another rollover is under way.
 */
export async function addRolloverKey(
  dataDir: string,
  zone: NameKey,
  prepublishMs: number,
  retireMs: number,
  now: number,
): Promise<StoredKey> {
  const keys = (await readKeys(dataDir, zone)).filter((k) => (k.delete ?? Infinity) > now);
  const current = activeKey(keys, now);
  if (!current) throw new GslbError('ERR_DNSSEC_KEY', `no key signs ${nameToText(zone)}: start gslbd with it first`);
  if (keys.length > 1)
    throw new GslbError(
      'ERR_DNSSEC_KEY',
      `a rollover of ${nameToText(zone)} is under way (keys ${keys.map((k) => k.tag).join(', ')}): wait for the old key to be removed`,
    );
  const pem = generatePrivateKey(current.algorithm);
  const next: StoredKey = {
    zone,
    algorithm: current.algorithm,
    tag: signingKey(current.algorithm, pem).tag,
    created: new Date(now).toISOString(),
    private: pem,
    pending: { prepublishMs, retireMs },
  };
  await writeKeys(dataDir, zone, [...keys, next]);
  return next;
}

/** The file of `zone`, written whole or not at all (temporary file, fsync, rename, fsync of the directory), 0600 from the start. */
export async function writeKeys(dataDir: string, zone: NameKey, keys: readonly StoredKey[]): Promise<void> {
  const content: KeyFile = { zone: nameToText(zone), keys: keys.map(({ zone: _z, ...k }) => k) };
  const file = keyFile(dataDir, zone);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await chmod(path.dirname(file), 0o700);
  const tmp = `${file}.tmp`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(content, null, 2) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncPath(path.dirname(file));
}
