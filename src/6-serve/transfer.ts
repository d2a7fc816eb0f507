// Outgoing zone transfers: AXFR (RFC 5936) and IXFR (RFC 1995: incremental from the IXFR history
// when the client's serial is in it, else the whole zone) over TCP, allowed per zone by an address list and/or TSIG keys. The handler routes
// AXFR/IXFR here once transfers are configured; the listener writes the messages of a transfer
// one by one as the connection drains (`sendStream`), each signed (RFC 8945 §5.3.1) when the
// request was.

import type net from 'node:net';
import { Class, Rcode, Type, UDP_PAYLOAD_CLASSIC, UDP_PAYLOAD_MAX } from '../0-base/constants.ts';
import type { CidrSet } from '../0-base/cidr.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { serialNewer } from '../0-base/serial.ts';
import type { Query } from '../1-codec/query.ts';
import { encodeAnswer, encodeError } from '../1-codec/response.ts';
import { ixfrSerial, TCP_MESSAGE_MAX, transferMessages } from '../1-codec/transfer.ts';
import {
  sign,
  signNext,
  tsigAnswer,
  tsigSize,
  verifyRequest,
  type TsigSettings,
  type TsigVerdict,
} from '../1-codec/tsig.ts';
import type { ZoneSource } from '../2-zone/store.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { zoneRecords, type PoolsInTransfer } from '../5-answer/transfer.ts';
import { incrementalRecords, type IxfrHistory } from './ixfr-history.ts';
import type { QueryCounters } from './counters.ts';
import { SLICE_MS } from '../0-base/slices.ts';

/** Who may transfer one zone, and what its pools become. */
export interface ZoneTransferAcl {
  /** Only clients in these prefixes; null: any address (then `keys` decides). */
  readonly allow: CidrSet | null;
  /** Only requests signed with one of these keys; null: unsigned is fine (then `allow` decides). */
  readonly keys: ReadonlySet<NameKey> | null;
  readonly pools: PoolsInTransfer;
}

/** The messages of one transfer, made as the connection drains; the listener writes them (sendStream). */
export class MessageStream {
  readonly messages: Iterator<Buffer>;
  constructor(messages: Iterator<Buffer>) {
    this.messages = messages;
  }
}

export type TransferHandler = (
  msg: Buffer,
  q: Query,
  via: { readonly tcp: boolean; readonly address: string },
) => Buffer | MessageStream;

export interface TransferDeps {
  readonly zones: ZoneSource<PooledZone>;
  /** Zones that may be transferred, by origin; read at each request (a reload may change it). */
  readonly acls: () => ReadonlyMap<NameKey, ZoneTransferAcl>;
  /** The TSIG keys in force (the handler's). */
  readonly tsig: () => TsigSettings;
  readonly health: () => HealthView;
  readonly now: () => number;
  /** A refused request, at most once per `LOG_EVERY_MS` (with the count of those not logged). */
  readonly logRefused: (fields: Record<string, unknown>) => void;
  /** A transfer that starts (its messages follow). */
  readonly logTransfer: (fields: Record<string, unknown>) => void;
  readonly counters?: QueryCounters | null;
  /** The differences between serials; absent: every IXFR behind our serial is answered in full. */
  readonly history?: IxfrHistory | null;
  /** Making a message failed mid-transfer (the connection is closed). */
  readonly onError?: (err: unknown) => void;
}

export const LOG_EVERY_MS = 10_000;

export const isTransferType = (qtype: number): boolean => qtype === Type.AXFR || qtype === Type.IXFR;

/**
 * The answer to an AXFR or IXFR: REFUSED unless the zone's ACL allows it (an address in `allow`
 * AND a signature with a key in `keys`, each checked only when given), then, over TCP, the whole
 * zone as a MessageStream, or for an IXFR from a serial in the history the differences since it
 * (RFC 1995 §4), and otherwise the whole zone (AXFR form, as §4 allows); IXFR over UDP, and an IXFR from a client already at our serial, get
 * the SOA alone (RFC 1995 §2). AXFR over UDP is REFUSED: RFC 5936 §4.2 leaves it undefined.
 */
