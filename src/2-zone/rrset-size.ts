// Whether an RRset can be served at all. A DNS message is at most 65535 octets: RFC 1035 §4.2.2
// gives TCP a 16-bit length prefix, and UDP's RFC 6891 payload size is 16 bits too. An RRset that
// cannot fit in one response is answered as an empty TC=1 even over TCP, which a client retries
// forever or gives up on, so the zone loader, the HTTP API and RFC 2136 UPDATE refuse it up front,
// as BIND's named-checkzone does.

import { typeName } from '../0-base/constants.ts';
import { isWildcard, MAX_NAME, nameToText, type NameKey } from '../0-base/name.ts';

const MAX_MESSAGE = 65535;
const HEADER = 12;
/** QTYPE and QCLASS after the question's name. */
const QUESTION_FIXED = 4;
/** RFC 1035 §4.1.4: each RR's owner is a pointer to the question's name. */
const POINTER = 2;
/** TYPE CLASS TTL RDLENGTH of each RR. */
const RR_FIXED = 10;
/**
 * The largest OPT the response writer adds (1-codec/response.ts): RFC 6891 §6.1.2's 11 octets plus an
 * echoed RFC 7871 client-subnet option for a /128 IPv6 source (4 + 4 + 16).
 */
const MAX_OPT = 11 + 24;

/**
 * Null if a response to a query for `owner`/`type` carrying the whole RRset (header, question,
 * every RR with its owner compressed to the question, RDATA written as stored, and our largest
 * OPT) fits in 65535 octets; otherwise why not, for `file:line: reason` or an API error. A
 * wildcard owner is asked for by longer names, so it is measured with the longest question
 * (255 octets). `owner` is a NameKey or wire name (their length is the wire length); `rdata` is
 * each RR's uncompressed RDATA. Cost: one pass over `rdata`, no allocation.
 */
export function rrsetSizeError(owner: NameKey | Uint8Array, type: number, rdata: readonly Uint8Array[]): string | null {
  const wildcard = typeof owner === 'string' ? isWildcard(owner) : owner[0] === 1 && owner[1] === 0x2a;
  const question = wildcard ? MAX_NAME : owner.length;
  let size = HEADER + question + QUESTION_FIXED + MAX_OPT;
  for (const rd of rdata) size += POINTER + RR_FIXED + rd.length;
  if (size <= MAX_MESSAGE) return null;
  return (
    `${typeName(type)} RRset at ${nameToText(owner)} is too large to serve: its ${rdata.length} records need a ` +
    `${size}-octet response, and a DNS message holds at most ${MAX_MESSAGE} (RFC 1035 §4.2.2)`
  );
}
