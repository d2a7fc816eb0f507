// Where the domain names sit in the RDATA of a type: N a name, C a character-string, a digit that
// many fixed octets; whatever follows the layout is copied as it is (SOA's five counters).

import { Type } from '../0-base/constants.ts';
import { nameEnd } from '../0-base/name.ts';

/** RFC 3597 §4: the RFC 1035 types, the only ones whose RDATA names may be compressed. */
export const COMPRESSIBLE_LAYOUT: ReadonlyMap<number, string> = new Map<number, string>([
  [Type.NS, 'N'],
  [3, 'N'], // MD
  [4, 'N'], // MF
  [Type.CNAME, 'N'],
  [7, 'N'], // MB
  [8, 'N'], // MG
  [9, 'N'], // MR
  [Type.PTR, 'N'],
  [Type.SOA, 'NN'],
  [14, 'NN'], // MINFO
  [Type.MX, '2N'],
]);

/** RFC 4034 §6.2: the types whose RDATA names are lower-cased in canonical form (DNSSEC types aside). */
export const CANONICAL_LAYOUT: ReadonlyMap<number, string> = new Map<number, string>([
  ...COMPRESSIBLE_LAYOUT,
  [Type.DNAME, 'N'],
  [17, 'NN'], // RP
  [18, '2N'], // AFSDB
  [21, '2N'], // RT
  [36, '2N'], // KX
  [26, '2NN'], // PX
  [Type.SRV, '6N'],
  [Type.NAPTR, '4CCCN'],
]);

/** RDATA with the names in it lower-cased (RFC 4034 §6.2); as it is if it does not have its type's layout. */
export function canonicalRdata(type: number, d: Buffer): Buffer {
  const layout = CANONICAL_LAYOUT.get(type);
  if (layout === undefined) return d;
  const out = Buffer.from(d);
  let p = 0;
  for (const f of layout) {
    if (f === 'N') {
      const end = nameEnd(out, p);
      if (end < 0) return d;
      // Label lengths are at most 63, below 'A': only label octets change.
      for (; p < end; p++) if (out[p]! >= 0x41 && out[p]! <= 0x5a) out[p]! += 32;
    } else {
      p += f === 'C' ? 1 + (out[p] ?? 0) : Number(f);
      if (p > out.length) return d;
    }
  }
  return out;
}
