// TSIG (RFC 8945): HMAC transaction signatures over node:crypto. The server verifies requests
// (verifyRequest) and signs its answers to them (tsigAnswer; signNext for the later messages of a
// zone transfer); signRequest, verifyResponse and TsigStreamVerifier are the client side, for
// tests, benchmarks and tools.
//
// Choices where the RFC leaves room:
// - A MAC shorter than max(10 octets, half the hash) is FORMERR (§5.2.2.1). Our local minimum is
//   that same length, so the BADTRUNC of §5.2.4 never arises.
// - The "earlier Time Signed than the last one seen" check (§5.2.3, a SHOULD) is not done: several
//   monitors may share a key and their clocks differ by up to the fudge.
// - A BADTIME answer is signed and echoes the request's Time Signed, so the client's own time check
//   passes and it can read our clock in Other Data (as BIND does).
// - A key whose name matches but whose algorithm differs is BADKEY (§5.2.1: "does not recognize the
//   key or algorithm").
// - The server's time check uses the smaller of the request's fudge and its own maximum (300 s by
//   default, §5.2.3's recommendation): a client's fudge of up to 65535 s would otherwise let a
//   captured request be replayed for 18 hours.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { Class, Rcode, Type } from '../0-base/constants.ts';
import { keyFromText, keyOf, keyToWire, nameToText, NameError, type NameKey } from '../0-base/name.ts';
import { GslbError } from '../0-base/errors.ts';
import { decodeBase64 } from '../0-base/encoding.ts';

export type TsigAlgorithm = 'hmac-sha1' | 'hmac-sha224' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';

/** RFC 8945 §6: algorithm name → node:crypto hash and its output length. */
const ALGORITHMS: Readonly<Record<TsigAlgorithm, { readonly hash: string; readonly size: number }>> = {
  'hmac-sha1': { hash: 'sha1', size: 20 },
  'hmac-sha224': { hash: 'sha224', size: 28 },
  'hmac-sha256': { hash: 'sha256', size: 32 },
  'hmac-sha384': { hash: 'sha384', size: 48 },
  'hmac-sha512': { hash: 'sha512', size: 64 },
};

const ALGORITHM_KEYS = new Map<NameKey, TsigAlgorithm>(
  (Object.keys(ALGORITHMS) as TsigAlgorithm[]).map((a) => [keyFromText(`${a}.`), a]),
);

/** Each algorithm's name in wire form, its length: `hmac-sha256.` is 13 octets. */
const ALGORITHM_WIRE_LENGTH = Object.fromEntries([...ALGORITHM_KEYS].map(([k, a]) => [a, k.length])) as Record<
  TsigAlgorithm,
  number
>;

/** TSIG error codes (RFC 8945 §3, the TSIG Error field; IANA DNS RCODEs). */
export const TsigError = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

/** What we sign with, and the default maximum we accept: RFC 8945 §5.2.3 recommends 300 s. */
export const FUDGE = 300;

/** What a server verifies requests against; Service sets it at start from the configuration. */
export interface TsigSettings {
  readonly keys: readonly TsigKey[];
  /** Seconds: a request's fudge above this counts as this (`--tsig-max-fudge`). */
  readonly maxFudge: number;
}

export interface TsigKey {
  /** Key name, lower-case wire form. */
  readonly name: NameKey;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
  /** Zone apexes this key may update; null: every zone served. */
  readonly zones: readonly NameKey[] | null;
}

/** A key as configuration gives it (`tsig:` in gslbd.yaml, `--tsig-key` on the command line). */
export interface TsigKeyConfig {
  readonly name: string;
  readonly algorithm: string;
  /** Base64 (RFC 4648 §4). */
  readonly secret: string;
  /** Zones the key may update; absent: every zone served. */
  readonly zones?: readonly string[];
}

