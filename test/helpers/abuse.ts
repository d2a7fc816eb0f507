// What the TCP-abuse test and bench share: a UDP prober that measures answering while the abuse
// runs, the server's open sockets and RSS from /proc, and raw abusive TCP clients.

import dgram from 'node:dgram';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { buildQuery } from './raw.ts';

/** Open sockets of process `pid` (its fds that are sockets): listeners, connections, probes. */
export function socketsOf(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}

/** Open file descriptors of process `pid`. */
export const fdsOf = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

/** Resident set size of process `pid`, MiB. */
export const rssMiB = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

export interface ProbeResult {
  readonly sent: number;
  readonly answered: number;
  /** Latencies of the answered queries, ms, sorted. */
  readonly latencies: number[];
}

/** The q-quantile (0..1) of sorted values; NaN when there are none. */
export const quantile = (sorted: readonly number[], q: number): number =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;

/**
 * Sends `qname` A over UDP every `everyMs` until stopped; a query unanswered after `timeoutMs`
 * counts as lost. IDs cycle, so one prober runs for at most 65,536 outstanding queries.
 */
export function udpProber(port: number, qname: string, everyMs = 5, timeoutMs = 1000) {
  const sock = dgram.createSocket('udp4');
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let sent = 0;
  let id = 0;
  sock.on('message', (m) => {
    const at = sentAt.get(m.readUInt16BE(0));
    if (at === undefined) return;
    sentAt.delete(m.readUInt16BE(0));
    latencies.push(performance.now() - at);
  });
  sock.bind(0, '127.0.0.1');
  const timer = setInterval(() => {
    id = (id + 1) & 0xffff;
    sentAt.set(id, performance.now());
    sent++;
    sock.send(buildQuery(qname, 1, { id }), port, '127.0.0.1');
  }, everyMs);
  return {
    /** Stops sending, waits for late answers, and returns what was seen. */
    async stop(): Promise<ProbeResult> {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, timeoutMs));
      sock.close();
      return { sent, answered: latencies.length, latencies: [...latencies].sort((a, b) => a - b) };
    },
  };
}

/** Opens a TCP connection to the server from `localAddress`; errors are swallowed (the server may reset). */
export function openConnection(port: number, localAddress = '127.0.0.1'): Promise<AbuseConn> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress });
    const conn: AbuseConn = { sock, closed: false, closedAt: 0, openedAt: performance.now() };
    sock.on('error', () => {});
    sock.on('close', () => {
      conn.closed = true;
      conn.closedAt = performance.now();
    });
    sock.once('connect', () => resolve(conn));
    sock.once('error', () => resolve(conn));
  });
}

export interface AbuseConn {
  readonly sock: net.Socket;
  closed: boolean;
  /** performance.now() when the server closed it (0 while open). */
  closedAt: number;
  readonly openedAt: number;
}

/** A query framed for TCP (RFC 1035 §4.2.2). */
export function framed(msg: Buffer): Buffer {
  const f = Buffer.alloc(2 + msg.length);
  f.writeUInt16BE(msg.length, 0);
  msg.copy(f, 2);
  return f;
}
