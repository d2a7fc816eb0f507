// Answer → wire response. RRsets arrive pre-encoded (rrset.ts RRset.wire); this file only
// writes owner names (with compression), copies RR bytes, patches TTLs, and applies the size
// limit. It runs synchronously into one scratch buffer, then copies the result out, so the only
// allocation per response is the returned Buffer.

import { EdnsOption, Flag, Type, UDP_PAYLOAD_MAX } from '../0-base/constants.ts';
import type { NameKey } from '../0-base/name.ts';
import type { Edns, Query } from './query.ts';
import type { RRset } from '../1-codec/rrset.ts';

/** An RRset placed in a section, under an owner name that may differ from its own (wildcards). */
export interface Entry {
  readonly owner: NameKey;
  readonly rrset: RRset;
  /** TTL written instead of the RRset's (negative answers, GSLB pools). */
  readonly ttl?: number;
  /** Indexes of the RRs to write, in this order; all of them when absent. */
  readonly pick?: readonly number[];
}

export interface Answer {
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: readonly Entry[];
  readonly authority: readonly Entry[];
  readonly additional: readonly Entry[];
  /** RFC 7871 §7.2.1 SCOPE PREFIX-LENGTH to return when the query carried ECS. */
  readonly ecsScope?: number;
  /** The zone that answered (absent for REFUSED), for metrics. */
  readonly zone?: NameKey;
  /** A pool decided part of it: the same question may get another answer next time. */
  readonly dynamic?: boolean;
  /** RFC 9824 §5: the OPT carries CO (a compact answer to a query that set it). */
  readonly compact?: boolean;
}

const scratch = Buffer.allocUnsafe(140_000);
/** Names written so far and where (compression targets); only the first `nameCount` count. */
const names: string[] = [];
const offsets: number[] = [];
let nameCount = 0;
let len = 0;
/** The question's name, written at offset 12: every suffix of it is a compression target. */
let question: NameKey | null = null;

// Plain stores and loops instead of Buffer's writeUInt16BE/copy for the few octets of a header
// field or an RR: those check their arguments and copy through C++, which for 2 to 30 octets
// costs more than the copy (a third of the encoder's time on a pool answer).
function put16(at: number, v: number): void {
  scratch[at] = v >>> 8;
  scratch[at + 1] = v;
}

/**
 * Copies src[from, to) to scratch at `at`; returns the octets copied. A long one goes through
 * TypedArray set, without a subarray view when it is the whole of `src` (an RR, a cached body).
 */
function copyIn(src: Uint8Array, at: number, from = 0, to = src.length): number {
  if (to - from > 64) scratch.set(from === 0 && to === src.length ? src : src.subarray(from, to), at);
  else for (let i = from; i < to; i++) scratch[at + i - from] = src[i]!;
  return to - from;
}

/** Offset of `key` inside the question name, when it is that name or one of its suffixes; else -1. */
function inQuestion(key: NameKey): number {
  const q = question;
  // The owner of most answers is the question's name itself, often the very string.
  if (key === q) return 12;
  if (q === null || key.length > q.length || !q.endsWith(key)) return -1;
  for (let i = 0; i < q.length; i += q.charCodeAt(i) + 1) {
    if (q.length - i === key.length) return 12 + i;
  }
  return -1;
}

function remember(key: string, at: number): void {
  if (at < 0x4000) {
    names[nameCount] = key;
    offsets[nameCount++] = at;
  }
}

/** Where `key` was written before (not in the question), or -1. */
function written(key: NameKey): number {
  for (let i = 0; i < nameCount; i++) if (names[i] === key) return offsets[i]!;
  return -1;
}