/** Validates a configured key; throws GslbError ERR_CONFIG naming the key and the problem. */
export function tsigKeyFromConfig(c: TsigKeyConfig): TsigKey {
  const fail = (reason: string): never => {
    throw new GslbError('ERR_CONFIG', `tsig key "${c.name}": ${reason}`);
  };
  const name = (text: string, what: string): NameKey => {
    try {
      return keyFromText(text.endsWith('.') ? text : `${text}.`);
    } catch (e) {
      if (e instanceof NameError) return fail(`${what}: ${e.message}`);
      throw e;
    }
  };
  const algorithm = c.algorithm.toLowerCase().replace(/\.$/, '');
  if (!Object.hasOwn(ALGORITHMS, algorithm))
    fail(`algorithm "${c.algorithm}" is not one of ${Object.keys(ALGORITHMS).join(', ')}`);
  const secret = decodeBase64(c.secret);
  if (!secret || secret.length === 0) fail('secret is not base64');
  const zones = c.zones === undefined ? null : c.zones.map((z) => name(z, `zone "${z}"`));
  return { name: name(c.name, 'name'), algorithm: algorithm as TsigAlgorithm, secret: secret!, zones };
}

/** Every key of a configuration; a name given twice is an error (which secret would hold?). */
export function tsigKeysFromConfig(list: readonly TsigKeyConfig[]): TsigKey[] {
  const keys = list.map(tsigKeyFromConfig);
  const twice = keys.find((k, i) => keys.findIndex((o) => o.name === k.name) !== i);
  if (twice) throw new GslbError('ERR_CONFIG', `tsig key "${nameToText(twice.name)}" is defined twice`);
  return keys;
}

/** The fields of a TSIG RR (RFC 8945 §4.2), names as keys. */
export interface TsigRecord {
  /** Offset of the TSIG RR in the message: the MAC covers the bytes before it. */
  readonly start: number;
  readonly keyName: NameKey;
  readonly algorithm: NameKey;
  /** Seconds since the epoch (48 bits). */
  readonly timeSigned: number;
  readonly fudge: number;
  readonly mac: Buffer;
  readonly originalId: number;
  readonly error: number;
  readonly other: Buffer;
}

export type TsigVerdict =
  /** No TSIG RR. */
  | { readonly kind: 'unsigned' }
  | { readonly kind: 'ok'; readonly key: TsigKey; readonly record: TsigRecord }
  /**
   * rcode FORMERR: the TSIG RR is misplaced or malformed (the answer carries no TSIG).
   * rcode NOTAUTH: tsigError BADKEY / BADSIG (answer unsigned, §5.3.2) or BADTIME (answer signed).
   * For verifyResponse, also the error a server reported in a response whose MAC checked out.
   */
  | {
      readonly kind: 'error';
      readonly rcode: number;
      readonly tsigError: number;
      readonly reason: string;
      readonly record: TsigRecord | null;
      readonly key: TsigKey | null;
    };

class Malformed extends Error {}

/**
 * A possibly compressed name at `off` of a message: its wire form as written (case kept) and the
 * offset after it. Pointers must point backwards (RFC 1035 §4.1.4: to a prior occurrence), which
 * also rules out loops. Throws on anything malformed. Exported for 8-update/message.ts, which reads
 * the rest of an UPDATE with it (it would sit better in 0-base/name.ts).
 */
export function readName(msg: Buffer, off: number): { readonly wire: Buffer; readonly end: number } {
  const parts: Buffer[] = [];
  let total = 1;
  let end = -1;
  for (let p = off, limit = off; ;) {
    if (p >= msg.length) throw new Malformed('name runs past the end');
    const len = msg[p]!;
    if ((len & 0xc0) === 0xc0) {
      if (p + 2 > msg.length) throw new Malformed('truncated compression pointer');
      const to = ((len & 0x3f) << 8) | msg[p + 1]!;
      // Never into the header, never forwards.
      if (to < 12 || to >= limit) throw new Malformed('compression pointer does not point backwards');
      if (end < 0) end = p + 2;
      p = limit = to;
      continue;
    }
    if (len > 63) throw new Malformed('bad label type');
    if (len === 0) {
      parts.push(msg.subarray(p, p + 1));
      return { wire: Buffer.concat(parts), end: end < 0 ? p + 1 : end };
    }
    total += len + 1;
    if (total > 255) throw new Malformed('name longer than 255 octets');
    if (p + 1 + len > msg.length) throw new Malformed('label runs past the end');
    parts.push(msg.subarray(p, p + 1 + len));
    p += len + 1;
  }
}

