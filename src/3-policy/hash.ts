// A fast non-cryptographic 32-bit hash for affinity: FNV-1a (Fowler, Noll, Vo;
// draft-eastlake-fnv) to absorb the input, then the MurmurHash3 32-bit finalizer ("fmix32") to
// spread it. FNV-1a alone mixes its last input bytes into few output bits, and rendezvous hashing
// compares hashes of strings that differ only at the end (one client subnet, many target keys).
// Nothing here needs to resist an attacker: a client can only choose which subnet it queries from.

export const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Continue an FNV-1a state over bytes. */
export function fnvBytes(state: number, bytes: Uint8Array): number {
  let h = state;
  for (const b of bytes) h = Math.imul(h ^ b, FNV_PRIME);
  return h >>> 0;
}

/** Continue an FNV-1a state over a string's UTF-16 code units (one byte each when below 256). */
export function fnvString(state: number, text: string): number {
  let h = state;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h = Math.imul(h ^ (c & 0xff), FNV_PRIME);
    if (c > 0xff) h = Math.imul(h ^ (c >>> 8), FNV_PRIME);
  }
  return h >>> 0;
}

/** MurmurHash3's fmix32: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash as a number in the open interval (0, 1): never 0, so ln(u) is finite. */
export function unitInterval(h: number): number {
  return ((h >>> 0) + 0.5) / 4294967296;
}
