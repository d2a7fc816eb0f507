// The client side of a zone transfer: gslbd as a secondary pulls a zone from its primary over TCP,
// by IXFR (RFC 1995) when it holds a copy, else by AXFR (RFC 5936), signed with the zone's TSIG key
// when it has one (every message of the answer verified, RFC 8945 §5.3.1). Whatever the primary
// sends is read with suspicion: a wrong ID, a record of another zone or class, a stream that ends
// early or never ends, a bad signature — each is a PullError, and the copy in service is kept.
//
// An IXFR answer comes in one of three forms (RFC 1995 §4): the single SOA of a copy that is
// current; the differences, each a deletion list between two SOAs and an addition list after the
// second; or the whole zone, as an AXFR would send it.

import net from 'node:net';
import { randomInt } from 'node:crypto';
import { Class, Flag, Opcode, Rcode, Type, rcodeName } from '../0-base/constants.ts';
import { formatListen, type ListenAddress } from '../0-base/listen.ts';
import { keyOf, keyToWire, nameToText, type NameKey } from '../0-base/name.ts';
import { serialNewer, soaSerial } from '../0-base/serial.ts';
import { readRecord, RecordFormatError, skipQuestions, type WireRecord } from '../1-codec/records.ts';
import { signRequest, TsigStreamVerifier, type TsigKey } from '../1-codec/tsig.ts';

export class PullError extends Error {
  /** The primary answered with this rcode (REFUSED, NOTAUTH, ...); null: no usable answer. */
  readonly rcode: number | null;
  constructor(reason: string, rcode: number | null = null) {
    super(reason);
    this.rcode = rcode;
  }
}

export interface PullRequest {
  readonly zone: NameKey;
  readonly primary: ListenAddress;
  readonly key: TsigKey | null;
  /** The SOA RDATA of the copy held, for IXFR; null asks for the whole zone (AXFR). */
  readonly soa: Buffer | null;
  readonly now: () => number;
  /** Longest wait for the next bytes from the primary (default 30 s). */
  readonly idleMs?: number;
  /** Largest transfer accepted, in octets on the wire (default 1 GiB). */
  readonly maxBytes?: number;
}

/** The records of one difference: the SOA it starts from and the one it ends at are not in the lists. */
export interface PullStep {
  readonly from: number;
  readonly to: number;
  readonly deleted: readonly WireRecord[];
  readonly added: readonly WireRecord[];
}

export type PullResult =
  | { readonly kind: 'current'; readonly serial: number }
  | { readonly kind: 'full'; readonly serial: number; readonly records: readonly WireRecord[]; readonly bytes: number }
  | {
      readonly kind: 'incremental';
      readonly serial: number;
      readonly steps: readonly PullStep[];
      readonly bytes: number;
    };

/** The AXFR or IXFR query (IXFR: our SOA in the authority section, RFC 1995 §3). */
export function transferQuery(zone: NameKey, id: number, soa: Buffer | null): Buffer {
  const name = keyToWire(zone);
  const q = 12 + name.length + 4;
  const msg = Buffer.alloc(q + (soa ? 12 + soa.length : 0));
  msg.writeUInt16BE(id, 0);
  msg.writeUInt16BE(1, 4);
  name.copy(msg, 12);
  msg.writeUInt16BE(soa ? Type.IXFR : Type.AXFR, 12 + name.length);
  msg.writeUInt16BE(Class.IN, 14 + name.length);
  if (soa) {
    msg.writeUInt16BE(1, 8);
    msg.writeUInt16BE(0xc00c, q);
    msg.writeUInt16BE(Type.SOA, q + 2);
    msg.writeUInt16BE(Class.IN, q + 4);
    msg.writeUInt16BE(soa.length, q + 10);
    soa.copy(msg, q + 12);
  }
  return msg;
}

/** Pulls `r.zone` from `r.primary`; throws PullError for anything but a complete, valid answer. */
export async function pullZone(r: PullRequest): Promise<PullResult> {
  const id = randomInt(0x10000);
  let query = transferQuery(r.zone, id, r.soa);
  let verifier: TsigStreamVerifier | null = null;
  if (r.key) {
    const s = signRequest(query, r.key, r.now());
    query = s.message;
    verifier = new TsigStreamVerifier(r.key, s.mac);
  }
  const reader = new StreamReader(r, id, r.soa === null ? null : soaSerial(r.soa), verifier);
  await exchange(r, query, (msg) => reader.message(msg));
  return reader.result();
}

