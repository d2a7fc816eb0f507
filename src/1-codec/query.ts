// Incoming message → Query, straight from the Buffer (the hot path: no DNS library here).
//
// The cheapest checks come first (RFC 1035 §4.1.1 header, then the question, then EDNS), and the
// outcome is explicit: a query to answer, a message to drop silently, or an error to report.

import { EdnsOption, Opcode, Rcode, Type, UDP_PAYLOAD_CLASSIC } from '../0-base/constants.ts';
import { RecentKeys, type NameKey } from '../0-base/name.ts';
import { cookieLengthOk } from './cookie.ts';

export interface ClientSubnet {
  /** 1 = IPv4, 2 = IPv6 (RFC 7871 §6, address family numbers). */
  readonly family: 1 | 2;
  readonly sourcePrefix: number;
  /** The address, zero-padded to 4 or 16 bytes. */
  readonly address: Buffer;
}

export interface Edns {
  /** Requestor's UDP payload size, raised to 512 (RFC 6891 §6.2.5). */
  readonly payload: number;
  readonly version: number;
  readonly dnssecOk: boolean;
  /** RFC 9824 §5: Compact Answers OK (the second flag bit); absent: not set. */
  readonly compactOk?: boolean;
  readonly ecs: ClientSubnet | null;
  /**
   * Where the first COOKIE option's data (RFC 7873 §4, of a valid length) is in the message, and
   * its length; 0 and 0 without one. Offsets, not a slice: a query with a COOKIE allocates nothing
   * more while cookies are off.
   */
  readonly cookieAt?: number;
  readonly cookieLength?: number;
}

export interface Query {
  readonly id: number;
  /** The second header word as received (opcode, RD, CD, ...). */
  readonly flags: number;
  readonly opcode: number;
  readonly qname: NameKey;
  readonly qtype: number;
  readonly qclass: number;
  /** End offset of the question in the message: bytes [12, questionEnd) are echoed verbatim. */
  readonly questionEnd: number;
  readonly edns: Edns | null;
  /** A TSIG RR is in the message (not yet verified: the handler does that, RFC 8945 §5.2). */
  readonly signed: boolean;
  /** Start of the additional section's records (for TSIG and UPDATE, which read further). */
  readonly message: Buffer;
}

export type Parsed =
  | { readonly kind: 'query'; readonly query: Query }
  | { readonly kind: 'drop'; readonly reason: string }
  | {
      readonly kind: 'error';
      readonly rcode: number;
      readonly reason: string;
      readonly id: number;
      readonly flags: number;
      /** End of a well-formed question to echo, or 12 when there is none. */
      readonly questionEnd: number;
      /** Echo an OPT when the query carried one we could read (RFC 6891 §7). */
      readonly edns: Edns | null;
      /** A TSIG RR is in the message: the error answer is signed if it verifies (RFC 8945 §5.3). */
      readonly signed: boolean;
    };

/** Question names seen lately: a name asked again is the same string, hashed once (0-base/name.ts). */
const questionKeys = new RecentKeys(1024);

class Malformed extends Error {
  /** The OPT's fixed fields, when it was the OPT's options that were bad: the FORMERR echoes them. */
  edns: Edns | null = null;
  /** A TSIG RR was read before the fault. */
  signed = false;
}

/** Reads the name at `off` (no compression allowed: a question has nothing before it to point at). */
function nameEnd(msg: Buffer, off: number): number {
  let total = 0;
  for (;;) {
    if (off >= msg.length) throw new Malformed('name runs past the end');
    const len = msg[off]!;
    if (len === 0) return off + 1;
    if (len > 63) throw new Malformed('compressed or bad label in question');
    total += len + 1;
    if (total > 254) throw new Malformed('name longer than 255 octets');
    off += len + 1;
  }
}

/** Skips a possibly compressed name in a resource record; returns the offset after it. */
export function skipName(msg: Buffer, off: number): number {
  for (let labels = 0; labels < 128; labels++) {
    if (off >= msg.length) throw new Malformed('name runs past the end');
    const len = msg[off]!;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) {
      if (off + 2 > msg.length) throw new Malformed('truncated pointer');
      return off + 2;
    }
    if (len > 63) throw new Malformed('bad label type');
    off += len + 1;
  }
  throw new Malformed('too many labels');
}

