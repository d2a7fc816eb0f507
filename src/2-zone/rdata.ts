// RDATA text → wire, per type (RFC 1035 §3.3 and §5, and each type's own RFC), plus the RFC 3597
// generic form `\# <length> <hex>` for any type. Data given in generic form for a type we know is
// checked against that type's wire layout, so a zone cannot smuggle in an MX whose exchange is cut
// short. Names inside RDATA are written uncompressed with their case as written (RFC 3597 §4).

import { keyOf, type NameKey } from '../0-base/name.ts';
import { Type, typeName } from '../0-base/constants.ts';
import { parseIPv4, parseIPv6 } from '../0-base/address.ts';
import type { Token } from './lexer.ts';
import { RdataError, RdataReader, RdataWriter } from './rdata-io.ts';
import { decodeBase64, decodeHex } from '../0-base/encoding.ts';
import { nameEnd } from '../0-base/name.ts';
import { checkSvcbParams, encodeSvcb } from './svcb.ts';
import { parseTtl } from './ttl.ts';

interface TypeCodec {
  /** Reads the type's text fields and writes its wire form. */
  readonly encode: (r: RdataReader, w: RdataWriter) => void;
  /**
   * Wire layout, one letter per field: N name, B u8, H u16, I u32, C character-string,
   * T one or more character-strings to the end, R rest (may be empty), X rest (non-empty),
   * 4 / 6 an IPv4 / IPv6 address.
   */
  readonly shape: string;
  /** Further checks on the finished wire data, whichever form it was written in. */
  readonly check?: (rdata: Buffer) => string | undefined;
}

const name = (what: string) => (r: RdataReader, w: RdataWriter) => w.bytes(r.name(what));

function timer(r: RdataReader, w: RdataWriter, what: string): void {
  const t = r.word(what);
  const v = parseTtl(t);
  if (v === undefined) r.fail(`${what} "${t}" is not a TTL value`, r.lastLine);
  w.u32(v);
}

/** RFC 8624 §3.1 algorithm mnemonics, accepted where BIND accepts them (DNSKEY, DS). */
const ALGORITHMS: Record<string, number> = {
  RSAMD5: 1,
  DH: 2,
  DSA: 3,
  RSASHA1: 5,
  'DSA-NSEC3-SHA1': 6,
  'RSASHA1-NSEC3-SHA1': 7,
  RSASHA256: 8,
  RSASHA512: 10,
  'ECC-GOST': 12,
  ECDSAP256SHA256: 13,
  ECDSAP384SHA384: 14,
  ED25519: 15,
  ED448: 16,
  INDIRECT: 252,
  PRIVATEDNS: 253,
  PRIVATEOID: 254,
};

function algorithm(r: RdataReader, w: RdataWriter): void {
  const t = r.word('algorithm');
  const v = ALGORITHMS[t.toUpperCase()] ?? (/^\d{1,3}$/.test(t) ? Number(t) : 256);
  if (v > 255) r.fail(`unknown algorithm "${t}"`, r.lastLine);
  w.u8(v);
}

function hex(r: RdataReader, w: RdataWriter, what: string): void {
  const line = r.line;
  const bytes = decodeHex(r.rest(what));
  if (!bytes) r.fail(`${what} is not hexadecimal octets`, line);
  w.bytes(bytes);
}

/** A digest whose length its type fixes: `lengths[type]`, when the type is one we know. */
function digestLength(kind: string, at: number, lengths: Record<number, number>) {
  return (d: Buffer): string | undefined => {
    const want = lengths[d[at - 1]!];
    const got = d.length - at;
    return want !== undefined && got !== want
      ? `${kind} type ${d[at - 1]} needs ${want} octets, not ${got}`
      : undefined;
  };
}

