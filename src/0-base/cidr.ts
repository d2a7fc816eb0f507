// Address prefixes as configuration writes them (`192.0.2.0/24`, `2001:db8::/32`, or a bare address
// for one host): parsed once, with the reason when they are not one; matched by a set (the API's
// allow list) or one by one against an address's bytes (RRL's whitelist, on the query path).

import net from 'node:net';
import { addressRdata, addressToText } from './address.ts';

export interface Cidr {
  /** The network as written (host bits clear). */
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
  /** The network's address bytes (4 or 16). */
  readonly bytes: Buffer;
}

/**
 * `text` as a prefix, or the reason it is not one. A bare address is its host prefix (/32, /128).
 * Bits set beyond the prefix are refused: `192.0.2.1/24` usually hides a typo, and the reason
 * names the network it would be.
 */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const bytes = addressRdata(address);
  if (!bytes) return `"${text}" is not an address prefix like 192.0.2.0/24 or 2001:db8::/32`;
  const family = bytes.length === 4 ? 4 : 6;
  const max = bytes.length * 8;
  const p = slash < 0 ? String(max) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(p) ? Number(p) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `"${text}": the prefix length must be 0..${max}`;
  for (let bit = prefix; bit < max; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) {
      const network = Buffer.from(bytes);
      for (let b = prefix; b < max; b++) network[b >> 3]! &= ~(0x80 >> (b & 7));
      return `"${text}" has bits set beyond /${prefix} (the network is ${addressToText(network)}/${prefix})`;
    }
  }
  return { address, prefix, family, bytes };
}

/** Whether the address `bytes` (4 or 16) lies in `cidr`; allocates nothing. */
export function inCidr(cidr: Cidr, bytes: Uint8Array): boolean {
  if (bytes.length !== cidr.bytes.length) return false;
  let bit = 0;
  for (; bit + 8 <= cidr.prefix; bit += 8) if (bytes[bit >> 3] !== cidr.bytes[bit >> 3]) return false;
  if (bit === cidr.prefix) return true;
  const mask = (0xff00 >> (cidr.prefix - bit)) & 0xff;
  return (bytes[bit >> 3]! & mask) === cidr.bytes[bit >> 3];
}

/** Addresses inside any of some prefixes. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) is its IPv4 address. */
export class CidrSet {
  readonly #list = new net.BlockList();

  constructor(cidrs: readonly Cidr[]) {
    for (const c of cidrs) this.#list.addSubnet(c.address, c.prefix, c.family === 4 ? 'ipv4' : 'ipv6');
  }

  has(address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    const a = mapped ? mapped[1]! : address;
    const family = net.isIPv4(a) ? 'ipv4' : net.isIPv6(a) ? 'ipv6' : null;
    return family !== null && this.#list.check(a, family);
  }
}
