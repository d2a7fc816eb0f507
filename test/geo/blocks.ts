// Address arithmetic for geo tests: the ends of a prefix block, and seeded addresses inside it.

import { parseIPv4, parseIPv6 } from '../../src/0-base/address.ts';

/** Seeded uniform [0, 1), so a failure names an address that fails again on the next run. */
export function sampler(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** First and last address of the /prefix block that holds `address`, in text form. */
export function blockEnds(address: string, prefix: number): [string, string] {
  return [inBlock(address, prefix, () => 0), inBlock(address, prefix, () => 1)];
}

/** An address of the /prefix block that holds `address`, its host bits drawn from `bit` (0 or 1). */
export function inBlock(address: string, prefix: number, bit: () => number): string {
  const bytes = Buffer.from(parseIPv4(address) ?? parseIPv6(address)!);
  for (let i = prefix; i < bytes.length * 8; i++) {
    const mask = 0x80 >> (i & 7);
    if (bit() >= 0.5) bytes[i >> 3]! |= mask;
    else bytes[i >> 3]! &= ~mask;
  }
  return format(bytes);
}

function format(b: Buffer): string {
  if (b.length === 4) return b.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':');
}