const CODECS = new Map<number, TypeCodec>([
  [
    Type.A,
    {
      shape: '4',
      encode(r: RdataReader, w: RdataWriter) {
        const t = r.word('address');
        const a = parseIPv4(t);
        if (!a) r.fail(`"${t}" is not a dotted-quad IPv4 address`, r.lastLine);
        w.bytes(a);
      },
    },
  ],
  [
    Type.AAAA,
    {
      shape: '6',
      encode(r: RdataReader, w: RdataWriter) {
        const t = r.word('address');
        const a = parseIPv6(t);
        if (!a) r.fail(`"${t}" is not an IPv6 address`, r.lastLine);
        w.bytes(a);
      },
    },
  ],
  [Type.NS, { shape: 'N', encode: name('name server') }],
  [Type.CNAME, { shape: 'N', encode: name('target') }],
  [Type.DNAME, { shape: 'N', encode: name('target') }],
  [Type.PTR, { shape: 'N', encode: name('target') }],
  [
    Type.SOA,
    {
      shape: 'NNIIIII',
      encode(r: RdataReader, w: RdataWriter) {
        w.bytes(r.name('primary name server'));
        w.bytes(r.name('responsible mailbox'));
        w.u32(r.int('serial', 0xffffffff));
        timer(r, w, 'refresh');
        timer(r, w, 'retry');
        timer(r, w, 'expire');
        timer(r, w, 'minimum');
      },
    },
  ],
  [
    Type.HINFO,
    {
      shape: 'CC',
      encode(r: RdataReader, w: RdataWriter) {
        w.charString(r.token('CPU').text);
        w.charString(r.token('OS').text);
      },
    },
  ],
  [
    Type.MX,
    {
      shape: 'HN',
      encode(r: RdataReader, w: RdataWriter) {
        w.u16(r.int('preference', 0xffff));
        w.bytes(r.name('exchange'));
      },
    },
  ],
  [
    Type.TXT,
    {
      shape: 'T',
      encode(r: RdataReader, w: RdataWriter) {
        // RFC 1035 §3.3.14: one or more character-strings.
        do w.charString(r.token('text').text);
        while (!r.done);
      },
    },
  ],
  [
    Type.SRV,
    {
      shape: 'HHHN',
      encode(r: RdataReader, w: RdataWriter) {
        w.u16(r.int('priority', 0xffff));
        w.u16(r.int('weight', 0xffff));
        w.u16(r.int('port', 0xffff));
        w.bytes(r.name('target'));
      },
    },
  ],
  [
    Type.NAPTR,
    {
      shape: 'HHCCCN',
      encode(r: RdataReader, w: RdataWriter) {
        w.u16(r.int('order', 0xffff));
        w.u16(r.int('preference', 0xffff));
        w.charString(r.token('flags').text);
        w.charString(r.token('services').text);
        w.charString(r.token('regexp').text);
        w.bytes(r.name('replacement'));
      },
    },
  ],
  [
    Type.DS,
    {
      shape: 'HBBX',
      // RFC 4509, RFC 5933, RFC 6605: SHA-1, SHA-256, GOST, SHA-384 digests.
      check: digestLength('digest', 4, { 1: 20, 2: 32, 3: 32, 4: 48 }),
      encode(r: RdataReader, w: RdataWriter) {
        w.u16(r.int('key tag', 0xffff));
        algorithm(r, w);
        w.u8(r.int('digest type', 0xff));
        hex(r, w, 'digest');
      },
    },
  ],
  [
    Type.SSHFP,
    {
      shape: 'BBX',
      check: digestLength('fingerprint', 2, { 1: 20, 2: 32 }), // RFC 4255, RFC 6594
      encode(r: RdataReader, w: RdataWriter) {
        w.u8(r.int('algorithm', 0xff));
        w.u8(r.int('fingerprint type', 0xff));
        hex(r, w, 'fingerprint');
      },
    },
  ],
  [
    Type.TLSA,
    {
      shape: 'BBBX',
      check: digestLength('matching', 3, { 1: 32, 2: 64 }), // RFC 6698 §2.1.3
      encode(r: RdataReader, w: RdataWriter) {
        w.u8(r.int('certificate usage', 0xff));
        w.u8(r.int('selector', 0xff));
        w.u8(r.int('matching type', 0xff));
        hex(r, w, 'certificate association data');
      },
    },
  ],
  [
    Type.DNSKEY,
    {
      shape: 'HBBX',
      encode(r: RdataReader, w: RdataWriter) {
        w.u16(r.int('flags', 0xffff));
        w.u8(r.int('protocol', 0xff));
        algorithm(r, w);
        const line = r.line;
        const key = decodeBase64(r.rest('public key'));
        if (!key || key.length === 0) r.fail('public key is not base64', line);
        w.bytes(key);
      },
    },
  ],
  [
    Type.CAA,
    {
      shape: 'BCR',
      check: checkCaaTag,
      encode(r: RdataReader, w: RdataWriter) {
        w.u8(r.int('flags', 0xff));
        const tag = r.word('tag');
        w.charString(tag);
        // RFC 8659 §4.1.1: the value is the rest of the RDATA, not a <character-string>: no
        // length octet, and no 255-octet limit.
        w.text(r.token('value').text);
      },
    },
  ],
  [Type.SVCB, { shape: 'HNR', check: checkSvcbParams, encode: encodeSvcb }],
  [Type.HTTPS, { shape: 'HNR', check: checkSvcbParams, encode: encodeSvcb }],
]);

