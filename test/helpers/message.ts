// Decodes a DNS response into plain text records, for tests that compare two servers' answers.
// Names (owners and names inside RDATA) are decompressed and lower-cased, so two encodings of the
// same answer read the same however each server compressed or cased them (RFC 4343 §2).

import { typeName } from '../../src/0-base/constants.ts';

export interface DecodedOpt {
  readonly payload: number;
  readonly extendedRcode: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  /** Options in order, data in hex, e.g. { code: 15, data: '0014' } for an RFC 8914 Extended DNS Error. */
  readonly options: { readonly code: number; readonly data: string }[];
}

export interface Decoded {
  readonly id: number;
  /** The header's second word. */
  readonly flags: number;
  /** Full rcode: header bits plus the OPT's extended bits (RFC 6891 §6.1.3). */
  readonly rcode: number;
  /** Question bytes as sent back (case kept), hex. */
  readonly question: string;
  readonly answer: string[];
  readonly authority: string[];
  /** Without the OPT, which is in `opt`. */
  readonly additional: string[];
  readonly opt: DecodedOpt | null;
}

class Reader {
  readonly msg: Buffer;
  off = 0;

  constructor(msg: Buffer) {
    this.msg = msg;
  }

  u8(): number {
    if (this.off + 1 > this.msg.length) throw new Error('message truncated');
    return this.msg[this.off++]!;
  }

  u16(): number {
    if (this.off + 2 > this.msg.length) throw new Error('message truncated');
    const v = this.msg.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }

  u32(): number {
    if (this.off + 4 > this.msg.length) throw new Error('message truncated');
    const v = this.msg.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  bytes(n: number): Buffer {
    if (this.off + n > this.msg.length) throw new Error('message truncated');
    const b = this.msg.subarray(this.off, this.off + n);
    this.off += n;
    return b;
  }

  /** A possibly compressed name, in lower-case presentation form with the final dot. */
  name(): string {
    const labels: string[] = [];
    let off = this.off;
    let jumped = false;
    for (let hops = 0; ; hops++) {
      if (hops > 128 || off >= this.msg.length) throw new Error('bad name');
      const len = this.msg[off]!;
      if ((len & 0xc0) === 0xc0) {
        if (!jumped) this.off = off + 2;
        jumped = true;
        off = ((len & 0x3f) << 8) | this.msg[off + 1]!;
        continue;
      }
      if (len === 0) {
        if (!jumped) this.off = off + 1;
        return labels.length ? `${labels.join('.')}.` : '.';
      }
      labels.push(labelText(this.msg.subarray(off + 1, off + 1 + len)));
      off += len + 1;
    }
  }
}

function labelText(label: Buffer): string {
  let s = '';
  for (const c of label) {
    const lc = c >= 0x41 && c <= 0x5a ? c + 32 : c;
    if (lc === 0x2e || lc === 0x5c) s += `\\${String.fromCharCode(lc)}`;
    else if (lc > 0x20 && lc < 0x7f) s += String.fromCharCode(lc);
    else s += `\\${String(lc).padStart(3, '0')}`;
  }
  return s;
}

/** RDATA as text: names read through compression (RFC 3597 §4 lists the types that may use it). */
function rdataText(type: number, r: Reader, end: number): string {
  const rest = () => r.bytes(end - r.off);
  switch (type) {
    case 1:
      return [...rest()].join('.');
    case 28:
      return rest()
        .toString('hex')
        .replace(/(.{4})(?!$)/g, '$1:');
    case 2:
    case 5:
    case 12:
    case 39:
      return r.name();
    case 15:
      return `${r.u16()} ${r.name()}`;
    case 33:
      return `${r.u16()} ${r.u16()} ${r.u16()} ${r.name()}`;
    case 6:
      return `${r.name()} ${r.name()} ${[r.u32(), r.u32(), r.u32(), r.u32(), r.u32()].join(' ')}`;
    case 16: {
      const parts: string[] = [];
      while (r.off < end) parts.push(JSON.stringify(r.bytes(r.u8()).toString('latin1')));
      return parts.join(' ');
    }
    default: {
      const b = rest();
      return `\\# ${b.length} ${b.toString('hex')}`.trimEnd();
    }
  }
}

function record(r: Reader): { text: string; type: number; ttl: number; klass: number; rdata: Buffer } {
  const owner = r.name();
  const type = r.u16();
  const klass = r.u16();
  const ttl = r.u32();
  const rdlen = r.u16();
  const start = r.off;
  const end = start + rdlen;
  if (end > r.msg.length) throw new Error('RDATA runs past the end');
  const rdata = r.msg.subarray(start, end);
  const data = rdataText(type, r, end);
  if (r.off !== end) throw new Error(`RDATA of ${owner} ${typeName(type)} not consumed exactly`);
  const cls = klass === 1 ? 'IN' : klass === 3 ? 'CH' : `CLASS${klass}`;
  return { text: `${owner} ${ttl} ${cls} ${typeName(type)} ${data}`, type, ttl, klass, rdata };
}

export function decodeMessage(msg: Buffer): Decoded {
  const r = new Reader(msg);
  const id = r.u16();
  const flags = r.u16();
  const [qd, an, ns, ar] = [r.u16(), r.u16(), r.u16(), r.u16()];
  const qStart = r.off;
  for (let i = 0; i < qd; i++) {
    r.name();
    r.bytes(4);
  }
  const question = msg.subarray(qStart, r.off).toString('hex');
  const section = (n: number) => Array.from({ length: n }, () => record(r));
  const answer = section(an).map((x) => x.text);
  const authority = section(ns).map((x) => x.text);
  let opt: DecodedOpt | null = null;
  const additional: string[] = [];
  for (const x of section(ar)) {
    if (x.type !== 41) {
      additional.push(x.text);
      continue;
    }
    if (opt) throw new Error('two OPT records');
    const options: DecodedOpt['options'] = [];
    for (let p = 0; p + 4 <= x.rdata.length; p += 4 + x.rdata.readUInt16BE(p + 2)) {
      options.push({
        code: x.rdata.readUInt16BE(p),
        data: x.rdata.subarray(p + 4, p + 4 + x.rdata.readUInt16BE(p + 2)).toString('hex'),
      });
    }
    opt = {
      payload: x.klass,
      extendedRcode: x.ttl >>> 24,
      version: (x.ttl >>> 16) & 0xff,
      dnssecOk: (x.ttl & 0x8000) !== 0,
      options,
    };
  }
  if (r.off !== msg.length) throw new Error(`${msg.length - r.off} octets after the last record`);
  return {
    id,
    flags,
    rcode: ((opt?.extendedRcode ?? 0) << 4) | (flags & 0xf),
    question,
    answer,
    authority,
    additional,
    opt,
  };
}
