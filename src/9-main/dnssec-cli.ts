// `gslbd dnssec ds ZONE`: what the parent zone needs of a signed zone (its DS, and the DNSKEY), and
// the loading of the keys `gslbd serve` signs with.

import { parseArgs } from 'node:util';
import { GslbError } from '../0-base/errors.ts';
import type { Logger } from '../0-base/log.ts';
import { keyFromText, nameToText } from '../0-base/name.ts';
import { dsRdata, signingKey } from '../1-codec/dnssec.ts';
import type { DnssecOptions } from '../7-config/dnssec-options.ts';
import { loadConfig } from '../7-config/load.ts';
import { keyFile, loadKeys, readKey, type StoredKey } from '../7-state/dnssec-keys.ts';

/** The signed zones' keys (made for a zone without one), each logged by its tag: never the key itself. */
export async function dnssecKeys(
  dataDir: string,
  opts: DnssecOptions,
  log: Logger,
): Promise<{ keys: StoredKey[]; validityMs: number }> {
  const keys = await loadKeys(dataDir, opts.zones, opts.algorithm, (k) =>
    log.info(
      { zone: nameToText(k.zone), algorithm: k.algorithm, tag: k.tag, file: keyFile(dataDir, k.zone) },
      'dnssec: key made (gslbd dnssec ds prints its DS for the parent)',
    ),
  );
  for (const k of keys)
    log.info({ zone: nameToText(k.zone), algorithm: k.algorithm, tag: k.tag }, 'dnssec: signing answers');
  return { keys, validityMs: opts.validityMs };
}

export async function dnssecCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'ds') {
    process.stderr.write(`gslbd: dnssec ${sub ?? ''}: unknown (gslbd dnssec ds ZONE [--config FILE | --data DIR])\n`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: { config: { type: 'string' }, data: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new GslbError('ERR_CONFIG', 'dnssec ds: one ZONE expected');
  const text = positionals[0]!;
  const zone = keyFromText(text.endsWith('.') ? text : `${text}.`);
  const dataDir =
    values.data ?? (values.config !== undefined ? (await loadConfig(values.config)).data : undefined) ?? './data';
  const stored = await readKey(dataDir, zone);
  if (!stored) {
    process.stderr.write(
      `gslbd: no key for ${nameToText(zone)} in ${keyFile(dataDir, zone)}: list it under dnssec.zones and start gslbd once\n`,
    );
    return 1;
  }
  const key = signingKey(stored.algorithm, stored.private);
  const owner = nameToText(zone);
  const ds = dsRdata(zone, key);
  process.stdout.write(
    `${owner} IN DS ${key.tag} ${key.algorithm} 2 ${ds.subarray(4).toString('hex').toUpperCase()}\n` +
      `${owner} IN DNSKEY ${key.dnskey.readUInt16BE(0)} 3 ${key.algorithm} ${key.dnskey.subarray(4).toString('base64')}\n`,
  );
  return 0;
}
