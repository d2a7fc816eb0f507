// The signed zones' keys on disk: one file per zone under `<data>/keys/`, owner-only (0600, in a
// 0700 directory), holding the zone's combined signing key as PKCS#8 PEM. Made at the first start
// that signs the zone, read at every start after. The private key is never logged.

import { mkdir, open, readFile, rename, chmod } from 'node:fs/promises';
import path from 'node:path';
import { GslbError } from '../0-base/errors.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { generatePrivateKey, signingKey, type AlgorithmNumber } from '../1-codec/dnssec.ts';
import { syncPath } from './durable-file.ts';

/** A zone's key as stored and as handed to the processes that sign (plain data: it crosses IPC). */
export interface StoredKey {
  readonly zone: NameKey;
  readonly algorithm: AlgorithmNumber;
  readonly tag: number;
  /** ISO time it was made. */
  readonly created: string;
  /** PKCS#8 PEM. */
  readonly private: string;
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

/** The stored key of `zone`, or null when there is none yet; throws GslbError ERR_DNSSEC_KEY for a file that does not read. */
export async function readKey(dataDir: string, zone: NameKey): Promise<StoredKey | null> {
  const file = keyFile(dataDir, zone);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new GslbError('ERR_DNSSEC_KEY', `${file}: ${(e as Error).message}`);
  }
  try {
    const parsed = JSON.parse(text) as KeyFile;
    const k = parsed.keys[0];
    if (!k) throw new Error('no key in it');
    // Checked here: a key that does not load fails the start, not the first signed answer.
    const key = signingKey(k.algorithm, k.private);
    return { zone, algorithm: k.algorithm, tag: key.tag, created: k.created, private: k.private };
  } catch (e) {
    throw new GslbError('ERR_DNSSEC_KEY', `${file}: not a key file gslbd wrote (${(e as Error).message})`);
  }
}

/**
 * The key of each of `zones`, made (and stored durably, 0600) for a zone that has none. A stored
 * key of another algorithm than `algorithm` fails the start (ERR_DNSSEC_KEY): an algorithm change
 * is a rollover, which this does not do behind the operator's back.
 */
export async function loadKeys(
  dataDir: string,
  zones: readonly NameKey[],
  algorithm: AlgorithmNumber,
  onCreated: (key: StoredKey) => void = () => {},
): Promise<StoredKey[]> {
  const dir = keysDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const out: StoredKey[] = [];
  for (const zone of zones) {
    let key = await readKey(dataDir, zone);
    if (key && key.algorithm !== algorithm) {
      throw new GslbError(
        'ERR_DNSSEC_KEY',
        `${keyFile(dataDir, zone)}: the key of ${nameToText(zone)} is of algorithm ${key.algorithm}, gslbd.yaml asks for ${algorithm}; an algorithm change needs a rollover`,
      );
    }
    if (!key) {
      const pem = generatePrivateKey(algorithm);
      key = { zone, algorithm, tag: signingKey(algorithm, pem).tag, created: new Date().toISOString(), private: pem };
      await writeKeyFile(keyFile(dataDir, zone), {
        zone: nameToText(zone),
        keys: [{ algorithm, tag: key.tag, created: key.created, private: pem }],
      });
      onCreated(key);
    }
    out.push(key);
  }
  return out;
}

/** Written whole or not at all (temporary file, fsync, rename, fsync of the directory), 0600 from the start. */
async function writeKeyFile(file: string, content: KeyFile): Promise<void> {
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
