// UDP and TCP listeners (RFC 1035 §4.2, RFC 7766) around a Handler.

import dgram from 'node:dgram';
import dns from 'node:dns';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { GslbError } from '../0-base/errors.ts';
import type { Handler, Transport } from './handler.ts';
import { TcpSlots, type TcpSlot } from './tcp-slots.ts';
import { formatListen, type ListenAddress } from '../0-base/listen.ts';
import { MessageStream, sendStream } from './transfer.ts';
import { BatchedUdpSocket, loadBatchedUdp, type UdpPeer } from './batched-udp.ts';

export interface ServerOptions {
  /** RFC 7766 §6.2.3: close a TCP connection idle this long (ms). */
  readonly tcpIdleMs?: number;
  /** Connections open at once; one more closes the idlest of them to make room (RFC 7766 §10). */
  readonly tcpMaxConnections?: number;
  /**
   * RFC 7766 §10: a message must arrive whole within this long (ms) of its first byte, however
   * steadily its bytes trickle in (each of which restarts the idle timer).
   */
  readonly tcpMessageMs?: number;
  /** Connections open at once from one client: an IPv4 address, an IPv6 /64 (RFC 7766 §10). */
  readonly tcpMaxPerClient?: number;
  /**
   * SO_REUSEPORT on both sockets: several processes (cluster workers) bind the same address and
   * the kernel spreads queries and connections over them. Only with a fixed port: with port 0,
   * the kernel may hand out a port another reuseport socket of the same user already has.
   */
  readonly reusePort?: boolean;
  /**
   * SO_RCVBUF asked for the UDP socket, bytes; 0 leaves the kernel's default
   * (net.core.rmem_default). Queries that arrive while the event loop is busy wait in this buffer;
   * when it is full the kernel drops them (`Udp: RcvbufErrors` in /proc/net/snmp). Linux grants
   * min(asked, net.core.rmem_max), doubled (socket(7)): `udpReceiveBuffer` says what it granted.
   */
  readonly udpReceiveBuffer?: number;
  /**
   * How UDP is read and written: `batched`, through native/udp-batch (recvmmsg/sendmmsg, one call
   * into JavaScript per batch), or `dgram`, node:dgram (one per datagram; the default here). The
   * caller checks `udpIo` first: `batched` when the module did not load throws ERR_LISTEN.
   */
  readonly io?: UdpIo;
}

export const UDP_IO = ['batched', 'dgram'] as const;
export type UdpIo = (typeof UDP_IO)[number];

/**
 * The UDP I/O that serves when `asked` (default: batched): batched needs native/udp-batch built;
 * without it, dgram, and `fallback` says why (for the warning at start).
 */
export function udpIo(asked: UdpIo | undefined): { io: UdpIo; fallback?: string } {
  if (asked === 'dgram') return { io: 'dgram' };
  const mod = loadBatchedUdp();
  return mod instanceof Error ? { io: 'dgram', fallback: mod.message } : { io: 'batched' };
}

/**
 * Asked for when no size is configured. A small query takes 832 bytes of buffer on loopback, so the
 * 8 MiB Linux grants for it (rmem_max allowing) hold ~10,000 queries, where the usual kernel
 * default holds 256 (bench/RESULTS.md, UDP bursts).
 */
export const DEFAULT_UDP_RECEIVE_BUFFER = 4 << 20;
/** The sizes `udpReceiveBuffer` may take besides 0: below 4 KiB only a handful of queries fit. */
const RECEIVE_BUFFER_MIN = 4096;
const RECEIVE_BUFFER_MAX = 1 << 30;
export const RECEIVE_BUFFER_EXPECTED = `expected 0 (the kernel's default) or ${RECEIVE_BUFFER_MIN}..${RECEIVE_BUFFER_MAX} bytes`;
/**
 * Messages of one TCP connection answered before the event loop turns: a UDP query or another
 * connection waits behind at most this many, not behind a whole 64 KiB read (~2,000 queries).
 */