export function createTransferHandler(deps: TransferDeps): TransferHandler {
  let lastLog = -Infinity;
  let unlogged = 0;
  /** A refusal logged, unless one was less than LOG_EVERY_MS ago (then counted for the next line). */
  const logRefused = (q: Query, via: { tcp: boolean; address: string }, key: string | null, reason: string) => {
    const now = deps.now();
    if (now - lastLog < LOG_EVERY_MS) {
      unlogged++;
      return;
    }
    deps.logRefused({
      zone: nameToText(q.qname),
      qtype: q.qtype === Type.AXFR ? 'AXFR' : 'IXFR',
      client: via.address,
      transport: via.tcp ? 'tcp' : 'udp',
      key,
      reason,
      ...(unlogged > 0 && { notLogged: unlogged }),
    });
    lastLog = now;
    unlogged = 0;
  };
  const refuse = (msg: Buffer, q: Query, via: { tcp: boolean; address: string }, v: TsigVerdict, reason: string) => {
    deps.counters?.query(undefined, q.qtype, Rcode.REFUSED, via.tcp);
    logRefused(q, via, v.kind === 'ok' ? nameToText(v.key.name) : null, reason);
    // A request whose TSIG verified gets its refusal signed (RFC 8945 §5.3).
    return tsigAnswer(encodeError(msg, q.id, q.flags, Rcode.REFUSED, q.questionEnd, q.edns), v, deps.now());
  };
  return (msg, q, via) => {
    const now = deps.now();
    let verdict: TsigVerdict = { kind: 'unsigned' };
    if (q.signed) {
      const tsig = deps.tsig();
      verdict = verifyRequest(msg, tsig.keys, now, tsig.maxFudge);
      // RFC 8945 §5.2: a request that does not verify gets only the TSIG error.
      if (verdict.kind === 'error') {
        deps.counters?.query(undefined, q.qtype, verdict.rcode, via.tcp);
        logRefused(q, via, verdict.key ? nameToText(verdict.key.name) : null, `TSIG: ${verdict.reason}`);
        return tsigAnswer(encodeError(msg, q.id, q.flags, verdict.rcode, q.questionEnd, q.edns), verdict, now);
      }
    }
    const zone = q.qclass === Class.IN ? deps.zones.get(q.qname) : undefined;
    if (!zone) return refuse(msg, q, via, verdict, 'not a zone served here');
    // An expired secondary has no copy to give (as BIND and Knot: SERVFAIL, then REFUSED here).
    if (zone.expired) return refuse(msg, q, via, verdict, 'the zone expired: its primary has not answered');
    if (q.qtype === Type.AXFR && !via.tcp) return refuse(msg, q, via, verdict, 'AXFR over UDP');
    const acl = deps.acls().get(zone.origin);
    if (!acl) return refuse(msg, q, via, verdict, 'no transfer allowed for this zone (zones-options)');
    if (acl.allow && !acl.allow.has(via.address)) return refuse(msg, q, via, verdict, 'address not in transfer.allow');
    if (acl.keys && !(verdict.kind === 'ok' && acl.keys.has(verdict.key.name)))
      return refuse(
        msg,
        q,
        via,
        verdict,
        verdict.kind === 'ok' ? 'key not in transfer.keys' : 'not signed with a key of transfer.keys',
      );
    deps.counters?.query(zone.origin, q.qtype, Rcode.NOERROR, via.tcp);
    const room = TCP_MESSAGE_MAX - (verdict.kind === 'ok' ? tsigSize(verdict.key) : 0);
    // RFC 1995 §2: over UDP, or to a client that has our version already, the SOA alone.
    const have = q.qtype === Type.IXFR ? ixfrSerial(q) : null;
    if (q.qtype === Type.IXFR && (!via.tcp || (have !== null && !serialNewer(zone.serial, have)))) {
      const answer = {
        rcode: Rcode.NOERROR,
        aa: true,
        answer: [{ owner: zone.origin, rrset: zone.soa }],
        authority: [],
        additional: [],
      };
      // RFC 6891 §6.2.5: over UDP the requestor's size (512 without EDNS), less the TSIG's room.
      const udp = (q.edns ? Math.min(q.edns.payload, UDP_PAYLOAD_MAX) : UDP_PAYLOAD_CLASSIC) - (TCP_MESSAGE_MAX - room);
      return tsigAnswer(encodeAnswer(q, answer, via.tcp ? room : udp), verdict, now);
    }
    const steps = have !== null ? (deps.history?.steps(zone.origin, have, zone.serial) ?? null) : null;
    deps.logTransfer({
      zone: nameToText(zone.origin),
      serial: zone.serial,
      qtype:
        q.qtype === Type.AXFR
          ? 'AXFR'
          : steps
            ? `IXFR (incremental from ${have}, ${steps.length} steps)`
            : 'IXFR (answered with the whole zone)',
      client: via.address,
      key: verdict.kind === 'ok' ? nameToText(verdict.key.name) : null,
      pools: acl.pools,
    });
    if (!steps) deps.history?.sentWhole(zone);
    const records = steps
      ? incrementalRecords({ owner: zone.origin, rrset: zone.soa }, steps)
      : zoneRecords(zone, acl.pools, deps.health(), now);
    const messages = transferMessages(q, records, room);
    return new MessageStream(
      reporting(verdict.kind === 'ok' ? signed(messages, verdict, deps.now) : messages, deps.onError),
    );
  };
}