function writeName(key: NameKey): void {
  let k = key;
  for (;;) {
    if (k.length === 1) {
      scratch[len++] = 0;
      return;
    }
    // Suffixes of the question are found there without being sliced out one by one per answer.
    const q = inQuestion(k);
    const at = q < 0 ? written(k) : q;
    if (at >= 0) {
      put16(len, 0xc000 | at);
      len += 2;
      return;
    }
    remember(k, len);
    const l = k.charCodeAt(0);
    for (let i = 0; i <= l; i++) scratch[len + i] = k.charCodeAt(i);
    len += l + 1;
    k = k.slice(l + 1);
  }
}

function writeEntry(e: Entry): number {
  const wires = e.rrset.wire;
  const pick = e.pick;
  const n = pick ? pick.length : wires.length;
  const ttl = e.ttl;
  for (let j = 0; j < n; j++) {
    const w = wires[pick ? pick[j]! : j]!;
    writeName(e.owner);
    const at = len;
    len += copyIn(w, len);
    if (ttl !== undefined) {
      put16(at + 4, ttl >>> 16);
      put16(at + 6, ttl);
    }
  }
  return n;
}

/** Writes the header and the question as received; its name becomes a compression target. */
function begin(msg: Buffer, id: number, flags: number, questionEnd: number, qname: NameKey | null): void {
  nameCount = 0;
  put16(0, id);
  put16(2, flags);
  put16(4, questionEnd > 12 ? 1 : 0);
  put16(6, 0);
  put16(8, 0);
  put16(10, 0);
  len = 12 + copyIn(msg, 12, 12, questionEnd);
  question = qname;
}

const OPT_SIZE = 11;

/**
 * RFC 6891 §6.1.2: our OPT; the ECS option echoed with its scope when the query had one, and our
 * COOKIE (RFC 7873 §5.2) when the handler gives one.
 */
function writeOpt(edns: Edns, extRcode: number, ecsScope: number, cookie: Uint8Array | null, co = false): void {
  scratch[len] = 0;
  put16(len + 1, Type.OPT);
  put16(len + 3, UDP_PAYLOAD_MAX);
  scratch[len + 5] = extRcode;
  scratch[len + 6] = 0; // version 0
  // RFC 3225 §3: DO copied; RFC 9824 §5: CO set in a compact answer to a query with CO.
  put16(len + 7, (edns.dnssecOk ? 0x8000 : 0) | (co ? 0x4000 : 0));
  const rdlenAt = len + 9;
  len += OPT_SIZE;
  const ecs = edns.ecs;
  if (ecs) {
    // RFC 7871 §7.2.1: same FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as the query, our SCOPE.
    const bytes = Math.ceil(ecs.sourcePrefix / 8);
    put16(len, EdnsOption.ECS);
    put16(len + 2, 4 + bytes);
    put16(len + 4, ecs.family);
    scratch[len + 6] = ecs.sourcePrefix;
    scratch[len + 7] = ecsScope;
    copyIn(ecs.address, len + 8, 0, bytes);
    len += 8 + bytes;
  }
  if (cookie) {
    put16(len, EdnsOption.COOKIE);
    put16(len + 2, cookie.length);
    scratch.set(cookie, len + 4);
    len += 4 + cookie.length;
  }
  put16(rdlenAt, len - rdlenAt - 2);
}

function optSize(edns: Edns | null, cookie: Uint8Array | null): number {
  if (!edns) return 0;
  return OPT_SIZE + (edns.ecs ? 8 + Math.ceil(edns.ecs.sourcePrefix / 8) : 0) + (cookie ? 4 + cookie.length : 0);
}

function finish(): Buffer {
  const out = Buffer.allocUnsafe(len);
  out.set(scratch.subarray(0, len));
  return out;
}

function headerFlags(queryFlags: number, aa: boolean, rcode: number): number {
  // Opcode and RD are copied (RFC 1035 §4.1.1); RA stays clear: not a resolver. CD is not copied:
  // "a security-aware name server SHOULD clear the CD bit when composing an authoritative
  // response" (RFC 4035 §3.1.6); copying it is the rule for recursive servers (§3.2.2).
  return Flag.QR | (queryFlags & (0x7800 | Flag.RD)) | (aa ? Flag.AA : 0) | (rcode & 0xf);
}

