// Pre-encoded RRsets: the form zones hold RRs in and the response writer copies from, and the one
// place RR wire bytes are laid out.

import { Class } from '../0-base/constants.ts';
import type { NameKey } from '../0-base/name.ts';

/**
 * An RRset, pre-encoded for the answer path.
 * `wire[i]` is RR i without its owner: TYPE CLASS(IN) TTL RDLENGTH RDATA, ready to copy after
 * whatever owner name (or compression pointer) the response writer emits.
 */
export interface RRset {
  readonly owner: NameKey;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: readonly Buffer[];
  readonly wire: readonly Buffer[];
  /**
   * Names this RRset points at, for CNAME chasing and additional-section processing
   * (CNAME/DNAME target, NS nsdname, MX exchange, SRV target); empty for other types.
   */
  readonly targets: readonly NameKey[];
}

/** TYPE CLASS(IN) TTL RDLENGTH RDATA: an RR without its owner name. */
export function encodeRR(type: number, ttl: number, rdata: Buffer): Buffer {
  const out = Buffer.allocUnsafe(10 + rdata.length);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(Class.IN, 2);
  out.writeUInt32BE(ttl, 4);
  out.writeUInt16BE(rdata.length, 8);
  rdata.copy(out, 10);
  return out;
}

export function makeRRset(
  owner: NameKey,
  type: number,
  ttl: number,
  rdata: readonly Buffer[],
  targets: readonly NameKey[] = [],
): RRset {
  return { owner, type, ttl, rdata, wire: rdata.map((d) => encodeRR(type, ttl, d)), targets };
}
