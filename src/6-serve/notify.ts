// NOTIFY (RFC 1996), out and in. Out: when a zone's serial changes, each secondary listed for it is told over
// UDP, and told again until it answers: the first wait 1 s, each next one twice as long, at most
// `tries` times (§3.6: retransmit until a response or a retry limit). A NOTIFY for a newer serial
// replaces the retries of an older one. Signed with the zone's transfer key when it has one, since
// secondaries usually accept NOTIFY only with the key they transfer with. In (`answerNotify`): a
// secondary zone's primary tells us of a new serial, and the zone is refreshed at once.

import dgram from 'node:dgram';
import net from 'node:net';
import { randomInt } from 'node:crypto';
import { Class, Flag, Opcode, Rcode, Type, rcodeName } from '../0-base/constants.ts';
import { formatListen, type ListenAddress } from '../0-base/listen.ts';
import { keyOf, keyToWire, nameToText, type NameKey } from '../0-base/name.ts';
import { encodeError } from '../1-codec/response.ts';
import {
  readName,
  signRequest,
  tsigAnswer,
  verifyRequest,
  verifyResponse,
  type TsigKey,
  type TsigSettings,
} from '../1-codec/tsig.ts';

export interface NotifyTarget {
  readonly zone: NameKey;
  readonly serial: number;
  /** The zone's SOA, sent in the answer section (§3.7 allows it: the secondary sees the new serial). */
  readonly soa: { readonly ttl: number; readonly rdata: Buffer };
  readonly to: ListenAddress;
  /** Sign with this key (the zone's first transfer key); null: unsigned. */
  readonly key: TsigKey | null;
}

export interface NotifierOptions {
  readonly now: () => number;
  /** An answer (`ok`) or giving up, for the log. */
  readonly report: (fields: Record<string, unknown>, ok: boolean) => void;
  /** Sends at most this many times (default 5: waits 1, 2, 4, 8, 16 s). */
  readonly tries?: number;
  readonly firstWaitMs?: number;
}

interface Attempt {
  readonly target: NotifyTarget;
  readonly id: number;
  readonly mac: Buffer | null;
  tries: number;
  timer: NodeJS.Timeout | null;
}

/** The NOTIFY message for `zone` (§3.7: QNAME the zone, QTYPE SOA, AA set, the SOA as the answer). */
export function notifyMessage(
  zone: NameKey,
  id: number,
  soa: { readonly ttl: number; readonly rdata: Buffer },
): Buffer {
  const name = keyToWire(zone);
  const q = 12 + name.length + 4;
  const msg = Buffer.alloc(q + 12 + soa.rdata.length);
  msg.writeUInt16BE(id, 0);
  msg.writeUInt16BE((Opcode.NOTIFY << 11) | Flag.AA, 2);
  msg.writeUInt16BE(1, 4);
  msg.writeUInt16BE(1, 6);
  name.copy(msg, 12);
  msg.writeUInt16BE(Type.SOA, 12 + name.length);
  msg.writeUInt16BE(Class.IN, 14 + name.length);
  // The answer's owner: a pointer to the question's name.
  msg.writeUInt16BE(0xc00c, q);
  msg.writeUInt16BE(Type.SOA, q + 2);
  msg.writeUInt16BE(Class.IN, q + 4);
  msg.writeUInt32BE(soa.ttl, q + 6);
  msg.writeUInt16BE(soa.rdata.length, q + 10);
  soa.rdata.copy(msg, q + 12);
  return msg;
}

export class Notifier {
  readonly #opts: NotifierOptions;
  /** The attempt in progress per zone and secondary. */
  readonly #attempts = new Map<string, Attempt>();
  readonly #sockets: { 4: dgram.Socket | null; 6: dgram.Socket | null } = { 4: null, 6: null };
  #stopped = false;

  constructor(opts: NotifierOptions) {
    this.#opts = opts;
  }