/** Finds the TSIG RR: it must be the last additional record and the only one (RFC 8945 §5.2). */
function findTsig(msg: Buffer): TsigRecord | null {
  if (msg.length < 12) throw new Malformed('shorter than a header');
  const counts = [4, 6, 8, 10].map((at) => msg.readUInt16BE(at));
  let off = 12;
  for (let i = 0; i < counts[0]!; i++) {
    off = readName(msg, off).end + 4;
    if (off > msg.length) throw new Malformed('question runs past the end');
  }
  const records = counts[1]! + counts[2]! + counts[3]!;
  let found: TsigRecord | null = null;
  for (let i = 0; i < records; i++) {
    const start = off;
    const owner = readName(msg, off);
    off = owner.end;
    if (off + 10 > msg.length) throw new Malformed('record header runs past the end');
    const type = msg.readUInt16BE(off);
    const rdEnd = off + 10 + msg.readUInt16BE(off + 8);
    if (rdEnd > msg.length) throw new Malformed('RDATA runs past the end');
    if (type === Type.TSIG) {
      if (i !== records - 1 || rdEnd !== msg.length) throw new Malformed('TSIG is not the last record of the message');
      // §4.2: the last record of the additional section, not of the message whatever the counts.
      if (counts[3] === 0) throw new Malformed('TSIG is not in the additional section');
      // §4.2: CLASS ANY, TTL 0.
      if (msg.readUInt16BE(off + 2) !== Class.ANY || msg.readUInt32BE(off + 4) !== 0)
        throw new Malformed('TSIG class or TTL');
      found = parseTsigRdata(msg, start, keyOf(owner.wire), off + 10, rdEnd);
    }
    off = rdEnd;
  }
  return found;
}

function parseTsigRdata(msg: Buffer, start: number, keyName: NameKey, p: number, end: number): TsigRecord {
  const alg = readName(msg, p);
  p = alg.end;
  const need = (n: number) => {
    if (p + n > end) throw new Malformed('TSIG RDATA too short');
  };
  need(10);
  const timeSigned = msg.readUIntBE(p, 6);
  const fudge = msg.readUInt16BE(p + 6);
  const macSize = msg.readUInt16BE(p + 8);
  p += 10;
  need(macSize + 6);
  const mac = Buffer.from(msg.subarray(p, p + macSize));
  p += macSize;
  const originalId = msg.readUInt16BE(p);
  const error = msg.readUInt16BE(p + 2);
  const otherLen = msg.readUInt16BE(p + 4);
  p += 6;
  need(otherLen);
  const other = Buffer.from(msg.subarray(p, p + otherLen));
  if (p + otherLen !== end) throw new Malformed('TSIG RDATA longer than its fields');
  return { start, keyName, algorithm: keyOf(alg.wire), timeSigned, fudge, mac, originalId, error, other };
}

function u16(v: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v, 0);
  return b;
}

function u48(v: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeUIntBE(v, 0, 6);
  return b;
}

/** RFC 8945 §4.3.3: the TSIG variables, names in canonical form (lower case, uncompressed). */
function variables(
  keyName: NameKey,
  algorithm: NameKey,
  timeSigned: number,
  fudge: number,
  error: number,
  other: Buffer,
): Buffer {
  const fixed = Buffer.allocUnsafe(6);
  fixed.writeUInt16BE(Class.ANY, 0);
  fixed.writeUInt32BE(0, 2);
  return Buffer.concat([
    keyToWire(keyName),
    fixed,
    keyToWire(algorithm),
    u48(timeSigned),
    u16(fudge),
    u16(error),
    u16(other.length),
    other,
  ]);
}

/**
 * RFC 8945 §4.3: HMAC over the prior MAC (a response covers its request's MAC, §4.3.2), the
 * message as it was before the TSIG RR was added, and the TSIG variables.
 */
function computeMac(key: TsigKey, priorMac: Buffer | null, message: Buffer, vars: Buffer): Buffer {
  const h = createHmac(ALGORITHMS[key.algorithm].hash, key.secret);
  if (priorMac) h.update(u16(priorMac.length)).update(priorMac);
  return h.update(message).update(vars).digest();
}

/**
 * The message as the sender signed it: TSIG RR removed, ARCOUNT one less, and the Original ID back
 * in the header (§4.2: a forwarder may have changed the ID).
 */