/**
 * Encodes `answer` for `q`, fitting `limit` bytes (UDP payload, or 65535 on TCP).
 * If the answer or authority section does not fit, the response is truncated: TC=1 with only the
 * question and OPT (RFC 2181 §9). Additional RRsets that do not fit are left out without TC.
 * `cookie`: the COOKIE option data to put in the OPT (only when the query had an OPT).
 */
export function encodeAnswer(q: Query, answer: Answer, limit: number, cookie: Uint8Array | null = null): Buffer {
  const flags = headerFlags(q.flags, answer.aa, answer.rcode);
  begin(q.message, q.id, flags, q.questionEnd, q.qname);
  const room = limit - optSize(q.edns, cookie);
  let an = 0;
  for (const e of answer.answer) an += writeEntry(e);
  let ns = 0;
  for (const e of answer.authority) ns += writeEntry(e);
  if (len > room) {
    begin(q.message, q.id, flags | Flag.TC, q.questionEnd, null);
    an = ns = 0;
  }
  let ar = 0;
  if (an + ns > 0 || answer.answer.length + answer.authority.length === 0) {
    for (const e of answer.additional) {
      const mark = len;
      const markNames = nameCount;
      const n = writeEntry(e);
      if (len > room) {
        len = mark;
        nameCount = markNames;
        continue;
      }
      ar += n;
    }
  }
  if (q.edns) {
    writeOpt(q.edns, answer.rcode >> 4, answer.ecsScope ?? 0, cookie, answer.compact);
    ar++;
  }
  put16(6, an);
  put16(8, ns);
  put16(10, ar);
  return finish();
}

/**
 * A cached response body (everything but the OPT, encoded for the same question and the same room)
 * made into the response to `q`: its ID, its RD bit, its question bytes (0x20 case), and its OPT
 * (with CO when `co`: a compact answer, RFC 9824 §5).
 */
export function reuseBody(
  q: Query,
  body: Buffer,
  extRcode: number,
  cookie: Uint8Array | null = null,
  co = false,
): Buffer {
  len = copyIn(body, 0);
  put16(0, q.id);
  put16(2, (body.readUInt16BE(2) & ~Flag.RD) | (q.flags & Flag.RD));
  copyIn(q.message, 12, 12, q.questionEnd);
  if (q.edns) {
    writeOpt(q.edns, extRcode, 0, cookie, co);
    put16(10, body.readUInt16BE(10) + 1);
  }
  return finish();
}

/** The room left for records once `q`'s OPT is accounted for: part of a cached body's identity. */
export function roomFor(q: Query, limit: number, cookie: Uint8Array | null = null): number {
  return limit - optSize(q.edns, cookie);
}

/** `response` to `q` without its OPT (the last record when `q` had EDNS), to cache. */
export function bodyOf(q: Query, response: Buffer, cookie: Uint8Array | null = null): Buffer {
  if (!q.edns) return Buffer.from(response);
  const body = Buffer.from(response.subarray(0, response.length - optSize(q.edns, cookie)));
  body.writeUInt16BE(body.readUInt16BE(10) - 1, 10);
  return body;
}

/** A response carrying only an rcode (FORMERR, NOTIMP, REFUSED, BADVERS ...), question echoed when readable. */
export function encodeError(
  msg: Buffer,
  id: number,
  queryFlags: number,
  rcode: number,
  questionEnd: number,
  edns: Edns | null,
  cookie: Uint8Array | null = null,
): Buffer {
  begin(msg, id, headerFlags(queryFlags, false, rcode), questionEnd, null);
  if (edns) {
    writeOpt({ ...edns, ecs: null }, rcode >> 4, 0, cookie);
    put16(10, 1);
  }
  return finish();
}
