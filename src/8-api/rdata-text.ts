// RDATA in presentation form, both ways, for the API's `records: ["10 mail.example.com.", ...]`.
//
// Text → wire goes through the zone file's own lexer and encoders, so the API accepts exactly what
// a zone file accepts (relative names complete with the zone origin, `\#` generic form, quoting).
// Wire → text writes each known type's fields, and RFC 3597 `\# len hex` for the rest: every text
// we print reads back to the same bytes.

import { Type } from '../0-base/constants.ts';
import { nameToText } from '../0-base/name.ts';
import { Lexer } from '../2-zone/lexer.ts';
import { encodeRdata } from '../2-zone/rdata.ts';
import { RdataError } from '../2-zone/rdata-io.ts';
import { nameEnd } from '../0-base/name.ts';
import { addressToText } from '../0-base/address.ts';

/**
 * Wire RDATA of one record's text. JSON text is Unicode; a zone file is bytes: characters are
 * taken as UTF-8 (so a TXT "café" is the bytes a UTF-8 zone file would give). Throws RdataError.
 */
export function parseRdata(type: number, text: string, origin: Uint8Array): Buffer {
  const lexer = new Lexer(Buffer.from(text, 'utf8').toString('latin1'));
  const entry = lexer.next();
  if (!entry) throw new RdataError('empty record');
  if (entry.error) throw new RdataError(entry.error.reason);
  if (lexer.next()) throw new RdataError('one record per string (a line break starts another)');
  return encodeRdata(type, entry.tokens, 0, origin);
}

/** Presentation form of RDATA of `type`. */
export function rdataToText(type: number, d: Buffer): string {
  try {
    const text = known(type, d);
    if (text !== undefined) return text;
  } catch {
    // Malformed for its type (cannot come from our encoders): shown generically below.
  }
  return d.length ? `\\# ${d.length} ${d.toString('hex')}` : '\\# 0';
}

/** A cursor over wire fields; reading past the end throws. */
class Fields {
  readonly #d: Buffer;
  at = 0;
  constructor(d: Buffer) {
    this.#d = d;
  }
  get done(): boolean {
    return this.at >= this.#d.length;
  }
  u8(): number {
    return this.#d.readUInt8(this.at++);
  }
  u16(): number {
    const v = this.#d.readUInt16BE(this.at);
    this.at += 2;
    return v;
  }
  u32(): number {
    const v = this.#d.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  name(): string {
    const end = nameEnd(this.#d, this.at);
    if (end < 0) throw new RangeError('bad name');
    const text = nameToText(this.#d.subarray(this.at, end));
    this.at = end;
    return text;
  }
  /** A <character-string>, quoted with RFC 1035 §5.1 escapes. */
  charString(): string {
    const len = this.u8();
    if (this.at + len > this.#d.length) throw new RangeError('short string');
    const s = quote(this.#d.subarray(this.at, this.at + len));
    this.at += len;
    return s;
  }
  /** The rest of the RDATA, which must not be empty (digests, keys). */
  rest(): Buffer {
    const b = this.#d.subarray(this.at);
    if (b.length === 0) throw new RangeError('data missing');
    this.at = this.#d.length;
    return b;
  }
  end(text: string): string {
    if (!this.done) throw new RangeError('trailing data');
    return text;
  }
}

function quote(bytes: Uint8Array): string {
  let s = '"';
  for (const c of bytes) {
    if (c === 0x22 || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c < 0x20 || c >= 0x7f) s += '\\' + String(c).padStart(3, '0');
    else s += String.fromCharCode(c);
  }
  return s + '"';
}

function known(type: number, d: Buffer): string | undefined {
  const f = new Fields(d);
  switch (type) {
    case Type.A:
      return d.length === 4 ? addressToText(d) : undefined;
    case Type.AAAA:
      return d.length === 16 ? addressToText(d) : undefined;
    case Type.NS:
    case Type.CNAME:
    case Type.DNAME:
    case Type.PTR:
      return f.end(f.name());
    case Type.SOA:
      return f.end(`${f.name()} ${f.name()} ${f.u32()} ${f.u32()} ${f.u32()} ${f.u32()} ${f.u32()}`);
    case Type.MX:
      return f.end(`${f.u16()} ${f.name()}`);
    case Type.SRV:
      return f.end(`${f.u16()} ${f.u16()} ${f.u16()} ${f.name()}`);
    case Type.HINFO:
      return f.end(`${f.charString()} ${f.charString()}`);
    case Type.NAPTR:
      return f.end(`${f.u16()} ${f.u16()} ${f.charString()} ${f.charString()} ${f.charString()} ${f.name()}`);
    case Type.TXT: {
      const parts: string[] = [];
      do parts.push(f.charString());
      while (!f.done);
      return parts.join(' ');
    }
    case Type.CAA:
      return `${f.u8()} ${f.charString().slice(1, -1)} ${quote(d.subarray(f.at))}`;
    case Type.DS:
      return `${f.u16()} ${f.u8()} ${f.u8()} ${f.rest().toString('hex').toUpperCase()}`;
    case Type.SSHFP:
      return `${f.u8()} ${f.u8()} ${f.rest().toString('hex').toUpperCase()}`;
    case Type.TLSA:
      return `${f.u8()} ${f.u8()} ${f.u8()} ${f.rest().toString('hex').toUpperCase()}`;
    case Type.DNSKEY:
      return `${f.u16()} ${f.u8()} ${f.u8()} ${f.rest().toString('base64')}`;
    default:
      return undefined;
  }
}
