// `dnssec:` of gslbd.yaml: which zones are signed online, with which algorithm, signatures valid
// how long (5-answer/sign.ts signs; 7-state/dnssec-keys.ts keeps the keys).

import { isScalar } from 'yaml';
import { keyFromText, NameError, nameToText, type NameKey } from '../0-base/name.ts';
import { MapReader, type YamlSource } from '../0-base/yaml-reader.ts';
import { Algorithm, type AlgorithmNumber } from '../1-codec/dnssec.ts';

export interface DnssecOptions {
  /** The signed zones' origins. */
  readonly zones: readonly NameKey[];
  readonly algorithm: AlgorithmNumber;
  /** How long a signature is valid, ms (default 3 days; re-signed every quarter of it). */
  readonly validityMs: number;
}

/** The algorithms' names in gslbd.yaml (RFC 8624 mnemonics, lower case). */
export const ALGORITHMS = { ecdsap256sha256: Algorithm.ECDSAP256SHA256, ed25519: Algorithm.ED25519 } as const;
export const DEFAULT_VALIDITY_MS = 3 * 86_400_000;

/** `dnssec:`, each error reported at its line in `src`. */
export function readDnssec(src: YamlSource, top: MapReader): DnssecOptions | undefined {
  const m = MapReader.of(src, top.node('dnssec'), 'dnssec');
  if (!m) return undefined;
  m.only(['zones', 'algorithm', 'signature-validity']);
  const zones: NameKey[] = [];
  for (const [i, n] of (m.list('zones') ?? []).entries()) {
    const at = `${m.sub('zones')}[${i}]`;
    const text = isScalar(n) ? String(n.value) : '';
    try {
      const key = keyFromText(text.endsWith('.') ? text : `${text}.`);
      if (zones.includes(key)) src.fail(n, at, `zone ${nameToText(key)} is listed twice`);
      else zones.push(key);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      src.fail(n, at, `not a zone name: ${e.message}`);
    }
  }
  if (!m.has('zones') || (m.list('zones') ?? []).length === 0)
    m.fail(m.has('zones') ? 'zones' : undefined, 'at least one zone to sign is needed (zones: [example.com.])');
  const name = m.oneOf('algorithm', Object.keys(ALGORITHMS) as (keyof typeof ALGORITHMS)[]) ?? 'ecdsap256sha256';
  // At least an hour: the inception is backdated an hour, and resolvers cache for the TTL.
  const validityMs = m.duration('signature-validity', 3_600_000, 90 * 86_400_000) ?? DEFAULT_VALIDITY_MS;
  return { zones, algorithm: ALGORITHMS[name], validityMs };
}