const TCP_TURN = 32;

/** `--udp-receive-buffer` / `udp-receive-buffer:` as bytes; undefined (say RECEIVE_BUFFER_EXPECTED) if nonsensical. */
export function parseReceiveBuffer(text: string): number | undefined {
  const n = Number(text);
  return /^\d+$/.test(text) && (n === 0 || (n >= RECEIVE_BUFFER_MIN && n <= RECEIVE_BUFFER_MAX)) ? n : undefined;
}

/** net.core.rmem_max, the most SO_RCVBUF setsockopt grants (even as root: Node does not use SO_RCVBUFFORCE); undefined off Linux. */
function readRmemMax(): number | undefined {
  try {
    const n = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 1035 §4.2.2: a TCP message is preceded by its length. */
function frame(msg: Buffer): Buffer {
  const out = Buffer.allocUnsafe(2 + msg.length);
  out.writeUInt16BE(msg.length, 0);
  msg.copy(out, 2);
  return out;
}

/** One address served over UDP and TCP. */
/** A TCP connection's reading state: bytes of an unfinished message, answers not yet written. */
interface TcpConnection {
  readonly sock: net.Socket;
  readonly via: Transport;
  readonly slot: TcpSlot;
  pending: Buffer;
  outstanding: number;
  deadline: NodeJS.Timeout | null;
}

export class DnsListener {
  readonly address: ListenAddress;
  #udp: dgram.Socket | null = null;
  #batched: BatchedUdpSocket | null = null;
  /** The last batched socket, closed or not: its counters stay readable after stop(). */
  #lastBatched: BatchedUdpSocket | null = null;
  #tcp: net.Server | null = null;
  #conns: TcpSlots;
  #handler: Handler;
  #idleMs: number;
  #messageMs: number;
  #reusePort: boolean;
  #io: UdpIo;
  /** Asked SO_RCVBUF, and whether an operator asked for it (else the default). */
  #receiveBuffer: { readonly bytes: number; readonly configured: boolean };
  /** Answers still being computed (an UPDATE waits for the journal): stop() lets them go out. */
  readonly #inflight = new Set<Promise<void>>();
  #stopping = false;

  constructor(address: ListenAddress, handler: Handler, options: ServerOptions = {}) {
    this.address = address;
    this.#handler = handler;
    this.#idleMs = options.tcpIdleMs ?? 10_000;
    this.#messageMs = options.tcpMessageMs ?? 5_000;
    this.#conns = new TcpSlots(options.tcpMaxConnections ?? 512, options.tcpMaxPerClient ?? 64);
    this.#reusePort = options.reusePort ?? false;
    this.#io = options.io ?? 'dgram';
    const configured = options.udpReceiveBuffer !== undefined;
    this.#receiveBuffer = { bytes: options.udpReceiveBuffer ?? DEFAULT_UDP_RECEIVE_BUFFER, configured };
  }

  /** Binds both sockets; rejects with ERR_LISTEN if either cannot be bound. */
  async start(): Promise<void> {
    // With port 0 the kernel picks UDP's port, and that number may be taken for TCP (by another
    // listener, or a connection's local port): pick again, a bounded number of times.
    for (let attempt = 1; (await this.#bind(attempt < 10)) === 'taken'; attempt++);
  }

  /** One try at binding; 'taken' if `retry` and TCP found the port the kernel gave UDP in use. */
  async #bind(retry: boolean): Promise<'bound' | 'taken'> {
    const bound = this.#io === 'batched' ? this.#bindBatched() : await this.#bindDgram();
    return this.#bindTcp(bound, retry);
  }

  /** The batched UDP socket (native/udp-batch); returns the port bound. */
  #bindBatched(): number {
    const mod = loadBatchedUdp();
    const { host, port } = this.address;
    try {
      if (mod instanceof Error) throw mod;
      const sock: BatchedUdpSocket = new BatchedUdpSocket(
        mod,
        {
          host,
          port,
          reusePort: this.#reusePort,
          receiveBuffer: this.#receiveBuffer.bytes,
        },
        (msg, peer) => this.#onBatchedMessage(sock, msg, peer),
      );
      this.#batched = this.#lastBatched = sock;
      return sock.port;
    } catch (err) {
      throw new GslbError('ERR_LISTEN', `cannot bind UDP ${formatListen(this.address)}: ${(err as Error).message}`);
    }
  }

  /** The node:dgram UDP socket; returns the port bound. */
  async #bindDgram(): Promise<number> {
    const { host, port } = this.address;
    // Answers go to the address a query came from, always an IP literal: once bound, it is passed
    // back at once. Node's own lookup defers it with process.nextTick, a queued callback per answer.
    // (Node calls it with the socket's family as a number, which dns.lookup also takes.)
    let ready = false;
    const lookup = (
      address: string,
      family: dns.LookupOneOptions,
      cb: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
    ): void => {
      if (ready) cb(null, address, family as unknown as number);
      else dns.lookup(address, family, cb);
    };
    const udp = dgram.createSocket({
      type: net.isIPv6(host) ? 'udp6' : 'udp4',
      ipv6Only: net.isIPv6(host),
      reusePort: this.#reusePort,
      lookup,
      // Node sets SO_RCVBUF once bound; 0 (or absent) is not set at all.
      ...(this.#receiveBuffer.bytes > 0 && { recvBufferSize: this.#receiveBuffer.bytes }),
    });
    udp.on('message', (msg, rinfo) => this.#onUdpMessage(udp, msg, rinfo));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind({ address: host, port }, () => {
          ready = true;
          udp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw new GslbError('ERR_LISTEN', `cannot bind UDP ${formatListen(this.address)}: ${(err as Error).message}`);
    }
    // Errors after binding (e.g. ICMP-driven send failures) must not take the process down.
    udp.on('error', () => {});
    this.#udp = udp;
    return udp.address().port;
  }

  /** TCP on the port UDP got ('taken': see #bind). */
  async #bindTcp(bound: number, retry: boolean): Promise<'bound' | 'taken'> {
    const { host, port } = this.address;
    // With port 0 the kernel chose; TCP takes the same number.
    const tcp = net.createServer((sock) => this.#accept(sock));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ host, port: bound, ipv6Only: net.isIPv6(host), reusePort: this.#reusePort }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      await this.#closeUdp(0);
      if (retry && port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') return 'taken';
      throw new GslbError('ERR_LISTEN', `cannot bind TCP ${formatListen(this.address)}: ${(err as Error).message}`);
    }
    tcp.on('error', () => {});
    this.#tcp = tcp;
    return 'bound';
  }

  /**
   * SO_RCVBUF of the bound UDP socket: `granted` as getsockopt reads it (Linux: doubled), what was
   * `requested` (0: the kernel's default) and whether an operator set that; `rmemMax` and `capped`
   * when /proc says net.core.rmem_max cut the request down (setsockopt caps silently, even as root).
   */
  receiveBuffer(): { granted: number; requested: number; configured: boolean; rmemMax?: number; capped: boolean } {
    const granted = this.#batched?.receiveBuffer() ?? this.#udp?.getRecvBufferSize() ?? 0;
    const { bytes: requested, configured } = this.#receiveBuffer;
    const rmemMax = readRmemMax();
    return {
      granted,
      requested,
      configured,
      ...(rmemMax !== undefined && { rmemMax }),
      capped: rmemMax !== undefined && requested > rmemMax,
    };
  }

  /** The port actually bound (differs from the asked one when that was 0). */
  get port(): number {
    return this.#batched?.port ?? this.#udp?.address().port ?? this.address.port;
  }

  /** The UDP I/O serving, and for batched the counters of its send side (answers deferred by EAGAIN). */
  udpStats(): { io: UdpIo; sent?: number; deferred?: number; sendErrors?: number } {
    if (!this.#lastBatched) return { io: 'dgram' };
    const { sent, deferred, sendErrors } = this.#lastBatched.stats();
    return { io: 'batched', sent, deferred, sendErrors };
  }

  /**
   * One datagram of a batch (batched UDP): as #onUdpMessage, but an answer at hand is returned to
   * leave with the batch's others; an UPDATE's comes later and is sent alone. The peer is the
   * handler's Transport: its address is made text only if something reads it.
   */
  #onBatchedMessage(sock: BatchedUdpSocket, msg: Buffer, peer: UdpPeer): Buffer | null {
    if (this.#stopping) return null;
    const out = this.#handler(msg, peer);
    if (out instanceof Promise) {
      const { address, port } = peer;
      this.#later(out, (o) => this.#batched === sock && sock.send(o, port, address));
      return null;
    }
    return out instanceof MessageStream ? null : out;
  }

  /** One UDP query: answered at once, or when its answer is ready (an UPDATE waits for the journal). */
  #onUdpMessage(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    // Stopping: no new queries; a resolver asks again, or another server.
    if (this.#stopping) return;
    const out = this.#handler(msg, { tcp: false, address: rinfo.address });
    if (out instanceof Promise) this.#later(out, (o) => this.#udp === udp && udp.send(o, rinfo.port, rinfo.address));
    else if (out && !(out instanceof MessageStream)) udp.send(out, rinfo.port, rinfo.address);
  }

  #accept(sock: net.Socket): void {
    sock.on('error', () => {});
    const via = { tcp: true, address: sock.remoteAddress ?? '' };
    const slot = this.#conns.open(sock, via.address);
    if (!slot) {
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    const conn: TcpConnection = { sock, via, slot, pending: Buffer.alloc(0), outstanding: 0, deadline: null };
    // RFC 7766 §6.2.3: a connection is idle when it has no query outstanding either. An answer
    // still being computed (an UPDATE waiting for its turn and its fsync) keeps it open; writing
    // that answer restarts the timer.
    // `on`, not setTimeout's own callback, which Node registers `once`: a timeout passed over
    // while an answer is outstanding must still be heard the next time.
    sock.on('timeout', () => {
      if (conn.outstanding === 0) sock.destroy();
    });
    sock.setTimeout(this.#idleMs);
    sock.on('close', () => {
      if (conn.deadline) clearTimeout(conn.deadline);
      this.#conns.close(slot);
    });
    sock.on('data', (chunk: Buffer) => this.#onTcpData(conn, chunk));
  }

  /** Bytes on a TCP connection: every whole length-prefixed message in them is answered in turn. */
  #onTcpData(conn: TcpConnection, chunk: Buffer): void {
    // Closed by stop(): what came after the answers in flight is not answered.
    if (conn.sock.writableEnded) return;
    conn.pending = conn.pending.length === 0 ? chunk : Buffer.concat([conn.pending, chunk]);
    this.#serveTcp(conn);
  }

  /**
   * Answers up to TCP_TURN whole messages of `conn.pending`. More than that waits for the next
   * turn of the event loop, with the socket paused, so one read of thousands of pipelined queries
   * cannot hold UDP and the other connections up until all of them are answered.
   */
  #serveTcp(conn: TcpConnection): void {
    const { sock, via } = conn;
    let pending = conn.pending;
    let whole = 0;
    // RFC 7766 §6.2.1: several queries may arrive on one connection; answer each in turn.
    while (pending.length >= 2 && whole < TCP_TURN) {
      const size = pending.readUInt16BE(0);
      if (pending.length < 2 + size) break;
      const msg = pending.subarray(2, 2 + size);
      pending = pending.subarray(2 + size);
      whole++;
      const out = this.#handler(msg, via);
      // RFC 7766 §7: responses may leave in another order than the queries came (UPDATE waits
      // for the journal); the message ID pairs them.
      if (out instanceof Promise) {
        conn.outstanding++;
        // Writing the answer restarts the idle period (Node refreshes the timer on each write).
        this.#later(
          out,
          (o) => sock.writable && sock.write(frame(o)),
          () => conn.outstanding--,
        );
      } else if (out instanceof MessageStream) {
        // A zone transfer: its messages go out as the socket drains; it counts as outstanding.
        conn.outstanding++;
        sendStream(sock, out, frame, () => conn.outstanding--);
      } else if (out) sock.write(frame(out));
    }
    conn.pending = pending;
    // Whole messages left for the next turn: they arrived, so no deadline runs for them.
    const more = pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0);
    // The deadline runs from a message's first byte: a message completed ends it, and what is
    // left over is the start of the next one, whose own deadline starts now.
    if (whole && conn.deadline) {
      clearTimeout(conn.deadline);
      conn.deadline = null;
    }
    const partial = pending.length > 0 && !more;
    const started = partial && !conn.deadline;
    if (started) conn.deadline = setTimeout(() => sock.destroy(), this.#messageMs);
    this.#conns.activity(conn.slot, partial, started);
    // Back-pressure: a client that sends queries but does not read the replies would otherwise
    // have them queued in our memory without bound. Read no more until they drain; if they never
    // do, the idle timeout closes the connection.
    if (!more && !sock.writableNeedDrain) {
      if (sock.isPaused()) sock.resume();
      return;
    }
    sock.pause();
    const next = () => {
      if (!sock.destroyed && !sock.writableEnded) this.#serveTcp(conn);
    };
    if (sock.writableNeedDrain) sock.once('drain', next);
    else setImmediate(next);
  }

  /** Sends `out`'s answer when it comes, unless the socket is gone by then. */
  #later(out: Promise<Buffer | null>, send: (o: Buffer) => unknown, settled?: () => void): void {
    const done: Promise<void> = out
      .then((o) => void (o && send(o)))
      // The handler never rejects; a socket closed under the answer is the client's loss only.
      .catch(() => {})
      .finally(() => {
        settled?.();
        this.#inflight.delete(done);
      });
    this.#inflight.add(done);
  }

  /**
   * A graceful stop (SIGTERM): the TCP listening socket closes and new UDP queries are ignored at
   * once; answers still being computed (UPDATEs waiting for the journal) go out, for at most
   * `graceMs`; then each TCP connection is ended after what was written to it has been sent, and
   * one still open `graceMs` later is destroyed.
   */
  async stop(graceMs = 2000): Promise<void> {
    this.#stopping = true;
    const tcp = this.#tcp;
    // close() calls back once every connection has closed; the listening socket closes now.
    const tcpClosed = new Promise<void>((r) => (tcp ? tcp.close(() => r()) : r()));
    const deadline = Date.now() + graceMs;
    // A loop: an answer in flight may come with a query that arrived while waiting.
    while (this.#inflight.size && Date.now() < deadline) await settled([...this.#inflight], deadline - Date.now());
    for (const c of this.#conns) c.end();
    if (!(await settled([tcpClosed], graceMs))) for (const c of this.#conns) c.destroy();
    await tcpClosed;
    await this.#closeUdp(graceMs);
    this.#tcp = null;
  }

  /** Closes the UDP socket; a batched one sends the answers EAGAIN kept first, for at most `graceMs`. */
  async #closeUdp(graceMs: number): Promise<void> {
    const udp = this.#udp;
    const batched = this.#batched;
    this.#udp = null;
    this.#batched = null;
    await new Promise<void>((r) => (udp ? udp.close(() => r()) : r()));
    await batched?.close(graceMs);
  }
}

/** True when every promise settled within `ms`, false when time ran out first. */
async function settled(promises: readonly Promise<unknown>[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), Math.max(0, ms))));
  const all = Promise.allSettled(promises).then(() => true as const);
  try {
    return await Promise.race([all, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
