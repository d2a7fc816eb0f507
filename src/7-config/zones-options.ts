// Per-zone settings as gslbd.yaml gives them (`zones-options:`): who may transfer a zone, which
// secondaries to notify, and what its pools become in a transfer. Read here, checked against the
// zones and TSIG keys in service by 9-main, served by 6-serve/transfer.ts. Plain data (no classes),
// so the options reach cluster workers as they are.

import { isScalar, type Node as YamlNode } from 'yaml';
import type { Cidr } from '../0-base/cidr.ts';
import { parseListen, type ListenAddress } from '../0-base/listen.ts';
import { keyFromText, nameToText, NameError, type NameKey } from '../0-base/name.ts';
import { MapReader, type YamlSource } from '../0-base/yaml-reader.ts';
import { POOLS_IN_TRANSFER, type PoolsInTransfer } from '../5-answer/transfer.ts';

export const DEFAULT_TRANSFER_MIN_INTERVAL_MS = 30_000;
export const DEFAULT_IXFR_HISTORY = 100;

export interface ZoneOptions {
  /** The zone's name as text, with the final dot, lower case (`gslb.example.com.`). */
  readonly zone: string;
  /** Who may transfer it; absent: nobody (AXFR and IXFR are REFUSED). */
  readonly transfer?: TransferOptions;
  /** Secondaries to send NOTIFY to (RFC 1996) when the serial changes. */
  readonly notify: readonly ListenAddress[];
  /** Default `all`; `omit` for a secondary zone (its serial is its primary's). */
  readonly poolsInTransfer: PoolsInTransfer;
  /** A secondary zone: transferred from this primary instead of read from a zone file. */
  readonly primary?: PrimaryOptions;
  /** `healthy`: the serial is bumped for a health change at most once per this long (ms; default 30 s). */
  readonly transferMinIntervalMs: number;
  /** Serial steps of IXFR history kept (default 100); 0: none, every IXFR is answered in full. */
  readonly ixfrHistory: number;
  /** Where it is written, for the errors only the zones and keys in service can show. */
  readonly file: string;
  readonly line: number;
}

export interface PrimaryOptions {
  readonly address: ListenAddress;
  /** The TSIG key transfers are signed with and NOTIFY must carry (name as text, final dot). */
  readonly key?: { readonly name: string; readonly line: number };
}

/**
 * A transfer needs every condition given: an address in `allow` when there is a list, and a
 * signature with a key in `keys` when there is a list (as Knot's ACLs combine address and key).
 */
export interface TransferOptions {
  readonly allow?: readonly Cidr[];
  /** Key names as text, final dot, lower case; each must be a TSIG key in service. */
  readonly keys?: readonly { readonly name: string; readonly line: number }[];
}

/**
 * What only the zones and keys in service can tell, as `file:line: path: reason`: a zone with no
 * file in `zonesDir` (its origin not in `zoneFiles`), a transfer key that is not one of `keys`.
 * `serve` refuses to start (or a reload keeps the old settings) on the first; `check` lists them all.
 */
export function zonesOptionsErrors(
  options: readonly ZoneOptions[],
  zoneFiles: ReadonlySet<NameKey>,
  keys: ReadonlySet<NameKey>,
  zonesDir: string,
): string[] {
  const errors: string[] = [];
  for (const o of options) {
    const file = zoneFiles.has(keyFromText(o.zone));
    if (o.primary && file)
      errors.push(
        `${o.file}:${o.line}: zones-options.${o.zone}: both a zone file in ${zonesDir} and a primary: a zone is read from one or the other`,
      );
    if (!o.primary && !file)
      errors.push(`${o.file}:${o.line}: zones-options.${o.zone}: no zone ${o.zone} in ${zonesDir}`);
    const pk = o.primary?.key;
    if (pk && !keys.has(keyFromText(pk.name)))
      errors.push(
        `${o.file}:${pk.line}: zones-options.${o.zone}.primary.key: no TSIG key ${pk.name} (tsig: or --tsig-key)`,
      );
    for (const k of o.transfer?.keys ?? [])
      if (!keys.has(keyFromText(k.name)))
        errors.push(
          `${o.file}:${k.line}: zones-options.${o.zone}.transfer.keys: no TSIG key ${k.name} (tsig: or --tsig-key)`,
        );
  }
  return errors;
}

/** A name as written, made absolute and lower case; undefined (error reported) if it is not a name. */
function zoneName(text: string, fail: (reason: string) => undefined): string | undefined {
  try {
    return nameToText(keyFromText(text.endsWith('.') ? text : `${text}.`));
  } catch (e) {
    if (e instanceof NameError) return fail(e.message);
    throw e;
  }
}

