// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): 2-byte framing, pipelined queries answered in order,
// the idle timeout and the connection cap, over real sockets.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dig } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { buildQuery, headerOf, tcpExchange, udpExchange } from '../helpers/raw.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const A = 1;
const AAAA = 28;
const MX = 15;

/** One TCP connection we drive by hand: framed replies as they come, and when it closed. */
interface Conn {
  readonly sock: net.Socket;
  readonly replies: Buffer[];
  /** Resolves with the ms between connecting and the connection closing. */
  readonly closed: Promise<number>;
  /** Resolves once `n` replies have arrived in all, or with what came within `timeoutMs`. */
  waitReplies(n: number, timeoutMs?: number): Promise<Buffer[]>;
}

function frame(msg: Buffer): Buffer {
  const f = Buffer.alloc(2 + msg.length);
  f.writeUInt16BE(msg.length);
  msg.copy(f, 2);
  return f;
}

async function connect(port: number): Promise<Conn> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const opened = Date.now();
  const replies: Buffer[] = [];
  const waiters: (() => void)[] = [];
  let pending = Buffer.alloc(0);
  sock.on('error', () => {});
  sock.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      replies.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
      pending = pending.subarray(2 + pending.readUInt16BE(0));
    }
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((resolve) =>
    sock.once('close', () => {
      resolve(Date.now() - opened);
      for (const w of waiters.splice(0)) w();
    }),
  );
  const waitReplies = async (n: number, timeoutMs = 3000) => {
    const deadline = Date.now() + timeoutMs;
    while (replies.length < n && !sock.destroyed && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => waiters.push(r)), sleep(Math.max(1, deadline - Date.now()))]);
    }
    return replies;
  };
  return { sock, replies, closed, waitReplies };
}

/** Resolves with the close time, or null if the connection is still open after `timeoutMs`. */
const closedWithin = (c: Conn, timeoutMs: number) => Promise.race([c.closed, sleep(timeoutMs, null)]);

async function udpAnswers(port: number): Promise<void> {
  const reply = await udpExchange(port, buildQuery('www.example.net', A));
  expect(reply && headerOf(reply)).toMatchObject({ rcode: 0, ancount: 1 });
}

