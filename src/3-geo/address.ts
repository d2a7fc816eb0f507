// The one place geo turns an address string into what a database lookup needs. Both adapters
// share it, so they agree on what is an address and on IPv4-mapped IPv6.

import { parseIPv4, parseIPv6 } from '../0-base/address.ts';

export interface LookupAddress {
  readonly family: 4 | 6;
  /** Dotted quad, or all eight IPv6 groups in hex (no `::`, no dotted tail: geoip-lite's parser needs that). */
  readonly text: string;
  /** 4 or 16 bytes. */
  readonly bytes: Buffer;
  /**
   * Bits to add to a prefix found for `text` to express it for the address as given: 96 when an
   * IPv4-mapped IPv6 address (::ffff:a.b.c.d, how a dual-stack socket reports an IPv4 client) is
   * looked up as the IPv4 address it carries, else 0.
   */
  readonly prefixOffset: 0 | 96;
}

/** What to look up for `address`, or null when it is not an IPv4 or IPv6 address (zone indexes included). */
export function lookupAddress(address: string): LookupAddress | null {
  const v4 = parseIPv4(address);
  if (v4) return { family: 4, text: address, bytes: v4, prefixOffset: 0 };
  const v6 = parseIPv6(address);
  if (!v6) return null;
  if (isV4Mapped(v6)) {
    const bytes = v6.subarray(12);
    return { family: 4, text: bytes.join('.'), bytes, prefixOffset: 96 };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(v6.readUInt16BE(i).toString(16));
  return { family: 6, text: groups.join(':'), bytes: v6, prefixOffset: 0 };
}

// RFC 4291 §2.5.5.2: ::ffff:0:0/96.
function isV4Mapped(b: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}
