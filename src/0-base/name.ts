// Domain names.
//
// Inside gslbd a name is a NameKey: its uncompressed wire form (length-prefixed labels ending in
// the zero root label), ASCII letters folded to lower case, held as a latin1 string. It is cheap
// to make straight from a packet, compares and hashes as a plain string, and has no escaping
// ambiguity. The parent of a key is a substring; the wildcard child is '\x01*' + key.
// Wire forms that keep the zone file's case (RDATA names) are Buffers.

export type NameKey = string;

export const ROOT: NameKey = '\0';
export const MAX_NAME = 255;
export const MAX_LABEL = 63;

export class NameError extends Error {}

/** Where keyOf folds names with capitals (a name is at most 255 octets; longer input gets its own). */
const folded = Buffer.allocUnsafe(MAX_NAME + 1);

/**
 * Lower-cased key of a wire name occupying buf[start, end). One flat latin1 decode, not a string
 * built octet by octet (a rope of as many pieces, on every query). ASCII letters only are folded,
 * as DNS compares names; String.toLowerCase would also fold latin1 letters such as 0xC0.
 */
export function keyOf(buf: Uint8Array, start = 0, end = buf.length): NameKey {
  let i = start;
  while (i < end && !(buf[i]! >= 0x41 && buf[i]! <= 0x5a)) i++;
  const src = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (i === end) return src.toString('latin1', start, end);
  const out = end - start <= folded.length ? folded : Buffer.allocUnsafe(end - start);
  for (let j = start; j < end; j++) {
    const c = src[j]!;
    out[j - start] = c >= 0x41 && c <= 0x5a ? c + 32 : c;
  }
  return out.toString('latin1', 0, end - start);
}

const fold = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

/**
 * keyOf with a memory of recent names, for the query path: the same few names are asked again and
 * again (a pool name, www), and a name met before comes back as the same string, already hashed
 * by every Map it was looked up in, instead of a new string made (a native call) and hashed anew
 * per query. A direct-mapped table of `size` slots (a power of two), indexed by a few of the
 * name's octets and its length (a full hash costs more than it saves); a slot keeps the last name
 * that fell in it with its folded octets, and a name is returned from it only when every octet
 * matches, so the key is the one keyOf makes. A stream of random names only replaces slots.
 */
export class RecentKeys {
  readonly #keys: (NameKey | undefined)[];
  readonly #wires: (Uint8Array | undefined)[];
  readonly #mask: number;

  constructor(size = 1024) {
    if (size < 1 || (size & (size - 1)) !== 0) throw new RangeError(`RecentKeys size ${size} is not a power of two`);
    this.#keys = new Array<NameKey | undefined>(size).fill(undefined);
    this.#wires = new Array<Uint8Array | undefined>(size).fill(undefined);
    this.#mask = size - 1;
  }