function unsignedPart(msg: Buffer, rr: TsigRecord): Buffer {
  const m = Buffer.from(msg.subarray(0, rr.start));
  m.writeUInt16BE(rr.originalId, 0);
  m.writeUInt16BE(m.readUInt16BE(10) - 1, 10);
  return m;
}

function check(
  msg: Buffer,
  keys: readonly TsigKey[],
  nowMs: number,
  priorMac: Buffer | null,
  maxFudge: number,
): TsigVerdict {
  let rr: TsigRecord | null;
  try {
    rr = findTsig(msg);
  } catch (e) {
    if (!(e instanceof Malformed)) throw e;
    return { kind: 'error', rcode: Rcode.FORMERR, tsigError: 0, reason: e.message, record: null, key: null };
  }
  if (!rr) return { kind: 'unsigned' };
  const fail = (rcode: number, tsigError: number, reason: string, key: TsigKey | null = null): TsigVerdict => ({
    kind: 'error',
    rcode,
    tsigError,
    reason,
    record: rr,
    key,
  });
  // §5.2.1: an unknown key, or a known name with another algorithm.
  const algorithm = ALGORITHM_KEYS.get(rr.algorithm);
  const key = keys.find((k) => k.name === rr.keyName && k.algorithm === algorithm);
  if (!key)
    return fail(Rcode.NOTAUTH, TsigError.BADKEY, `unknown key ${nameToText(rr.keyName)} (${nameToText(rr.algorithm)})`);
  // A response carrying an error may be unsigned (§5.3.2): its error is the answer.
  if (priorMac && rr.mac.length === 0 && rr.error !== 0)
    return fail(Rcode.NOTAUTH, rr.error, 'unsigned error response', key);
  // §5.2.2.1: longer than the hash, or shorter than max(10, half of it): FORMERR.
  const size = ALGORITHMS[key.algorithm].size;
  if (rr.mac.length > size || rr.mac.length < Math.max(10, size / 2)) {
    return fail(Rcode.FORMERR, 0, `MAC of ${rr.mac.length} octets for ${key.algorithm}`, key);
  }
  const vars = variables(rr.keyName, rr.algorithm, rr.timeSigned, rr.fudge, rr.error, rr.other);
  const expected = computeMac(key, priorMac, unsignedPart(msg, rr), vars).subarray(0, rr.mac.length);
  // §5.2.2: compared in constant time; a truncated MAC against as many octets of ours.
  if (!timingSafeEqual(expected, rr.mac)) return fail(Rcode.NOTAUTH, TsigError.BADSIG, 'MAC does not verify', key);
  // §5.2.3, after the MAC: only a genuine message learns our clock.
  const now = Math.floor(nowMs / 1000);
  const fudge = Math.min(rr.fudge, maxFudge);
  if (Math.abs(now - rr.timeSigned) > fudge) {
    return fail(Rcode.NOTAUTH, TsigError.BADTIME, `signed at ${rr.timeSigned}, now ${now}, fudge ${fudge}`, key);
  }
  if (priorMac && rr.error !== 0) return fail(Rcode.NOTAUTH, rr.error, 'signed error response', key);
  return { kind: 'ok', key, record: rr };
}

/**
 * Server side (RFC 8945 §5.2): checks the TSIG of a request against `keys` at `nowMs`, its time
 * within the smaller of its own fudge and `maxFudge` seconds.
 */
export function verifyRequest(msg: Buffer, keys: readonly TsigKey[], nowMs: number, maxFudge = FUDGE): TsigVerdict {
  return check(msg, keys, nowMs, null, maxFudge);
}

/** Client side (§5.3): checks the TSIG of a response to a request that carried `requestMac`. */
export function verifyResponse(msg: Buffer, key: TsigKey, requestMac: Buffer, nowMs: number): TsigVerdict {
  return check(msg, [key], nowMs, requestMac, Infinity);
}

/** Octets the TSIG RR of an answer signed with `key` takes (§4.2): room to keep for it. */
export function tsigSize(key: TsigKey): number {
  // Owner, TYPE CLASS TTL RDLENGTH, algorithm, then time 6, fudge 2, MAC size 2, MAC, original
  // ID 2, error 2, other length 2, and 6 octets of other data (BADTIME's server clock).
  return key.name.length + 10 + ALGORITHM_WIRE_LENGTH[key.algorithm] + 16 + ALGORITHMS[key.algorithm].size + 6;
}

