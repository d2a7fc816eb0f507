// Textual IP addresses to wire bytes and back, for A/AAAA RDATA, pool targets and SVCB address
// hints: every layer reads and writes addresses through these.

import { isIPv6, SocketAddress } from 'node:net';
import { Type } from './constants.ts';

/**
 * The 4 bytes of a dotted quad, strictly: four decimal parts 0..255 with no leading zeros (inet_pton
 * rejects them too, and `010` would mean 8 to an old octal-minded inet_aton). Undefined otherwise.
 */
export function parseIPv4(text: string): Buffer | undefined {
  const out = Buffer.allocUnsafe(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || part > 3) return undefined;
      out[part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return undefined;
      value = value * 10 + c - 0x30;
      if (++digits > 3 || value > 255) return undefined;
    } else {
      return undefined;
    }
  }
  return part === 4 ? out : undefined;
}

/** The 16 bytes of any RFC 4291 §2.2 textual IPv6 address (`::`, embedded IPv4); no zone index. */
export function parseIPv6(text: string): Buffer | undefined {
  if (text.includes('%') || !isIPv6(text)) return undefined;
  const gap = text.indexOf('::');
  const head = words(gap < 0 ? text : text.slice(0, gap));
  const tail = gap < 0 ? [] : words(text.slice(gap + 2));
  if (!head || !tail) return undefined;
  if (gap < 0 ? head.length !== 8 : head.length + tail.length > 7) return undefined;
  const out = Buffer.alloc(16);
  head.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  tail.forEach((w, i) => out.writeUInt16BE(w, 16 - (tail.length - i) * 2));
  return out;
}

/** 16-bit words of colon-separated groups; a final dotted quad counts as two words. */
function words(part: string): number[] | undefined {
  if (part === '') return [];
  const out: number[] = [];
  for (const group of part.split(':')) {
    if (group.includes('.')) {
      const v4 = parseIPv4(group);
      if (!v4) return undefined;
      out.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
    } else {
      out.push(parseInt(group, 16));
    }
  }
  return out;
}

/** The text of a 4- or 16-byte address: dotted quad, or the RFC 5952 canonical IPv6 form. */
export function addressToText(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return new SocketAddress({ address: words.join(':'), family: 'ipv6' }).address;
}

/** One text form per address, so `2001:DB8::1` and `2001:db8:0::1` are the same target (RFC 5952). */
export function normalizeAddress(address: string): string {
  if (!isIPv6(address)) return address;
  return new SocketAddress({ address, family: 'ipv6' }).address;
}

/** The family of a valid textual address: only IPv6 writes colons. */
export function addressFamily(address: string): 4 | 6 {
  return address.includes(':') ? 6 : 4;
}

/** The A (4 bytes) or AAAA (16 bytes) RDATA of a textual address; undefined when it is neither. */
export function addressRdata(address: string): Buffer | undefined {
  return addressFamily(address) === 4 ? parseIPv4(address) : parseIPv6(address);
}

/** A and AAAA: the types whose RDATA is an address (glue, pool answers, pool members). */
export function isAddressType(type: number): boolean {
  return type === Type.A || type === Type.AAAA;
}

/** The family an address type holds: 6 for AAAA, else 4. */
export function familyOfType(type: number): 4 | 6 {
  return type === Type.AAAA ? 6 : 4;
}

/** The type that holds addresses of `family`. */
export function typeOfFamily(family: 4 | 6): number {
  return family === 4 ? Type.A : Type.AAAA;
}

/** A network: its address bytes (4 or 16, host bits clear) and prefix length. */
export interface Cidr {
  readonly bytes: Buffer;
  readonly prefix: number;
}

/**
 * `192.0.2.0/24`, `2001:db8::/32`, or a bare address (/32, /128). The reason as text when it is not
 * one; bits set beyond the prefix are refused, since `192.0.2.1/24` usually hides a typo.
 */
export function parseCidr(text: string): Cidr | string {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = addressRdata(addr);
  if (!bytes) return `"${addr}" is not an IPv4 or IPv6 address`;
  const max = bytes.length * 8;
  const lenText = slash < 0 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return `"/${lenText}" is not a prefix length 0..${max}`;
  const prefix = Number(lenText);
  for (let bit = prefix; bit < max; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) {
      const net = Buffer.from(bytes);
      for (let b = prefix; b < max; b++) net[b >> 3]! &= ~(0x80 >> (b & 7));
      return `"${text}" has bits set beyond /${prefix} (the network is ${addressToText(net)}/${prefix})`;
    }
  }
  return { bytes, prefix };
}

/** Whether the address `bytes` (4 or 16) lies in `net`. */
export function inCidr(net: Cidr, bytes: Uint8Array): boolean {
  if (bytes.length !== net.bytes.length) return false;
  let bit = 0;
  for (; bit + 8 <= net.prefix; bit += 8) if (bytes[bit >> 3] !== net.bytes[bit >> 3]) return false;
  if (bit === net.prefix) return true;
  const mask = (0xff00 >> (net.prefix - bit)) & 0xff;
  return (bytes[bit >> 3]! & mask) === net.bytes[bit >> 3];
}