describe('TCP transport', () => {
  let server: Gslbd;
  beforeAll(async () => {
    server = await startGslbd(['--zones', ZONES]);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('answers dig over TCP', async () => {
    const r = await dig(server.port, ['www.example.net', 'A', '+tcp']);
    expect(r.protocol).toBe('TCP');
    expect(r.flags).toEqual(['qr', 'aa']);
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
  });

  it('frames each reply with its 2-byte length', async () => {
    const query = buildQuery('www.example.net', A, { id: 7 });
    const [reply] = await tcpExchange(server.port, [query]);
    expect(reply).toBeDefined();
    expect(headerOf(reply!)).toMatchObject({ id: 7, qr: true, aa: true, ancount: 1 });
  });

  it('answers a query whose length prefix and body arrive in separate segments', async () => {
    const c = await connect(server.port);
    try {
      const f = frame(buildQuery('www.example.net', AAAA, { id: 11 }));
      c.sock.write(f.subarray(0, 1));
      await sleep(50);
      c.sock.write(f.subarray(1, 2));
      await sleep(50);
      c.sock.write(f.subarray(2, 9));
      await sleep(50);
      c.sock.write(f.subarray(9));
      const [reply] = await c.waitReplies(1);
      expect(reply && headerOf(reply)).toMatchObject({ id: 11, rcode: 0, ancount: 1 });
    } finally {
      c.sock.destroy();
    }
  });

  it('answers pipelined queries sent in one write, each in turn, in order', async () => {
    const names = ['www.example.net', 'example.net', 'nothing.example.net', 'c1.example.net'];
    const types = [A, MX, A, AAAA];
    const queries = names.map((n, i) => buildQuery(n, types[i]!, { id: 100 + i }));
    const replies = await tcpExchange(server.port, queries);
    expect(replies.map((r) => headerOf(r).id)).toEqual([100, 101, 102, 103]);
    expect(replies.map((r) => headerOf(r).rcode)).toEqual([0, 0, 3, 0]);
    expect(replies.map((r) => headerOf(r).ancount)).toEqual([1, 3, 0, 4]);
    // Each reply echoes its own question.
    replies.forEach((r, i) => expect(r.subarray(12, queries[i]!.length).equals(queries[i]!.subarray(12))).toBe(true));
  });

  it('answers a second batch on the same connection after the first', async () => {
    const c = await connect(server.port);
    try {
      c.sock.write(frame(buildQuery('www.example.net', A, { id: 1 })));
      await c.waitReplies(1);
      c.sock.write(
        Buffer.concat([
          frame(buildQuery('www.example.net', AAAA, { id: 2 })),
          frame(buildQuery('ns1.example.net', A, { id: 3 })),
        ]),
      );
      const replies = await c.waitReplies(3);
      expect(replies.map((r) => headerOf(r).id)).toEqual([1, 2, 3]);
    } finally {
      c.sock.destroy();
    }
  });
});

describe('TCP idle timeout (--tcp-idle-timeout 1)', () => {
  let server: Gslbd;
  beforeAll(async () => {
    server = await startGslbd(['--zones', ZONES, '--tcp-idle-timeout', '1']);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('closes a connection that sends nothing after about a second', async () => {
    const c = await connect(server.port);
    const after = await closedWithin(c, 5000);
    c.sock.destroy();
    expect(after).not.toBeNull();
    expect(after!).toBeGreaterThanOrEqual(900);
    expect(after!).toBeLessThan(4000);
  }, 10_000);

  it('closes a connection about a second after its last answer', async () => {
    const c = await connect(server.port);
    await sleep(600);
    c.sock.write(frame(buildQuery('www.example.net', A)));
    const [reply] = await c.waitReplies(1);
    expect(reply && headerOf(reply).rcode).toBe(0);
    const after = await closedWithin(c, 5000);
    c.sock.destroy();
    expect(after).not.toBeNull();
    // The query at 600 ms restarted the clock: still open at 1 s, closed about 1 s after the answer.
    expect(after!).toBeGreaterThanOrEqual(1500);
  }, 10_000);

  it('answers over TCP and UDP after closing idle connections', async () => {
    const [reply] = await tcpExchange(server.port, [buildQuery('www.example.net', A)]);
    expect(reply && headerOf(reply).ancount).toBe(1);
    await udpAnswers(server.port);
  });
});

describe('TCP connection cap (--tcp-max-connections 2)', () => {
  let server: Gslbd;
  beforeAll(async () => {
    server = await startGslbd(['--zones', ZONES, '--tcp-max-connections', '2']);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('closes the connection idle longest for a third, which is answered, and keeps serving', async () => {
    const held = [await connect(server.port), await connect(server.port)];
    const extra: Conn[] = [];
    try {
      // Both held connections are in service: each is answered, the first one first.
      for (const [i, c] of held.entries()) {
        c.sock.write(frame(buildQuery('www.example.net', A, { id: i })));
        expect(await c.waitReplies(1)).toHaveLength(1);
      }
      // RFC 7766 §10: room is kept for new clients; the first held connection is the idlest.
      const third = await connect(server.port);
      extra.push(third);
      third.sock.write(frame(buildQuery('www.example.net', A, { id: 3 })));
      expect((await third.waitReplies(1)).map((r) => headerOf(r).id)).toEqual([3]);
      expect(await closedWithin(held[0]!, 3000)).not.toBeNull();

      // The other held connection and UDP are still answered.
      held[1]!.sock.write(frame(buildQuery('www.example.net', AAAA, { id: 4 })));
      expect((await held[1]!.waitReplies(2)).map((r) => headerOf(r).id)).toEqual([1, 4]);
      await udpAnswers(server.port);
    } finally {
      for (const c of [...held, ...extra]) c.sock.destroy();
    }
  }, 15_000);
});
