// The records of a message read back out of it: an owner name, type, class, TTL and RDATA with the
// names in it decompressed, so what reads them (an UPDATE, a zone transfer pulled from a primary)
// sees zone-file wire forms only. Everything malformed throws RecordFormatError.

import { readName } from './tsig.ts';
import { COMPRESSIBLE_LAYOUT } from './rdata-layout.ts';

export class RecordFormatError extends Error {}

export interface WireRecord {
  /** Owner, wire form, case as sent. */
  readonly owner: Buffer;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  /** RDATA with its names decompressed (case kept). */
  readonly rdata: Buffer;
  /** RDLENGTH as sent (RFC 2136 §3.2.5 tests it, not the decompressed length). */
  readonly rdlength: number;
}

/** RDATA copied out of the message, its names expanded where RFC 3597 §4 lets them be compressed. */
function rdataOf(msg: Buffer, type: number, start: number, end: number): Buffer {
  const layout = COMPRESSIBLE_LAYOUT.get(type);
  if (!layout || start === end) return Buffer.from(msg.subarray(start, end));
  const parts: Buffer[] = [];
  let p = start;
  for (const field of layout) {
    if (field === 'N') {
      const n = readName(msg, p);
      if (n.end > end) throw new RecordFormatError('a name in RDATA runs past its RDLENGTH');
      parts.push(n.wire);
      p = n.end;
    } else {
      const len = Number(field);
      if (p + len > end) throw new RecordFormatError('RDATA shorter than its type needs');
      parts.push(msg.subarray(p, p + len));
      p += len;
    }
  }
  parts.push(msg.subarray(p, end));
  return Buffer.concat(parts);
}

/** The record at `off` of `msg` and the offset after it. */
export function readRecord(msg: Buffer, off: number): { readonly record: WireRecord; readonly end: number } {
  try {
    const n = readName(msg, off);
    const at = n.end;
    if (at + 10 > msg.length) throw new RecordFormatError('record runs past the end');
    const type = msg.readUInt16BE(at);
    const rdlength = msg.readUInt16BE(at + 8);
    const end = at + 10 + rdlength;
    if (end > msg.length) throw new RecordFormatError('RDATA runs past the end');
    const record = {
      owner: n.wire,
      type,
      klass: msg.readUInt16BE(at + 2),
      ttl: msg.readUInt32BE(at + 4),
      rdata: rdataOf(msg, type, at + 10, end),
      rdlength,
    };
    return { record, end };
  } catch (e) {
    if (e instanceof RecordFormatError || !(e instanceof Error)) throw e;
    // readName's errors, and reads past the end.
    throw new RecordFormatError(e.message);
  }
}

/** The offset after the question section (`count` questions from offset 12). */
export function skipQuestions(msg: Buffer, count: number): number {
  let off = 12;
  try {
    for (let i = 0; i < count; i++) off = readName(msg, off).end + 4;
  } catch (e) {
    throw new RecordFormatError((e as Error).message);
  }
  if (off > msg.length) throw new RecordFormatError('question runs past the end');
  return off;
}
