// Raw DNS messages over UDP and TCP, for tests that send what dig cannot (bad headers, fuzz).

import dgram from 'node:dgram';
import net from 'node:net';

/** Sends one datagram; resolves with the reply, or null if none came within `timeoutMs`. */
export function udpExchange(port: number, msg: Buffer, timeoutMs = 1000, host = '127.0.0.1'): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(null);
    }, timeoutMs);
    sock.once('message', (reply) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    });
    sock.send(msg, port, host);
  });
}

/**
 * Opens a TCP connection (from `from`, when given), sends `msgs` framed (RFC 1035 §4.2.2) in one
 * write, collects `expect` replies.
 */
export function tcpExchange(
  port: number,
  msgs: Buffer[],
  expect = msgs.length,
  timeoutMs = 3000,
  host = '127.0.0.1',
  from?: string,
): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host, ...(from && { localAddress: from }) });
    const replies: Buffer[] = [];
    let pending: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(replies);
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(
        Buffer.concat(
          msgs.map((m) => {
            const f = Buffer.alloc(2 + m.length);
            f.writeUInt16BE(m.length);
            m.copy(f, 2);
            return f;
          }),
        ),
      );
    });
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        replies.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (replies.length >= expect) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      if (replies.length) resolve(replies);
      else reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(replies);
    });
  });
}

/** One EDNS option (RFC 6891 §6.1.2): its code, the length of `data`, then `data`. */
export function ednsOption(code: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(code, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}

/** A minimal query: header + one question (+ an OPT when `edns` is given). */
export function buildQuery(
  name: string,
  qtype: number,
  opts: {
    id?: number;
    flags?: number;
    edns?: { payload?: number; version?: number; do?: boolean; co?: boolean; options?: Buffer };
  } = {},
): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  const qname = Buffer.concat([
    ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')])),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(opts.id ?? 0x1234, 0);
  header.writeUInt16BE(opts.flags ?? 0, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(opts.edns ? 1 : 0, 10);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(qtype, 0);
  q.writeUInt16BE(1, 2);
  const parts: Buffer[] = [header, qname, q];
  if (opts.edns) {
    const o = opts.edns.options ?? Buffer.alloc(0);
    const opt = Buffer.alloc(11);
    opt.writeUInt16BE(41, 1);
    opt.writeUInt16BE(opts.edns.payload ?? 1232, 3);
    opt[6] = opts.edns.version ?? 0;
    opt.writeUInt16BE((opts.edns.do ? 0x8000 : 0) | (opts.edns.co ? 0x4000 : 0), 7);
    opt.writeUInt16BE(o.length, 9);
    parts.push(opt, o);
  }
  return Buffer.concat(parts);
}

export const rcodeOf = (reply: Buffer): number => reply.readUInt16BE(2) & 0xf;

export interface Header {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly rcode: number;
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

/** The RFC 1035 §4.1.1 header of a message. */
export function headerOf(msg: Buffer): Header {
  const flags = msg.readUInt16BE(2);
  return {
    id: msg.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    rcode: flags & 0xf,
    qdcount: msg.readUInt16BE(4),
    ancount: msg.readUInt16BE(6),
    nscount: msg.readUInt16BE(8),
    arcount: msg.readUInt16BE(10),
  };
}

/**
 * Sends `request` (bytes as given: a request fetch() would refuse or reshape) over one TCP
 * connection and reads until the server closes it; the status, the headers and the body.
 */
export function httpExchange(
  port: number,
  request: string,
  timeoutMs = 5000,
  host = '127.0.0.1',
): Promise<{ status: number; headers: string; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no close within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on('connect', () => sock.end(request));
    sock.on('data', (c) => chunks.push(c));
    // The server may close before it has read everything sent: a reset after its answer is normal.
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, headers: end < 0 ? text : text.slice(0, end), body: end < 0 ? '' : text.slice(end + 4) });
    });
  });
}