export function parseQuery(msg: Buffer): Parsed {
  if (msg.length < 12) return { kind: 'drop', reason: 'shorter than a header' };
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return { kind: 'drop', reason: 'QR set' };
  const opcode = (flags >> 11) & 0xf;
  const qdcount = msg.readUInt16BE(4);

  if (opcode !== Opcode.QUERY) {
    // RFC 1035 §4.1.1: NOTIMP for kinds of query we do not support. UPDATE is routed before this.
    return earlyFailure(msg, Rcode.NOTIMP, `opcode ${opcode}`, questionEndOrHeader(msg, qdcount));
  }
  if (qdcount !== 1) return earlyFailure(msg, Rcode.FORMERR, `QDCOUNT ${qdcount}`, 12);

  let qend: number;
  try {
    qend = nameEnd(msg, 12);
  } catch (e) {
    return failure(msg, Rcode.FORMERR, (e as Error).message);
  }
  if (qend + 4 > msg.length) return failure(msg, Rcode.FORMERR, 'question truncated');
  const qname = questionKeys.keyOf(msg, 12, qend);
  const qtype = msg.readUInt16BE(qend);
  const qclass = msg.readUInt16BE(qend + 2);
  const questionEnd = qend + 4;

  let extra: Extra = NO_EXTRA;
  // The common query has no records after the question, or only an OPT: one record to read.
  if (msg.readUInt32BE(6) !== 0 || msg.readUInt16BE(10) !== 0) {
    try {
      extra = readRecords(msg, questionEnd);
    } catch (e) {
      if (e instanceof Malformed) return failure(msg, Rcode.FORMERR, e.message, questionEnd, e.edns, e.signed);
      throw e;
    }
  }
  const { edns, signed } = extra;
  if (edns && edns.version > 0)
    return failure(msg, Rcode.BADVERS, `EDNS version ${edns.version}`, questionEnd, edns, signed);
  // RFC 6895 §3.1: TYPE 0 is reserved, never data; there is nothing to look up (Knot: NOTIMP too).
  if (qtype === 0) return failure(msg, Rcode.NOTIMP, 'QTYPE 0', questionEnd, edns, signed);
  return { kind: 'query', query: { id, flags, opcode, qname, qtype, qclass, questionEnd, edns, signed, message: msg } };
}

/** An error answer's makings; id and flags are read again (not captured: no closure per query). */
function failure(
  msg: Buffer,
  rcode: number,
  reason: string,
  questionEnd = 12,
  edns: Edns | null = null,
  signed = false,
): Parsed {
  return {
    kind: 'error',
    rcode,
    reason,
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    questionEnd,
    edns,
    signed,
  };
}

/**
 * An error found before the additional section was read (an opcode we do not implement, a
 * QDCOUNT other than 1): its OPT and TSIG are still looked for, since RFC 6891 §7 asks for an OPT
 * in the response to a query with one, and RFC 8945 §5.3 for a signed answer to a signed request.
 * Questions are skipped as records are (an opcode we do not know may compress their names); if
 * the message cannot be read that far, the answer carries neither.
 */
function earlyFailure(msg: Buffer, rcode: number, reason: string, questionEnd: number): Parsed {
  try {
    let off = 12;
    for (let i = msg.readUInt16BE(4); i > 0; i--) {
      off = skipName(msg, off) + 4;
      if (off > msg.length) throw new Malformed('question truncated');
    }
    const { edns, signed } = readRecords(msg, off);
    return failure(msg, rcode, reason, questionEnd, edns, signed);
  } catch (e) {
    if (e instanceof Malformed) return failure(msg, rcode, reason, questionEnd, e.edns, e.signed);
    throw e;
  }
}

interface Extra {
  readonly edns: Edns | null;
  readonly signed: boolean;
}

const NO_EXTRA: Extra = { edns: null, signed: false };

/** Reads the answer, authority and additional records from `off`: the OPT, and whether a TSIG RR is there. */
function readRecords(msg: Buffer, off: number): Extra {
  const ancount = msg.readUInt16BE(6);
  const nscount = msg.readUInt16BE(8);
  const arcount = msg.readUInt16BE(10);
  let edns: Edns | null = null;
  let signed = false;
  try {
    for (let i = 0; i < ancount + nscount; i++) off = skipRecord(msg, off);
    let opts = 0;
    for (let i = 0; i < arcount; i++) {
      const start = off;
      off = skipName(msg, off);
      if (off + 10 > msg.length) throw new Malformed('record truncated');
      const type = msg.readUInt16BE(off);
      const rdlen = msg.readUInt16BE(off + 8);
      if (off + 10 + rdlen > msg.length) throw new Malformed('RDATA runs past the end');
      if (type === Type.OPT) {
        // RFC 6891 §6.1.1: one OPT at most, owned by the root.
        if (++opts > 1) throw new Malformed('more than one OPT record');
        if (msg[start] !== 0 || off !== start + 1) throw new Malformed('OPT owner is not the root');
        edns = parseOpt(msg, off);
      } else if (type === Type.TSIG) {
        signed = true;
      }
      off += 10 + rdlen;
    }
  } catch (e) {
    // What was read before the fault still shapes the FORMERR: an OPT to echo, a TSIG to check.
    if (e instanceof Malformed) {
      e.edns ??= edns;
      e.signed ||= signed;
    }
    throw e;
  }
  return { edns, signed };
}