  /** Tells `target.to` that `target.zone` is at `target.serial`, replacing an attempt still running for it. */
  notify(target: NotifyTarget): void {
    if (this.#stopped) return;
    const k = `${target.zone}|${formatListen(target.to)}`;
    const previous = this.#attempts.get(k);
    if (previous?.timer) clearTimeout(previous.timer);
    const id = randomInt(0x10000);
    let msg = notifyMessage(target.zone, id, target.soa);
    let mac: Buffer | null = null;
    if (target.key) {
      const s = signRequest(msg, target.key, this.#opts.now());
      msg = s.message;
      mac = s.mac;
    }
    const attempt: Attempt = { target, id, mac, tries: 0, timer: null };
    this.#attempts.set(k, attempt);
    this.#send(k, attempt, msg);
  }

  #send(k: string, a: Attempt, msg: Buffer): void {
    if (this.#stopped || this.#attempts.get(k) !== a) return;
    const max = this.#opts.tries ?? 5;
    if (a.tries >= max) {
      this.#attempts.delete(k);
      this.#opts.report({ ...fields(a.target), tries: a.tries, reason: 'no answer' }, false);
      return;
    }
    const wait = (this.#opts.firstWaitMs ?? 1000) * 2 ** a.tries;
    a.tries++;
    const family = net.isIPv6(a.target.to.host) ? 6 : 4;
    this.#socket(family).send(msg, a.target.to.port, a.target.to.host, () => {});
    a.timer = setTimeout(() => this.#send(k, a, msg), wait);
    a.timer.unref();
  }

  #socket(family: 4 | 6): dgram.Socket {
    const existing = this.#sockets[family];
    if (existing) return existing;
    const s = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('error', () => {});
    s.on('message', (m) => this.#onAnswer(m));
    s.unref();
    this.#sockets[family] = s;
    return s;
  }

  /** §4.7: a response with the same ID, opcode NOTIFY and QR set ends the attempt. */
  #onAnswer(m: Buffer): void {
    if (m.length < 12 || !(m.readUInt16BE(2) & Flag.QR) || ((m[2]! >> 3) & 0xf) !== Opcode.NOTIFY) return;
    const id = m.readUInt16BE(0);
    for (const [k, a] of this.#attempts) {
      if (a.id !== id) continue;
      const rcode = m.readUInt16BE(2) & 0xf;
      // A signed NOTIFY's answer must verify with its key; one that does not is no answer (§5.3).
      if (a.mac && a.target.key && rcode === Rcode.NOERROR) {
        if (verifyResponse(m, a.target.key, a.mac, this.#opts.now()).kind !== 'ok') return;
      }
      if (a.timer) clearTimeout(a.timer);
      this.#attempts.delete(k);
      const ok = rcode === Rcode.NOERROR;
      this.#opts.report({ ...fields(a.target), tries: a.tries, ...(!ok && { rcode: rcodeName(rcode) }) }, ok);
      return;
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const a of this.#attempts.values()) if (a.timer) clearTimeout(a.timer);
    this.#attempts.clear();
    for (const f of [4, 6] as const) {
      this.#sockets[f]?.close();
      this.#sockets[f] = null;
    }
  }
}

function fields(t: NotifyTarget) {
  return {
    zone: nameToText(t.zone),
    serial: t.serial,
    secondary: formatListen(t.to),
    key: t.key ? nameToText(t.key.name) : null,
  };
}

/** What the service says of a NOTIFY that came (RFC 1996 §3.10: only from a primary of the zone). */
export type NotifyVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface NotifyInOptions {
  readonly tsig: () => TsigSettings;
  readonly now: () => number;
  /** Is `from`, signed with `key` (null: unsigned), a primary of `zone`? Called for a verified message only. */
  readonly accept: (zone: NameKey, from: string, key: NameKey | null) => NotifyVerdict;
  /** A NOTIFY refused (stranger, bad key, not a secondary zone here), for the log. */
  readonly refused: (fields: Record<string, unknown>) => void;
}

/**
 * NOTIFY in (RFC 1996 §3.7): the answer to a NOTIFY request, the question echoed; NOERROR when
 * `accept` takes it (the zone is then refreshed from its primary), REFUSED (NOTAUTH for a bad
 * signature) otherwise. A signed NOTIFY gets a signed answer. Null: not worth answering (no
 * question to echo).
 */
export function answerNotify(msg: Buffer, from: string, o: NotifyInOptions): Buffer | null {
  if (msg.length < 12 || msg.readUInt16BE(4) !== 1) return null;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  let zone: NameKey;
  let questionEnd: number;
  try {
    const n = readName(msg, 12);
    questionEnd = n.end + 4;
    if (questionEnd > msg.length) return null;
    zone = keyOf(n.wire);
  } catch {
    return null;
  }
  const now = o.now();
  const settings = o.tsig();
  const verdict = verifyRequest(msg, settings.keys, now, settings.maxFudge);
  const reply = (rcode: number) => tsigAnswer(encodeError(msg, id, flags, rcode, questionEnd, null), verdict, now);
  const fields = { zone: nameToText(zone), from };
  if (verdict.kind === 'error') {
    o.refused({ ...fields, reason: `TSIG: ${verdict.reason}` });
    return reply(verdict.rcode);
  }
  const key = verdict.kind === 'ok' ? verdict.key.name : null;
  const v = o.accept(zone, from, key);
  if (!v.ok) {
    o.refused({ ...fields, key: key && nameToText(key), reason: v.reason });
    return reply(Rcode.REFUSED);
  }
  return reply(Rcode.NOERROR);
}
