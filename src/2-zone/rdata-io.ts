// The two ends every RDATA encoder works between: a cursor over the record's text tokens that
// turns bad input into an RdataError naming the field and its line, and a writer into one shared
// scratch buffer, copied out once per record (the loader encodes millions of records; a Buffer
// per field would be the main cost).

import { MAX_NAME, NameError, parseName } from '../0-base/name.ts';
import type { Token } from './lexer.ts';
import { parseDecimal } from './ttl.ts';

/** A field that cannot be encoded; `line` is where its token is (0: the record's line). */
export class RdataError extends Error {
  readonly line: number;
  constructor(message: string, line = 0) {
    super(message);
    this.line = line;
  }
}

const MAX_RDATA = 0xffff;

export class RdataReader {
  readonly #tokens: readonly Token[];
  #i: number;
  readonly origin: Uint8Array;
  readonly typeName: string;

  constructor(tokens: readonly Token[], start: number, origin: Uint8Array, typeName: string) {
    this.#tokens = tokens;
    this.#i = start;
    this.origin = origin;
    this.typeName = typeName;
  }

  get done(): boolean {
    return this.#i >= this.#tokens.length;
  }

  /** Line of the token read last, for errors found after reading it. */
  get lastLine(): number {
    const t = this.#tokens[this.#i - 1] ?? this.#tokens[0];
    return t ? t.line : 0;
  }

  /** Line of the next token (or of the last one, at the end), for error messages. */
  get line(): number {
    const t = this.#tokens[Math.min(this.#i, this.#tokens.length - 1)];
    return t ? t.line : 0;
  }

  fail(reason: string, line = this.line): never {
    throw new RdataError(`${this.typeName}: ${reason}`, line);
  }

  /** The next token; `what` names the field in the error if it is missing. */
  token(what: string): Token {
    const t = this.#tokens[this.#i];
    if (!t) this.fail(`missing ${what}`);
    this.#i++;
    return t;
  }

  /** The next token's text, which must not be quoted (numbers, names, hex). */
  word(what: string): string {
    const t = this.token(what);
    if (t.quoted) this.fail(`${what} must not be quoted`, t.line);
    return t.text;
  }

  int(what: string, max: number): number {
    const t = this.token(what);
    const v = t.quoted ? undefined : parseDecimal(t.text);
    if (v === undefined || v > max) this.fail(`${what} must be an integer 0..${max}, not "${t.text}"`, t.line);
    return v;
  }

  name(what: string): Buffer {
    const t = this.token(what);
    if (t.quoted) this.fail(`${what} must not be quoted`, t.line);
    try {
      return toWireName(t.text, this.origin);
    } catch (e) {
      if (e instanceof NameError) this.fail(`${what}: ${e.message}`, t.line);
      throw e;
    }
  }

  /** All remaining tokens joined: hex and base64 fields may be split by blanks (RFC 4034 §5.3). */
  rest(what: string, allowEmpty = false): string {
    if (this.done) {
      if (allowEmpty) return '';
      this.fail(`missing ${what}`);
    }
    let s = '';
    while (!this.done) s += this.word(what);
    return s;
  }

  end(): void {
    const t = this.#tokens[this.#i];
    if (t) this.fail(`unexpected "${t.text}" after the last field`, t.line);
  }
}

const scratch = Buffer.allocUnsafe(MAX_RDATA);

export class RdataWriter {
  #n = 0;

  reset(): void {
    this.#n = 0;
  }

  #room(k: number): number {
    const at = this.#n;
    if (at + k > MAX_RDATA) throw new RdataError(`RDATA longer than ${MAX_RDATA} octets`);
    this.#n = at + k;
    return at;
  }

  u8(v: number): void {
    scratch[this.#room(1)] = v;
  }
  u16(v: number): void {
    scratch.writeUInt16BE(v, this.#room(2));
  }
  u32(v: number): void {
    scratch.writeUInt32BE(v, this.#room(4));
  }
  bytes(b: Uint8Array): void {
    scratch.set(b, this.#room(b.length));
  }

  /** Bytes of a token decoded as a <character-string> body (RFC 1035 §5.1 escapes), no prefix. */
  text(raw: string): void {
    if (raw.indexOf('\\') < 0) {
      scratch.write(raw, this.#room(raw.length), 'latin1');
    } else {
      this.bytes(decodeEscapes(raw));
    }
  }

  /** A length-prefixed <character-string>; RFC 1035 §3.3: at most 255 octets, as BIND enforces. */
  charString(raw: string): void {
    const at = this.#room(1);
    this.text(raw);
    const len = this.#n - at - 1;
    if (len > 255) throw new RdataError(`character-string of ${len} octets is longer than 255`);
    scratch[at] = len;
  }

  /** A copy of what was written; the scratch buffer is reused by the next record. */
  take(): Buffer {
    return Buffer.from(scratch.subarray(0, this.#n));
  }
}

/** Bytes of text with RFC 1035 §5.1 escapes decoded: `\DDD` is an octet, `\X` is X. */
export function decodeEscapes(raw: string): Buffer {
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    let c = raw.charCodeAt(i);
    if (c === 0x5c) {
      if (i + 1 >= raw.length) throw new RdataError(`dangling "\\" in "${raw}"`);
      const d = digits3(raw, i + 1);
      if (d >= 0) {
        if (d > 255) throw new RdataError(`escape \\${raw.slice(i + 1, i + 4)} is out of range`);
        c = d;
        i += 3;
      } else if (isDigit(raw.charCodeAt(i + 1))) {
        // RFC 1035 §5.1: \DDD is exactly three digits. BIND refuses `\04`; reading it as "04"
        // would put other bytes on the wire than the operator meant.
        throw new RdataError(
          `incomplete escape "${/^\\\d+/.exec(raw.slice(i))![0]}" in "${raw}": \\DDD takes three digits`,
        );
      } else {
        c = raw.charCodeAt(++i);
      }
    }
    out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

function digits3(s: string, i: number): number {
  if (i + 3 > s.length) return -1;
  let v = 0;
  for (let k = i; k < i + 3; k++) {
    const c = s.charCodeAt(k);
    if (!isDigit(c)) return -1;
    v = v * 10 + c - 0x30;
  }
  return v;
}

/**
 * parseName(text, origin) with a fast path for the common plain name (no escapes, no `@`, labels
 * of 1..63 chars): a zone of a million records parses two million names. Anything else, and
 * every error, goes through parseName itself, so both give the same bytes and the same messages.
 */
export function toWireName(text: string, origin: Uint8Array): Buffer {
  const n = text.length;
  const absolute = text.charCodeAt(n - 1) === 0x2e;
  const size = absolute ? n + 1 : n + 1 + origin.length;
  if (n < 2 || size > MAX_NAME || text.indexOf('\\') >= 0 || text.charCodeAt(0) === 0x40)
    return parseName(text, origin);
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (let start = 0; start < n;) {
    let dot = text.indexOf('.', start);
    if (dot < 0) dot = n;
    const len = dot - start;
    if (len === 0 || len > 63) return parseName(text, origin);
    out[at] = len;
    for (let i = start; i < dot; i++) {
      const c = text.charCodeAt(i);
      if (c > 0xff) return parseName(text, origin);
      out[at + 1 + i - start] = c;
    }
    at += len + 1;
    start = dot + 1;
  }
  if (absolute) out[at] = 0;
  else out.set(origin, at);
  return out;
}