/** RFC 8659 §4.1: a tag is one or more ASCII letters and digits. */
function checkCaaTag(d: Buffer): string | undefined {
  const len = d[1]!;
  if (len === 0) return 'empty CAA tag';
  for (let i = 2; i < 2 + len; i++) {
    const c = d[i]! | 0x20;
    if (!((c >= 0x61 && c <= 0x7a) || (d[i]! >= 0x30 && d[i]! <= 0x39))) return 'CAA tag must be letters and digits';
  }
  return undefined;
}

const writer = new RdataWriter();

/**
 * Wire RDATA of the fields `tokens[start..]` of a record of `type`; relative names are completed
 * with `origin`. Throws RdataError with the reason and, where known, the line of the bad token.
 */
export function encodeRdata(type: number, tokens: readonly Token[], start: number, origin: Uint8Array): Buffer {
  const r: RdataReader = new RdataReader(tokens, start, origin, typeName(type));
  const codec = CODECS.get(type);
  const first = tokens[start];
  let rdata: Buffer;
  try {
    writer.reset();
    if (first && !first.quoted && first.text === '\\#') {
      rdata = generic(r);
      const bad = codec && (checkShape(codec.shape, rdata) ?? codec.check?.(rdata));
      if (bad) r.fail(`generic RDATA is not valid: ${bad}`, first.line);
      return rdata;
    }
    if (!codec) r.fail('this type can only be written in RFC 3597 form: \\# <length> <hex>', first?.line ?? r.line);
    codec.encode(r, writer);
    r.end();
    rdata = writer.take();
  } catch (e) {
    // Writer errors know no token; they concern the field just read.
    if (e instanceof RdataError && e.line === 0) throw new RdataError(`${r.typeName}: ${e.message}`, r.lastLine);
    throw e;
  }
  const bad = codec.check?.(rdata);
  if (bad) r.fail(bad, first?.line ?? 0);
  return rdata;
}

/** RFC 3597 §5: `\# <length> <hex words>`. */
function generic(r: RdataReader): Buffer {
  r.word('\\#');
  const len = r.int('generic RDATA length', 0xffff);
  const line = r.line;
  const data = decodeHex(r.rest('generic RDATA hex', len === 0));
  if (!data) r.fail('generic RDATA is not hexadecimal octets', line);
  if (data.length !== len) r.fail(`generic RDATA has ${octets(data.length)}, its length says ${len}`, line);
  return data;
}

const octets = (n: number): string => `${n} octet${n === 1 ? '' : 's'}`;

function checkShape(shape: string, d: Buffer): string | undefined {
  let p = 0;
  for (let f = 0; f < shape.length; f++) {
    switch (shape[f]) {
      case 'N':
        p = nameEnd(d, p);
        if (p < 0) return 'a domain name is malformed or compressed';
        break;
      case 'B':
        p += 1;
        break;
      case 'H':
        p += 2;
        break;
      case 'I':
        p += 4;
        break;
      case '4':
        p += 4;
        break;
      case '6':
        p += 16;
        break;
      case 'C':
        p += p < d.length ? 1 + d[p]! : 1;
        break;
      case 'T':
        if (p >= d.length) return 'no character-string';
        while (p < d.length) p += 1 + d[p]!;
        break;
      case 'X':
        if (p >= d.length) return 'data missing';
        p = d.length;
        break;
      case 'R':
        p = Math.max(p, d.length);
        break;
    }
    if (p > d.length) return `RDATA of ${octets(d.length)} is too short`;
  }
  return p === d.length ? undefined : `${octets(d.length - p)} after the last field`;
}

/** Where the target name sits in RDATA of the types whose target an answer follows. */
const TARGET_AT = new Map<number, number>([
  [Type.NS, 0],
  [Type.CNAME, 0],
  [Type.DNAME, 0],
  [Type.MX, 2],
  [Type.SRV, 6],
]);

/**
 * The name an RR points at, as a key: CNAME/DNAME target, NS name server, MX exchange, SRV
 * target (RRset.targets); undefined for other types.
 */
export function rdataTarget(type: number, rdata: Buffer): NameKey | undefined {
  const at = TARGET_AT.get(type);
  if (at === undefined) return undefined;
  const end = nameEnd(rdata, at);
  return end < 0 ? undefined : keyOf(rdata, at, end);
}