/** `msg` with `rr` appended to the additional section (ARCOUNT + 1). */
function appendTsig(msg: Buffer, keyName: NameKey, rdata: Buffer): Buffer {
  const head = Buffer.allocUnsafe(10);
  head.writeUInt16BE(Type.TSIG, 0);
  head.writeUInt16BE(Class.ANY, 2);
  head.writeUInt32BE(0, 4);
  head.writeUInt16BE(rdata.length, 8);
  const out = Buffer.concat([msg, keyToWire(keyName), head, rdata]);
  out.writeUInt16BE(msg.readUInt16BE(10) + 1, 10);
  return out;
}

function tsigRdata(
  algorithm: NameKey,
  timeSigned: number,
  fudge: number,
  mac: Buffer,
  originalId: number,
  error: number,
  other: Buffer,
): Buffer {
  return Buffer.concat([
    keyToWire(algorithm),
    u48(timeSigned),
    u16(fudge),
    u16(mac.length),
    mac,
    u16(originalId),
    u16(error),
    u16(other.length),
    other,
  ]);
}

export interface SignOptions {
  readonly error?: number;
  readonly other?: Buffer;
  /** Seconds; the time of `nowMs` when absent. */
  readonly timeSigned?: number;
  readonly fudge?: number;
}

/**
 * Signs `msg` (a complete message without TSIG) with `key`: a response covers `priorMac`, the
 * MAC of its request (§4.3.2); a request has none. Returns the signed message and its MAC.
 */
export function sign(
  msg: Buffer,
  key: TsigKey,
  priorMac: Buffer | null,
  nowMs: number,
  opts: SignOptions = {},
): { message: Buffer; mac: Buffer } {
  const algorithm = keyFromText(`${key.algorithm}.`);
  const timeSigned = opts.timeSigned ?? Math.floor(nowMs / 1000);
  const fudge = opts.fudge ?? FUDGE;
  const error = opts.error ?? 0;
  const other = opts.other ?? Buffer.alloc(0);
  const mac = computeMac(key, priorMac, msg, variables(key.name, algorithm, timeSigned, fudge, error, other));
  const id = msg.readUInt16BE(0);
  return { message: appendTsig(msg, key.name, tsigRdata(algorithm, timeSigned, fudge, mac, id, error, other)), mac };
}

/** Client side: `msg` signed as a request. */
export function signRequest(msg: Buffer, key: TsigKey, nowMs: number, fudge = FUDGE): { message: Buffer; mac: Buffer } {
  return sign(msg, key, null, nowMs, { fudge });
}

/**
 * Server side: the TSIG part of answering a request whose verdict is `v`. Signed with the request's
 * key when it verified (§5.3); BADTIME signed, with our clock in Other Data (§5.2.3); BADKEY and
 * BADSIG unsigned, MAC size 0, the error in the TSIG (§5.3.2); no TSIG when the request had none or
 * its TSIG was malformed.
 */
export function tsigAnswer(response: Buffer, v: TsigVerdict, nowMs: number): Buffer {
  if (v.kind === 'unsigned') return response;
  if (v.kind === 'ok') return sign(response, v.key, v.record.mac, nowMs).message;
  const rr = v.record;
  if (!rr || v.rcode !== Rcode.NOTAUTH) return response;
  if (v.tsigError === TsigError.BADTIME && v.key) {
    const now = Math.floor(nowMs / 1000);
    return sign(response, v.key, rr.mac, nowMs, {
      error: TsigError.BADTIME,
      timeSigned: rr.timeSigned,
      other: u48(now),
    }).message;
  }
  const now = Math.floor(nowMs / 1000);
  const rdata = tsigRdata(
    rr.algorithm,
    now,
    FUDGE,
    Buffer.alloc(0),
    response.readUInt16BE(0),
    v.tsigError,
    Buffer.alloc(0),
  );
  return appendTsig(response, rr.keyName, rdata);
}

/** RFC 8945 §4.3.3: the TSIG timers, Time Signed (48 bits) and Fudge. */
function timers(timeSigned: number, fudge: number): Buffer {
  return Buffer.concat([u48(timeSigned), u16(fudge)]);
}

