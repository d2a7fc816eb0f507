// Building pre-encoded RRsets (see RRset in types.ts): the one place RR wire bytes are laid out.

import { Class } from '../dns/constants.ts';
import type { NameKey } from '../dns/name.ts';
import type { RRset } from './types.ts';

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

export function makeRRset(owner: NameKey, type: number, ttl: number, rdata: readonly Buffer[], targets: readonly NameKey[] = []): RRset {
  return { owner, type, ttl, rdata, wire: rdata.map((d) => encodeRR(type, ttl, d)), targets };
}
