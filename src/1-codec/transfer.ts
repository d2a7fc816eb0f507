// Zone transfer messages (RFC 5936 §2.2): a stream of RRs cut into as many responses as it takes,
// each at most `room` octets. The question is in the first message only (§2.2.1 lets the later
// ones leave it out, as Knot does); owner names are compressed within each message, RDATA is
// copied as the zone holds it (RFC 3597 §4: names in RDATA are compressed only for the well-known
// types, and an uncompressed copy is always correct).

import { Flag, Type, UDP_PAYLOAD_MAX } from '../0-base/constants.ts';
import type { NameKey } from '../0-base/name.ts';
import type { Query } from './query.ts';
import { skipName } from './query.ts';
import type { Entry } from './response.ts';

/** Largest TCP message (RFC 1035 §4.2.2: a two-octet length). */
export const TCP_MESSAGE_MAX = 65535;

const OPT_SIZE = 11;

/** One message being filled: header, optional question, RRs, and the owner names written so far. */
class MessageWriter {
  readonly buf: Buffer;
  len = 12;
  count = 0;
  readonly #names = new Map<NameKey, number>();

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Writes `key` compressed against the names already in this message; false if it does not fit. */
  name(key: NameKey, limit: number): boolean {
    const start = this.len;
    let k = key;
    for (;;) {
      if (k.length === 1) {
        if (this.len + 1 > limit) return this.#undo(start);
        this.buf[this.len++] = 0;
        return true;
      }
      const at = this.#names.get(k);
      if (at !== undefined) {
        if (this.len + 2 > limit) return this.#undo(start);
        this.buf.writeUInt16BE(0xc000 | at, this.len);
        this.len += 2;
        return true;
      }
      const l = k.charCodeAt(0);
      if (this.len + l + 1 > limit) return this.#undo(start);
      if (this.len < 0x4000) this.#names.set(k, this.len);
      this.len += this.buf.write(k.slice(0, l + 1), this.len, 'latin1');
      k = k.slice(l + 1);
    }
  }

  #undo(start: number): false {
    for (const [k, at] of this.#names) if (at >= start) this.#names.delete(k);
    this.len = start;
    return false;
  }
}

/**
 * The messages of a transfer of `records` in answer to `q`: each carries as many RRs as fit in
 * `room` octets (what is left of 65535 once a TSIG RR is accounted for), an OPT when `q` had one
 * (RFC 6891 §7), and AA set. Lazy: a message is made when the caller asks for the next one.
 */
export function* transferMessages(q: Query, records: Iterable<Entry>, room: number): Generator<Buffer> {
  const flags = Flag.QR | Flag.AA | (q.flags & (0x7800 | Flag.RD));
  const limit = room - (q.edns ? OPT_SIZE : 0);
  let w = start(q, flags, true, limit);
  for (const e of records) {
    const wires = e.rrset.wire;
    const pick = e.pick;
    const n = pick ? pick.length : wires.length;
    for (let j = 0; j < n; j++) {
      const wire = wires[pick ? pick[j]! : j]!;
      for (let tries = 0; ; tries++) {
        const mark = w.len;
        if (w.name(e.owner, limit) && w.len + wire.length <= limit) {
          const at = w.len;
          w.len += wire.copy(w.buf, w.len);
          if (e.ttl !== undefined) w.buf.writeUInt32BE(e.ttl, at + 4);
          w.count++;
          break;
        }
        w.len = mark;
        // An RR that does not fit in an empty message cannot be sent at all.
        if (tries > 0 || w.count === 0) throw new RangeError(`an RR of ${wire.length} octets does not fit a message`);
        yield finish(q, w);
        w = start(q, flags, false, limit);
      }
    }
  }
  yield finish(q, w);
}

function start(q: Query, flags: number, first: boolean, limit: number): MessageWriter {
  const w = new MessageWriter(Math.max(limit, q.questionEnd) + OPT_SIZE);
  w.buf.writeUInt16BE(q.id, 0);
  w.buf.writeUInt16BE(flags, 2);
  w.buf.fill(0, 4, 12);
  if (first) {
    w.buf.writeUInt16BE(1, 4);
    w.len = 12 + q.message.copy(w.buf, 12, 12, q.questionEnd);
  }
  return w;
}

function finish(q: Query, w: MessageWriter): Buffer {
  w.buf.writeUInt16BE(w.count, 6);
  if (q.edns) {
    // RFC 6891 §6.1.2: root owner, our payload size, DO copied (RFC 3225 §3), no options.
    const b = w.buf;
    b[w.len] = 0;
    b.writeUInt16BE(Type.OPT, w.len + 1);
    b.writeUInt16BE(UDP_PAYLOAD_MAX, w.len + 3);
    b.writeUInt32BE(q.edns.dnssecOk ? 0x8000 : 0, w.len + 5);
    b.writeUInt16BE(0, w.len + 9);
    w.len += OPT_SIZE;
    b.writeUInt16BE(1, 10);
  }
  return Buffer.from(w.buf.subarray(0, w.len));
}

/**
 * The serial of the SOA an IXFR query carries in its authority section (RFC 1995 §3): the version
 * the client has. null when the query has none or it cannot be read.
 */
export function ixfrSerial(q: Query): number | null {
  const msg = q.message;
  try {
    if (msg.readUInt16BE(8) < 1) return null;
    let off = q.questionEnd;
    const records = msg.readUInt16BE(6) + 1;
    for (let i = 0; i < records; i++) {
      off = skipName(msg, off);
      const type = msg.readUInt16BE(off);
      const rdStart = off + 10;
      const rdEnd = rdStart + msg.readUInt16BE(off + 8);
      if (i === records - 1) {
        if (type !== Type.SOA) return null;
        // RDATA: MNAME, RNAME, then SERIAL (RFC 1035 §3.3.13).
        const p = skipName(msg, skipName(msg, rdStart));
        return p + 4 <= rdEnd ? msg.readUInt32BE(p) : null;
      }
      off = rdEnd;
    }
  } catch {
    return null;
  }
  return null;
}
