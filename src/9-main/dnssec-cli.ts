// `gslbd dnssec ds ZONE`: what the parent zone needs of a signed zone (its DS, and the DNSKEY);
// `gslbd dnssec rollover ZONE`: a new key for it, put on the clock by the next reload; and the
// loading of the keys `gslbd serve` signs with.

import { parseArgs } from 'node:util';
import { GslbError } from '../0-base/errors.ts';
import type { Logger } from '../0-base/log.ts';
import { keyFromText, nameToText, type NameKey } from '../0-base/name.ts';
import { parseDuration } from '../0-base/yaml-reader.ts';
import { dsRdata, signingKey } from '../1-codec/dnssec.ts';
import { loadZones } from '../4-gslb/load.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { DnssecOptions } from '../7-config/dnssec-options.ts';
import { loadConfig, type GslbdConfig } from '../7-config/load.ts';
import { addRolloverKey, keyFile, loadKeys, readKeys, type StoredKey } from '../7-state/dnssec-keys.ts';

const USAGE = 'gslbd dnssec ds ZONE | rollover ZONE [--propagation 1h]  [--config FILE | --data DIR --zones DIR]';

/** The signed zones' keys (made for a zone without one), each logged by its tag: never the key itself. */
export async function dnssecKeys(
  dataDir: string,
  opts: DnssecOptions,
  log: Logger,
  cluster: boolean,
): Promise<{
  keys: StoredKey[];
  validityMs: number;
  zones: readonly NameKey[];
  algorithm: DnssecOptions['algorithm'];
}> {
  // In a cluster the Service takes them from etcd (7-state/dnssec-etcd.ts) once it reaches it.
  if (cluster) return { keys: [], validityMs: opts.validityMs, zones: opts.zones, algorithm: opts.algorithm };
  const keys = await loadKeys(dataDir, opts.zones, opts.algorithm, Date.now(), (k) =>
    log.info(
      { zone: nameToText(k.zone), algorithm: k.algorithm, tag: k.tag, file: keyFile(dataDir, k.zone) },
      'dnssec: key made (gslbd dnssec ds prints its DS for the parent)',
    ),
  );
  for (const k of keys)
    log.info({ zone: nameToText(k.zone), algorithm: k.algorithm, tag: k.tag }, 'dnssec: signing answers');
  return { keys, validityMs: opts.validityMs, zones: opts.zones, algorithm: opts.algorithm };
}

export async function dnssecCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'ds' && sub !== 'rollover') {
    process.stderr.write(`gslbd: dnssec ${sub ?? ''}: unknown (${USAGE})\n`);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string' },
      data: { type: 'string' },
      zones: { type: 'string' },
      propagation: { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) throw new GslbError('ERR_CONFIG', `dnssec ${sub}: one ZONE expected`);
  const text = positionals[0]!;
  const zone = keyFromText(text.endsWith('.') ? text : `${text}.`);
  const config: Partial<GslbdConfig> = values.config !== undefined ? await loadConfig(values.config) : {};
  const dataDir = values.data ?? config.data ?? './data';
  if (sub === 'rollover') return rollover(zone, dataDir, values.zones ?? config.zones ?? './zones', values.propagation);
  const now = Date.now();
  // What the parent should have: every key published and not retired (two during a rollover).
  const keys = (await readKeys(dataDir, zone)).filter(
    (k) => !k.pending && now < (k.inactive ?? Infinity) && now < (k.delete ?? Infinity),
  );
  if (!keys.length) {
    process.stderr.write(
      `gslbd: no key for ${nameToText(zone)} in ${keyFile(dataDir, zone)}: list it under dnssec.zones and start gslbd once\n`,
    );
    return 1;
  }
  const owner = nameToText(zone);
  for (const stored of keys) {
    const key = signingKey(stored.algorithm, stored.private);
    const ds = dsRdata(zone, key);
    process.stdout.write(
      `${owner} IN DS ${key.tag} ${key.algorithm} 2 ${ds.subarray(4).toString('hex').toUpperCase()}\n` +
        `${owner} IN DNSKEY ${key.dnskey.readUInt16BE(0)} 3 ${key.algorithm} ${key.dnskey.subarray(4).toString('base64')}\n`,
    );
  }
  return 0;
}

/** The largest TTL any answer from `zone` carries: what a resolver may hold signed by the old key. */
function maxTtl(zone: PooledZone): number {
  let max = zone.soa.ttl;
  for (const node of zone.nodes.values()) for (const r of node.rrsets.values()) max = Math.max(max, r.ttl);
  for (const pool of zone.pools?.values() ?? []) max = Math.max(max, pool.def.ttl);
  return max;
}

/**
 * `gslbd dnssec rollover ZONE`: a new key is added to the zone's key file, pending. The next
 * reload (SIGHUP, `gslbd reload`) publishes it, and it signs once the DNSKEY TTL (the SOA's) plus
 * `--propagation` have passed, when the old key stops; the old key leaves the DNSKEY RRset once
 * the largest TTL in the zone plus `--propagation` have passed again.
 */
async function rollover(zone: NameKey, dataDir: string, zonesDir: string, propagationText = '1h'): Promise<number> {
  const propagation = parseDuration(propagationText);
  if (propagation === undefined)
    throw new GslbError('ERR_CONFIG', `--propagation ${propagationText}: a duration like 1h`);
  const z = (await loadZones(zonesDir)).zones.find((x) => x.origin === zone);
  if (!z) throw new GslbError('ERR_CONFIG', `${nameToText(zone)}: no such zone in ${zonesDir}`);
  const prepublishMs = z.soa.ttl * 1000 + propagation;
  const retireMs = maxTtl(z) * 1000 + propagation;
  const key = await addRolloverKey(dataDir, zone, prepublishMs, retireMs, Date.now());
  process.stdout.write(
    `${nameToText(zone)}: key ${key.tag} added. Reload gslbd (SIGHUP or gslbd reload): it is published then, ` +
      `signs ${prepublishMs / 1000} s later (DNSKEY TTL ${z.soa.ttl} s + propagation), and the old key is removed ` +
      `${retireMs / 1000} s after that (largest TTL ${maxTtl(z)} s + propagation). Meanwhile CDS and CDNSKEY list ` +
      `both keys, then the new one: give the parent the new DS (gslbd dnssec ds) before the old key is removed.\n`,
  );
  return 0;
}
