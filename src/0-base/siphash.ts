// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012), the MAC of
// interoperable DNS server cookies (RFC 9018 §4.4). Each 64-bit word is two 32-bit halves, so the
// query path runs on small integers: no BigInt, and nothing allocated per hash.

/** A 128-bit key, split once into the four little-endian 32-bit words SipHash reads it as. */
export class SipKey {
  readonly k0h: number;
  readonly k0l: number;
  readonly k1h: number;
  readonly k1l: number;

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError(`a SipHash key is 16 octets, not ${key.length}`);
    this.k0l = le32(key, 0);
    this.k0h = le32(key, 4);
    this.k1l = le32(key, 8);
    this.k1h = le32(key, 12);
  }
}

function le32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

// The state v0..v3, high and low halves. Module-level: one hash runs at a time (JavaScript is
// single-threaded and sipHash24 does not yield), and locals captured by a helper would allocate.
let v0h = 0,
  v0l = 0,
  v1h = 0,
  v1l = 0,
  v2h = 0,
  v2l = 0,
  v3h = 0,
  v3l = 0;

/** One SipRound (the paper's §2, "SipRound"), on 32-bit halves. */
function sipRound(): void {
  let s: number, h: number, l: number;
  // v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32
  s = v0l + v1l;
  v0h = (v0h + v1h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = s >>> 0;
  h = ((v1h << 13) | (v1l >>> 19)) >>> 0;
  l = ((v1l << 13) | (v1h >>> 19)) >>> 0;
  v1h = (h ^ v0h) >>> 0;
  v1l = (l ^ v0l) >>> 0;
  s = v0h;
  v0h = v0l;
  v0l = s;
  // v2 += v3; v3 <<<= 16; v3 ^= v2
  s = v2l + v3l;
  v2h = (v2h + v3h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = s >>> 0;
  h = ((v3h << 16) | (v3l >>> 16)) >>> 0;
  l = ((v3l << 16) | (v3h >>> 16)) >>> 0;
  v3h = (h ^ v2h) >>> 0;
  v3l = (l ^ v2l) >>> 0;
  // v0 += v3; v3 <<<= 21; v3 ^= v0
  s = v0l + v3l;
  v0h = (v0h + v3h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v0l = s >>> 0;
  h = ((v3h << 21) | (v3l >>> 11)) >>> 0;
  l = ((v3l << 21) | (v3h >>> 11)) >>> 0;
  v3h = (h ^ v0h) >>> 0;
  v3l = (l ^ v0l) >>> 0;
  // v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
  s = v2l + v1l;
  v2h = (v2h + v1h + (s > 0xffffffff ? 1 : 0)) >>> 0;
  v2l = s >>> 0;
  h = ((v1h << 17) | (v1l >>> 15)) >>> 0;
  l = ((v1l << 17) | (v1h >>> 15)) >>> 0;
  v1h = (h ^ v2h) >>> 0;
  v1l = (l ^ v2l) >>> 0;
  s = v2h;
  v2h = v2l;
  v2l = s;
}

/** Absorbs one 64-bit message word m (high, low): v3 ^= m; two rounds; v0 ^= m. */
function compress(mh: number, ml: number): void {
  v3h = (v3h ^ mh) >>> 0;
  v3l = (v3l ^ ml) >>> 0;
  sipRound();
  sipRound();
  v0h = (v0h ^ mh) >>> 0;
  v0l = (v0l ^ ml) >>> 0;
}

/**
 * SipHash-2-4 of msg[start, end) under `key`; the 64-bit result is written at out[at, at+8) in
 * the reference implementation's byte order (little-endian), the order RFC 9018 puts it on the wire.
 */
export function sipHash24(key: SipKey, msg: Uint8Array, start: number, end: number, out: Uint8Array, at: number): void {
  // The initialisation constants: "somepseudorandomlygeneratedbytes".
  v0h = (key.k0h ^ 0x736f6d65) >>> 0;
  v0l = (key.k0l ^ 0x70736575) >>> 0;
  v1h = (key.k1h ^ 0x646f7261) >>> 0;
  v1l = (key.k1l ^ 0x6e646f6d) >>> 0;
  v2h = (key.k0h ^ 0x6c796765) >>> 0;
  v2l = (key.k0l ^ 0x6e657261) >>> 0;
  v3h = (key.k1h ^ 0x74656462) >>> 0;
  v3l = (key.k1l ^ 0x79746573) >>> 0;
  const len = end - start;
  let p = start;
  for (const whole = start + (len & ~7); p < whole; p += 8) compress(le32(msg, p + 4), le32(msg, p));
  // The last word: the remaining 0..7 octets, and the length modulo 256 in the top octet.
  let lastH = (len & 0xff) << 24;
  let lastL = 0;
  for (let i = 0; p + i < end; i++) {
    if (i < 4) lastL |= msg[p + i]! << (8 * i);
    else lastH |= msg[p + i]! << (8 * (i - 4));
  }
  compress(lastH >>> 0, lastL >>> 0);
  v2l = (v2l ^ 0xff) >>> 0;
  sipRound();
  sipRound();
  sipRound();
  sipRound();
  const h = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
  const l = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
  out[at] = l;
  out[at + 1] = l >>> 8;
  out[at + 2] = l >>> 16;
  out[at + 3] = l >>> 24;
  out[at + 4] = h;
  out[at + 5] = h >>> 8;
  out[at + 6] = h >>> 16;
  out[at + 7] = h >>> 24;
}
