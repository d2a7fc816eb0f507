// Address prefixes as configuration writes them (`192.0.2.0/24`, `2001:db8::/32`, or a bare address
// for one host), and a set of them that answers whether an address falls in any.

import net from 'node:net';
import { parseIPv4, parseIPv6 } from './address.ts';

export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 4 | 6;
}

/** `text` as a prefix, or the reason it is not one. A bare address is its host prefix (/32, /128). */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = parseIPv4(address) ? 4 : parseIPv6(address) ? 6 : 0;
  if (family === 0) return `"${text}" is not an address prefix like 192.0.2.0/24 or 2001:db8::/32`;
  const max = family === 4 ? 32 : 128;
  if (slash < 0) return { address, prefix: max, family };
  const p = text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(p) ? Number(p) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return `"${text}": the prefix length must be 0..${max}`;
  return { address, prefix, family };
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