  /** keyOf(buf, start, end), for a name of at least one octet. */
  keyOf(buf: Uint8Array, start: number, end: number): NameKey {
    const n = end - start;
    const slot =
      (Math.imul(n, 0x9e3779b1) ^
        (fold(buf[start + 1] ?? 0) << 8) ^
        (fold(buf[start + 2] ?? 0) << 16) ^
        (fold(buf[start + (n >> 1)]!) << 4) ^
        fold(buf[end - 2] ?? 0)) &
      this.#mask;
    const wire = this.#wires[slot];
    if (wire !== undefined && wire.length === n) {
      let i = 0;
      while (i < n && wire[i] === fold(buf[start + i]!)) i++;
      if (i === n) return this.#keys[slot]!;
    }
    const key = keyOf(buf, start, end);
    this.#wires[slot] = Buffer.from(key, 'latin1');
    return (this.#keys[slot] = key);
  }
}

/** Wire bytes of a key (lower case). */
export function keyToWire(key: NameKey): Buffer {
  return Buffer.from(key, 'latin1');
}

/** The key one label up, or null for the root. */
export function parentKey(key: NameKey): NameKey | null {
  const len = key.charCodeAt(0);
  return len === 0 ? null : key.slice(len + 1);
}

export function labelCount(key: NameKey): number {
  let n = 0;
  for (let i = 0; key.charCodeAt(i) !== 0; i += key.charCodeAt(i) + 1) n++;
  return n;
}

/** True if `key` equals `ancestor` or lies below it (a label-boundary suffix match). */
export function isSubdomain(key: NameKey, ancestor: NameKey): boolean {
  if (key.length < ancestor.length || !key.endsWith(ancestor)) return false;
  for (let i = 0; ; i += key.charCodeAt(i) + 1) {
    if (key.length - i === ancestor.length) return true;
    if (key.length - i < ancestor.length) return false;
  }
}

export const wildcardOf = (key: NameKey): NameKey => '\x01*' + key;
export const isWildcard = (key: NameKey): boolean => key.startsWith('\x01*');

/**
 * Wire form of a presentation-format name (RFC 1035 §5.1: `\X` and `\DDD` escapes), case kept.
 * Names without a final dot are relative to `origin` (a wire name); `@` is the origin itself.
 */
export function parseName(text: string, origin: Uint8Array | null): Buffer {
  if (text === '@') {
    if (!origin) throw new NameError('"@" used with no origin set');
    return Buffer.from(origin);
  }
  if (text === '.') return Buffer.from([0]);
  const out: number[] = [];
  let label: number[] = [];
  let absolute = false;
  const endLabel = () => {
    if (label.length === 0) throw new NameError(`empty label in "${text}"`);
    if (label.length > MAX_LABEL) throw new NameError(`label longer than ${MAX_LABEL} octets in "${text}"`);
    out.push(label.length, ...label);
    label = [];
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c /* \ */) {
      const d = /^\d{3}/.exec(text.slice(i + 1, i + 4));
      if (d) {
        const v = Number(d[0]);
        if (v > 255) throw new NameError(`escape \\${d[0]} out of range in "${text}"`);
        label.push(v);
        i += 3;
      } else {
        if (i + 1 >= text.length) throw new NameError(`dangling "\\" in "${text}"`);
        // RFC 1035 §5.1: \DDD is exactly three digits; BIND refuses `\0com` rather than guess.
        if (/\d/.test(text[i + 1]!))
          throw new NameError(
            `incomplete escape "${/^\\\d+/.exec(text.slice(i))![0]}" in "${text}": \\DDD takes three digits`,
          );
        label.push(text.charCodeAt(++i) & 0xff);
      }
    } else if (ch === 0x2e /* . */) {
      endLabel();
      if (i === text.length - 1) absolute = true;
    } else {
      if (ch > 0xff) throw new NameError(`non-ASCII character in "${text}"`);
      label.push(ch);
    }
  }
  if (!absolute) {
    if (label.length) endLabel();
    if (!origin) throw new NameError(`relative name "${text}" with no origin set`);
    for (const b of origin) out.push(b);
  } else {
    out.push(0);
  }
  if (out.length > MAX_NAME) throw new NameError(`name longer than ${MAX_NAME} octets: "${text}"`);
  return Buffer.from(out);
}

/** Presentation form of a wire name or key, with a final dot and RFC 1035 escapes. */
export function nameToText(name: NameKey | Uint8Array): string {
  const at = typeof name === 'string' ? (i: number) => name.charCodeAt(i) : (i: number) => name[i]!;
  let s = '';
  for (let i = 0; ;) {
    const len = at(i);
    if (len === 0 || len === undefined) break;
    for (let j = i + 1; j <= i + len; j++) {
      const c = at(j);
      if (
        c === 0x2e ||
        c === 0x5c ||
        c === 0x22 ||
        c === 0x28 ||
        c === 0x29 ||
        c === 0x3b ||
        c === 0x40 ||
        c === 0x24
      ) {
        s += '\\' + String.fromCharCode(c);
      } else if (c <= 0x20 || c >= 0x7f) {
        s += '\\' + String(c).padStart(3, '0');
      } else {
        s += String.fromCharCode(c);
      }
    }
    s += '.';
    i += len + 1;
  }
  return s === '' ? '.' : s;
}

/** Key of a presentation-format name (absolute, or relative to `origin`). */
export function keyFromText(text: string, origin: Uint8Array | null = null): NameKey {
  const wire = parseName(text, origin);
  return keyOf(wire);
}

/** End offset of the uncompressed wire name starting at `at`, or -1 if there is none. */
export function nameEnd(d: Uint8Array, at: number): number {
  let p = at;
  for (;;) {
    if (p >= d.length || p - at >= MAX_NAME) return -1;
    const len = d[p]!;
    if (len === 0) return p + 1 - at > MAX_NAME ? -1 : p + 1;
    if (len > 63) return -1; // a compression pointer or an unknown label type
    p += len + 1;
  }
}