/** Reads the records of the answer, message by message, and knows when the transfer is complete. */
class StreamReader {
  readonly #r: PullRequest;
  readonly #id: number;
  readonly #ours: number | null;
  readonly #verifier: TsigStreamVerifier | null;
  readonly #records: WireRecord[] = [];
  #bytes = 0;
  /** SOAs of the zone after the first record. */
  #soas = 0;
  #done = false;

  constructor(r: PullRequest, id: number, ours: number | null, verifier: TsigStreamVerifier | null) {
    this.#r = r;
    this.#id = id;
    this.#ours = ours;
    this.#verifier = verifier;
  }

  /** Takes one message; true once the last record has come. */
  message(msg: Buffer): boolean {
    if (this.#done) throw new PullError('more messages after the closing SOA');
    this.#bytes += msg.length + 2;
    if (this.#bytes > (this.#r.maxBytes ?? 1 << 30))
      throw new PullError(`more than ${this.#r.maxBytes ?? 1 << 30} octets`);
    if (msg.length < 12) throw new PullError('a message shorter than a header');
    const flags = msg.readUInt16BE(2);
    if (msg.readUInt16BE(0) !== this.#id) throw new PullError('a message with another ID');
    if (!(flags & Flag.QR) || ((flags >> 11) & 0xf) !== Opcode.QUERY)
      throw new PullError('not a response to the query');
    const rcode = flags & 0xf;
    if (this.#verifier) {
      const v = this.#verifier.verify(msg, this.#r.now());
      // An error answer is often unsigned (REFUSED to an unknown key): its rcode says more.
      if (v.kind === 'error' && rcode === Rcode.NOERROR) throw new PullError(`TSIG: ${v.reason}`, v.rcode);
    }
    if (rcode !== Rcode.NOERROR) throw new PullError(`the primary answered ${rcodeName(rcode)}`, rcode);
    if (flags & Flag.TC) throw new PullError('a truncated message');
    try {
      let off = skipQuestions(msg, msg.readUInt16BE(4));
      for (let n = msg.readUInt16BE(6); n > 0; n--) {
        const { record, end } = readRecord(msg, off);
        off = end;
        this.#take(record);
        if (this.#done && n > 1) throw new PullError('records after the closing SOA');
      }
    } catch (e) {
      if (e instanceof RecordFormatError) throw new PullError(`malformed message: ${e.message}`);
      throw e;
    }
    // RFC 1995 §4: one SOA alone answers an IXFR for a copy that is current; the primary may keep
    // the connection open for another query, so this message ends it.
    if (this.#current()) this.#done = true;
    if (this.#done && this.#verifier && this.#verifier.pending > 0)
      throw new PullError('TSIG: the last message is unsigned');
    return this.#done;
  }

  #take(rr: WireRecord): void {
    if (rr.klass !== Class.IN) throw new PullError(`a record of class ${rr.klass}`);
    const records = this.#records;
    const zone = this.#r.zone;
    const owner = keyOf(rr.owner);
    if (owner !== zone && !owner.endsWith(zone)) throw new PullError(`${nameToText(owner)} is outside the zone`);
    const apexSoa = rr.type === Type.SOA && owner === zone;
    if (records.length === 0 && !apexSoa) throw new PullError('the first record is not the zone SOA');
    records.push(rr);
    if (records.length === 1 || !apexSoa) return;
    this.#soas++;
    const last = soaSerial(records[0]!.rdata);
    const serial = soaSerial(rr.rdata);
    // AXFR form: the second SOA ends it. IXFR form (an SOA right after the first): after it, SOAs
    // alternate, a difference's start then its end; the final serial in a start's place ends it,
    // since no difference starts from the final serial.
    if (this.#ours === null || records[1]!.type !== Type.SOA) {
      if (serial !== last) throw new PullError(`the closing SOA has serial ${serial}, the first ${last}`);
      this.#done = true;
    } else if (serial === last && this.#soas % 2 === 1) {
      this.#done = true;
    }
  }

  /** The answer to an IXFR for a copy that is current: the one SOA of the first message, not newer. */
  #current(): boolean {
    const records = this.#records;
    return this.#ours !== null && records.length === 1 && !serialNewer(soaSerial(records[0]!.rdata), this.#ours);
  }

  /** After the primary closed or the last message came. */
  result(): PullResult {
    const records = this.#records;
    const first = records[0];
    if (!first) throw new PullError('the primary closed the connection without an answer');
    const serial = soaSerial(first.rdata);
    if (this.#current()) return { kind: 'current', serial };
    if (!this.#done) throw new PullError(`the transfer stopped after ${records.length} records`);
    if (this.#ours === null || records[1]!.type !== Type.SOA)
      return { kind: 'full', serial, records: records.slice(0, -1), bytes: this.#bytes };
    return { kind: 'incremental', serial, steps: steps(records, this.#ours), bytes: this.#bytes };
  }
}

/**
 * The differences of an IXFR answer (`records` from its first SOA to its last). A difference's
 * lists hold its SOAs too: the old one is deleted, the new one added.
 */
function steps(records: readonly WireRecord[], ours: number): PullStep[] {
  const out: PullStep[] = [];
  const end = records.length - 1;
  let expect = ours;
  for (let i = 1; i < end;) {
    const from = soaSerial(records[i]!.rdata);
    if (from !== expect) throw new PullError(`a difference from serial ${from}, expected ${expect}`);
    const deleted: WireRecord[] = [records[i]!];
    for (i++; i < end && records[i]!.type !== Type.SOA; i++) deleted.push(records[i]!);
    if (i >= end) throw new PullError('a difference with no SOA to end at');
    const to = soaSerial(records[i]!.rdata);
    const added: WireRecord[] = [records[i]!];
    for (i++; i < end && records[i]!.type !== Type.SOA; i++) added.push(records[i]!);
    out.push({ from, to, deleted, added });
    expect = to;
  }
  if (expect !== soaSerial(records[0]!.rdata)) throw new PullError('the differences do not reach the final serial');
  return out;
}

/** A record's identity in a copy: owner (any case), type and RDATA; the zone has one SOA. */
const identity = (rr: WireRecord): string =>
  `${keyOf(rr.owner)}|${rr.type}|${rr.type === Type.SOA ? '' : rr.rdata.toString('latin1')}`;

/**
 * The copy `records` with `steps` applied in order. Throws PullError when a deletion names a record
 * the copy does not hold: the copy and the primary disagree, and only a whole transfer mends that.
 */
export function applySteps(records: readonly WireRecord[], steps: readonly PullStep[]): WireRecord[] {
  const copy = new Map<string, WireRecord>();
  for (const rr of records) copy.set(identity(rr), rr);
  for (const step of steps) {
    for (const rr of step.deleted)
      if (!copy.delete(identity(rr)))
        throw new PullError(
          `serial ${step.from} → ${step.to} deletes ${nameToText(keyOf(rr.owner))} type ${rr.type}, which the copy does not hold`,
        );
    for (const rr of step.added) copy.set(identity(rr), rr);
  }
  return [...copy.values()];
}

/** Sends `query` framed over TCP and hands each framed message of the answer to `onMessage` until it says done. */
function exchange(r: PullRequest, query: Buffer, onMessage: (msg: Buffer) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: r.primary.host, port: r.primary.port });
    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (err: Error | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(r.idleMs ?? 30_000, () =>
      finish(new PullError(`no data from ${formatListen(r.primary)} for ${(r.idleMs ?? 30_000) / 1000} s`)),
    );
    socket.on('error', (e) => finish(new PullError(`${formatListen(r.primary)}: ${e.message}`)));
    // The reader decides whether a closed stream is complete (one SOA is a whole answer to an IXFR).
    socket.on('close', () => finish(null));
    socket.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      socket.write(Buffer.concat([len, query]));
    });
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      try {
        while (buf.length >= 2 && !settled) {
          const n = buf.readUInt16BE(0);
          if (buf.length < 2 + n) break;
          const msg = buf.subarray(2, 2 + n);
          buf = buf.subarray(2 + n);
          if (onMessage(msg)) finish(null);
        }
      } catch (e) {
        finish(e as Error);
      }
    });
  });
}