/**
 * RFC 8945 §5.3.1: every message of the transfer signed; the first covers the request's MAC and
 * the full TSIG variables, each later one the MAC before it and the timers only.
 */
function* signed(
  messages: Iterable<Buffer>,
  v: Extract<TsigVerdict, { kind: 'ok' }>,
  now: () => number,
): Generator<Buffer> {
  let prior: Buffer | null = null;
  for (const m of messages) {
    const s: { message: Buffer; mac: Buffer } =
      prior === null ? sign(m, v.key, v.record.mac, now()) : signNext(m, v.key, prior, now());
    prior = s.mac;
    yield s.message;
  }
}

/** `messages`, with an error in making one reported before it ends the transfer. */
function* reporting(messages: Iterable<Buffer>, onError: ((err: unknown) => void) | undefined): Generator<Buffer> {
  try {
    yield* messages;
  } catch (err) {
    onError?.(err);
    throw err;
  }
}

/**
 * Writes a transfer's messages to `sock` with RFC 1035 §4.2.2 framing, one at a time while the
 * socket takes them, and waits for 'drain' when it does not: a large zone is never all in memory.
 * Loopback and fast links take megabytes without pushing back, so the writing also pauses for the
 * event loop whenever it has run a slice (SLICE_MS): queries wait at most a slice and a message.
 * `done` is called once, when the last message is written, the socket closes, or making a message
 * fails (the connection is then closed: a transfer cut short is one the secondary discards).
 */
export function sendStream(
  sock: net.Socket,
  stream: MessageStream,
  frame: (m: Buffer) => Buffer,
  done: () => void,
): void {
  let finished = false;
  let waiting = false;
  // A client that stops reading mid-transfer: the socket's idle timeout (no byte written for that
  // long) closes the connection, which the listener keeps open while a transfer is outstanding.
  const stalled = () => {
    if (waiting) sock.destroy();
  };
  const finish = () => {
    if (finished) return;
    finished = true;
    sock.off('close', finish);
    sock.off('timeout', stalled);
    done();
  };
  sock.once('close', finish);
  sock.on('timeout', stalled);
  const step = (): void => {
    waiting = false;
    const since = performance.now();
    try {
      for (;;) {
        if (!sock.writable) return finish();
        const r = stream.messages.next();
        if (r.done) return finish();
        if (!sock.write(frame(r.value))) {
          waiting = true;
          sock.once('drain', step);
          return;
        }
        if (performance.now() - since >= SLICE_MS) {
          setImmediate(step);
          return;
        }
      }
    } catch {
      // The transfer handler has logged it (its `onError`).
      sock.destroy();
      finish();
    }
  };
  step();
}