function skipRecord(msg: Buffer, off: number): number {
  off = skipName(msg, off);
  if (off + 10 > msg.length) throw new Malformed('record truncated');
  const end = off + 10 + msg.readUInt16BE(off + 8);
  if (end > msg.length) throw new Malformed('RDATA runs past the end');
  return end;
}

/** `off` points at the OPT's TYPE field. */
function parseOpt(msg: Buffer, off: number): Edns {
  const payload = Math.max(msg.readUInt16BE(off + 2), UDP_PAYLOAD_CLASSIC);
  const version = msg[off + 5]!;
  const dnssecOk = (msg[off + 6]! & 0x80) !== 0;
  const rdlen = msg.readUInt16BE(off + 8);
  try {
    const ecs = readOptions(msg, off + 10, off + 10 + rdlen);
    const compactOk = (msg[off + 6]! & 0x40) !== 0;
    return { payload, version, dnssecOk, compactOk, ecs, cookieAt, cookieLength };
  } catch (e) {
    // RFC 6891 §7: a FORMERR for a problem in the OPT itself MUST carry an OPT.
    if (e instanceof Malformed) e.edns = { payload, version, dnssecOk, ecs: null };
    throw e;
  }
}

/** The COOKIE option readOptions found (module state: no object per query to return three things). */
let cookieAt = 0;
let cookieLength = 0;

/** Reads the options in msg[p, end); returns the ECS option, if any, and leaves the COOKIE's place in cookieAt/cookieLength. */
function readOptions(msg: Buffer, p: number, end: number): ClientSubnet | null {
  let ecs: ClientSubnet | null = null;
  cookieAt = cookieLength = 0;
  while (p < end) {
    if (p + 4 > end) throw new Malformed('EDNS option header truncated');
    const code = msg.readUInt16BE(p);
    const len = msg.readUInt16BE(p + 2);
    p += 4;
    if (p + len > end) throw new Malformed('EDNS option runs past the OPT');
    if (code === EdnsOption.ECS) {
      // RFC 7871 §7.1.1: more than one ECS option is malformed.
      if (ecs) throw new Malformed('more than one ECS option');
      ecs = parseEcs(msg.subarray(p, p + len));
    } else if (code === EdnsOption.COOKIE && cookieAt === 0) {
      // RFC 7873 §5.2.2: a COOKIE too short for a client cookie, or with a server cookie of
      // other than 8..32 octets, is FORMERR. Only the first COOKIE option counts (§5.2).
      if (!cookieLengthOk(len)) throw new Malformed(`COOKIE option of ${len} octets`);
      cookieAt = p;
      cookieLength = len;
    }
    p += len;
  }
  return ecs;
}

/** RFC 7871 §6; anything inconsistent is FORMERR (§7.1.1). */
function parseEcs(opt: Buffer): ClientSubnet {
  if (opt.length < 4) throw new Malformed('ECS option too short');
  const family = opt.readUInt16BE(0);
  const sourcePrefix = opt[2]!;
  const scopePrefix = opt[3]!;
  if (family !== 1 && family !== 2) throw new Malformed(`ECS family ${family}`);
  const max = family === 1 ? 32 : 128;
  if (sourcePrefix > max) throw new Malformed(`ECS source prefix /${sourcePrefix}`);
  if (scopePrefix !== 0) throw new Malformed('ECS scope prefix set in a query');
  const bytes = Math.ceil(sourcePrefix / 8);
  if (opt.length !== 4 + bytes) throw new Malformed('ECS address length does not match its prefix');
  // A loop, not opt.copy: a Buffer this small lives in V8's heap, and Buffer's C++ copy moves it
  // out first (an allocation of its own), which made ECS cost a pool query a fifth more.
  const address = Buffer.alloc(max / 8);
  for (let i = 0; i < bytes; i++) address[i] = opt[4 + i]!;
  if (sourcePrefix % 8 !== 0 && bytes > 0) {
    const mask = 0xff >> (sourcePrefix % 8);
    if (address[bytes - 1]! & mask) throw new Malformed('ECS address has bits set beyond its prefix');
  }
  return { family, sourcePrefix, address };
}

/** For error answers to other opcodes: echo the question if there is exactly one readable one. */
function questionEndOrHeader(msg: Buffer, qdcount: number): number {
  if (qdcount !== 1) return 12;
  try {
    const end = nameEnd(msg, 12) + 4;
    return end <= msg.length ? end : 12;
  } catch {
    return 12;
  }
}