/** `zones-options:` of gslbd.yaml, each error reported at its line in `src`. */
export function readZonesOptions(src: YamlSource, top: MapReader): ZoneOptions[] {
  const m = MapReader.of(src, top.node('zones-options'), 'zones-options');
  if (!m) return [];
  const out: ZoneOptions[] = [];
  for (const name of m.keys()) {
    const z = MapReader.of(src, m.node(name), m.sub(name));
    const zone = zoneName(name, (reason) => m.failAtKey(name, `not a zone name: ${reason}`));
    if (!z || zone === undefined) continue;
    if (out.some((o) => o.zone === zone)) {
      m.failAtKey(name, `zone ${zone} is given twice`);
      continue;
    }
    z.only(['transfer', 'notify', 'pools-in-transfer', 'transfer-min-interval', 'ixfr-history', 'primary']);
    const primary = z.has('primary') ? readPrimary(src, z) : undefined;
    const pools = z.oneOf('pools-in-transfer', POOLS_IN_TRANSFER);
    if (primary && pools !== undefined && pools !== 'omit')
      z.fail(
        'pools-in-transfer',
        "a secondary zone transfers its pools as omit: its serial is its primary's, and cannot follow our pools",
      );
    const notify = (z.list('notify') ?? []).flatMap((n, i) => {
      const at = `${z.sub('notify')}[${i}]`;
      try {
        return isScalar(n)
          ? [parseListen(String(n.value), 53)]
          : (src.fail(n, at, 'expected an address like 192.0.2.53:53') ?? []);
      } catch (e) {
        return src.fail(n, at, (e as Error).message) ?? [];
      }
    });
    const transfer = z.has('transfer') ? readTransfer(src, z) : undefined;
    out.push({
      zone,
      ...(transfer && { transfer }),
      notify,
      poolsInTransfer: primary ? 'omit' : (pools ?? 'all'),
      ...(primary && { primary }),
      transferMinIntervalMs: z.duration('transfer-min-interval', 1000, 86_400_000) ?? DEFAULT_TRANSFER_MIN_INTERVAL_MS,
      ixfrHistory: z.number('ixfr-history', 0, 100_000) ?? DEFAULT_IXFR_HISTORY,
      file: src.file,
      line: m.line(name),
    });
  }
  return out;
}

function readTransfer(src: YamlSource, z: MapReader): TransferOptions | undefined {
  const t = MapReader.of(src, z.node('transfer'), z.sub('transfer'));
  if (!t) return undefined;
  t.only(['allow', 'keys']);
  const allow = t.cidrs('allow');
  if (t.list('allow')?.length === 0)
    t.fail('allow', 'an empty list: every transfer would be refused (leave transfer out for that)');
  let keys: { name: string; line: number }[] | undefined;
  if (t.has('keys')) {
    keys = [];
    for (const [i, n] of (t.list('keys') ?? []).entries()) {
      const at = `${t.sub('keys')}[${i}]`;
      if (!isScalar(n)) {
        src.fail(n, at, 'expected a TSIG key name');
        continue;
      }
      const name = zoneName(String(n.value), (reason) => src.fail(n, at, `not a key name: ${reason}`));
      if (name !== undefined) keys.push({ name, line: src.lineOf(n) });
    }
    if (t.list('keys')?.length === 0)
      t.fail('keys', 'an empty list: every transfer would be refused (leave transfer out for that)');
  }
  if (!allow && !keys) return t.fail(undefined, 'give allow (address prefixes), keys (TSIG key names) or both');
  return { ...(allow && { allow }), ...(keys && { keys }) };
}

/** `primary: 192.0.2.1:53` or `primary: { address: 192.0.2.1:53, key: xfr-key. }`. */
function readPrimary(src: YamlSource, z: MapReader): PrimaryOptions | undefined {
  const node = z.node('primary');
  const address = (n: YamlNode | null | undefined, at: string): ListenAddress | undefined => {
    if (!isScalar(n)) return src.fail(n, at, 'expected an address like 192.0.2.1:53');
    try {
      return parseListen(String(n.value), 53);
    } catch (e) {
      return src.fail(n, at, (e as Error).message);
    }
  };
  if (isScalar(node)) {
    const a = address(node, z.sub('primary'));
    return a && { address: a };
  }
  const p = MapReader.of(src, node, z.sub('primary'));
  if (!p) return undefined;
  p.only(['address', 'key']);
  if (!p.has('address')) return p.fail(undefined, 'give address (the primary, like 192.0.2.1:53)');
  const a = address(p.node('address'), p.sub('address'));
  if (!a) return undefined;
  if (!p.has('key')) return { address: a };
  const k = p.node('key');
  if (!isScalar(k)) return src.fail(k, p.sub('key'), 'expected a TSIG key name');
  const name = zoneName(String(k.value), (reason) => src.fail(k, p.sub('key'), `not a key name: ${reason}`));
  return name === undefined ? undefined : { address: a, key: { name, line: src.lineOf(k) } };
}