/**
 * Server side, RFC 8945 §5.3.1: signs a later message of a multi-message answer (a zone transfer).
 * Its MAC covers the MAC of the message before it (with its length), this message, and the TSIG
 * timers only; the first message of the answer is signed as any answer is (`sign` with the
 * request's MAC, the full TSIG variables). Returns the signed message and the MAC the next one covers.
 */
export function signNext(msg: Buffer, key: TsigKey, priorMac: Buffer, nowMs: number): { message: Buffer; mac: Buffer } {
  const algorithm = keyFromText(`${key.algorithm}.`);
  const timeSigned = Math.floor(nowMs / 1000);
  const mac = computeMac(key, priorMac, msg, timers(timeSigned, FUDGE));
  const id = msg.readUInt16BE(0);
  const rdata = tsigRdata(algorithm, timeSigned, FUDGE, mac, id, 0, Buffer.alloc(0));
  return { message: appendTsig(msg, key.name, rdata), mac };
}

/**
 * Client side, RFC 8945 §5.3.1: checks every message of a multi-message answer to a request that
 * carried `requestMac`, in the order they arrive. The first must be signed (full TSIG variables);
 * a later one covers the prior MAC, every unsigned message since it, and the timers. Up to 99
 * unsigned messages in a row are accepted (`unsigned`), as the RFC requires of a client; the
 * hundredth is an error, and so is a stream whose last message is unsigned (the caller checks
 * `pending` at the end).
 */
export class TsigStreamVerifier {
  readonly #key: TsigKey;
  #prior: Buffer;
  #first = true;
  readonly #unsigned: Buffer[] = [];

  constructor(key: TsigKey, requestMac: Buffer) {
    this.#key = key;
    this.#prior = requestMac;
  }

  /** Unsigned messages received since the last signed one: more than 0 at the end is a failure. */
  get pending(): number {
    return this.#unsigned.length;
  }

  verify(msg: Buffer, nowMs: number): TsigVerdict {
    if (this.#first) {
      this.#first = false;
      const v = verifyResponse(msg, this.#key, this.#prior, nowMs);
      if (v.kind === 'ok') this.#prior = v.record.mac;
      else if (v.kind === 'unsigned') return streamError(Rcode.FORMERR, 'the first message is unsigned');
      return v;
    }
    let rr: TsigRecord | null;
    try {
      rr = findTsig(msg);
    } catch (e) {
      if (!(e instanceof Malformed)) throw e;
      return streamError(Rcode.FORMERR, e.message);
    }
    if (!rr) {
      if (this.#unsigned.length >= 99) return streamError(Rcode.FORMERR, '100 unsigned messages in a row');
      this.#unsigned.push(Buffer.from(msg));
      return { kind: 'unsigned' };
    }
    const key = this.#key;
    if (rr.keyName !== key.name || ALGORITHM_KEYS.get(rr.algorithm) !== key.algorithm)
      return streamError(Rcode.NOTAUTH, `signed with another key ${nameToText(rr.keyName)}`, TsigError.BADKEY);
    const size = ALGORITHMS[key.algorithm].size;
    if (rr.mac.length > size || rr.mac.length < Math.max(10, size / 2))
      return streamError(Rcode.FORMERR, `MAC of ${rr.mac.length} octets for ${key.algorithm}`);
    const h = createHmac(ALGORITHMS[key.algorithm].hash, key.secret);
    h.update(u16(this.#prior.length)).update(this.#prior);
    for (const m of this.#unsigned) h.update(m);
    h.update(unsignedPart(msg, rr)).update(timers(rr.timeSigned, rr.fudge));
    const expected = h.digest().subarray(0, rr.mac.length);
    if (!timingSafeEqual(expected, rr.mac)) return streamError(Rcode.NOTAUTH, 'MAC does not verify', TsigError.BADSIG);
    const now = Math.floor(nowMs / 1000);
    if (Math.abs(now - rr.timeSigned) > rr.fudge)
      return streamError(Rcode.NOTAUTH, `signed at ${rr.timeSigned}, now ${now}`, TsigError.BADTIME);
    this.#unsigned.length = 0;
    this.#prior = rr.mac;
    return { kind: 'ok', key, record: rr };
  }
}

function streamError(rcode: number, reason: string, tsigError = 0): TsigVerdict {
  return { kind: 'error', rcode, tsigError, reason, record: null, key: null };
}
