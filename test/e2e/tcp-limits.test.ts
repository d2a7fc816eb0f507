// RFC 7766 §10 limits on DNS over TCP, against real gslbd processes with small limits: slow-drip
// clients (one byte at a time, never a whole message) are closed at the per-message deadline, a
// new client is answered even while they hold every slot, the idlest connection makes room, and
// one client address cannot take more than its share.

import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { gslbdForTests, ROOT } from '../helpers/gslbd.ts';
import { buildQuery, headerOf } from '../helpers/raw.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const A = 1;
const MAX = 8;

// The idle timeout (30 s) is far beyond every wait here: whatever closes a connection in these
// tests is the limit under test.
const capped = gslbdForTests([
  '--zones',
  ZONES,
  '--tcp-max-connections',
  String(MAX),
  '--tcp-message-timeout',
  '1',
  '--tcp-idle-timeout',
  '30',
]);
const perClient = gslbdForTests([
  '--zones',
  ZONES,
  '--tcp-max-connections-per-client',
  '3',
  '--tcp-idle-timeout',
  '30',
]);

interface Conn {
  readonly sock: net.Socket;
  /** True once the server has closed (or reset) it. */
  readonly isClosed: () => boolean;
  /** Resolves true once closed, false if still open after `ms`. */
  closedWithin(ms: number): Promise<boolean>;
  /** Sends one framed query; resolves with the reply, or null if none came within `ms`. */
  ask(msg: Buffer, ms?: number): Promise<Buffer | null>;
}

async function connect(port: number, localAddress = '127.0.0.1'): Promise<Conn> {
  const sock = net.connect({ port, host: '127.0.0.1', localAddress });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.on('error', () => {});
  let closed = false;
  const closing = new Promise<true>((resolve) =>
    sock.once('close', () => {
      closed = true;
      resolve(true);
    }),
  );
  let pending = Buffer.alloc(0);
  let onReply: ((b: Buffer) => void) | null = null;
  sock.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    if (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const reply = pending.subarray(2, 2 + pending.readUInt16BE(0));
      pending = pending.subarray(2 + reply.length);
      onReply?.(reply);
    }
  });
  return {
    sock,
    isClosed: () => closed,
    closedWithin: (ms) => Promise.race([closing, sleep(ms, false)]),
    ask: (msg, ms = 2000) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(null), ms);
        const done = (b: Buffer | null) => {
          clearTimeout(timer);
          resolve(b);
        };
        onReply = done;
        void closing.then(() => done(null));
        const frame = Buffer.alloc(2 + msg.length);
        frame.writeUInt16BE(msg.length);
        msg.copy(frame, 2);
        sock.write(frame);
      }),
  };
}

/**
 * Sends a framed query one byte every `everyMs` (the length first, so the server is always inside
 * a message), stopping when the connection closes or after `maxBytes` (never the whole message).
 */
function drip(c: Conn, everyMs: number, maxBytes: number): Promise<void> {
  const q = buildQuery('www.example.net', A);
  const frame = Buffer.alloc(2 + q.length);
  frame.writeUInt16BE(q.length);
  q.copy(frame, 2);
  const bytes = Math.min(maxBytes, frame.length - 1);
  return (async () => {
    for (let i = 0; i < bytes && !c.isClosed(); i++) {
      c.sock.write(frame.subarray(i, i + 1));
      await sleep(everyMs);
    }
  })();
}

const answered = (reply: Buffer | null) =>
  reply !== null && headerOf(reply).rcode === 0 && headerOf(reply).ancount === 1;

describe('slow-drip clients (RFC 7766 §10)', () => {
  it('are closed at the per-message deadline, and a new dig +tcp client is answered while they fill every slot', async () => {
    const drippers = await Promise.all(Array.from({ length: MAX }, () => connect(capped.server.port)));
    // A byte every 200 ms restarts an idle timer each time; 25 bytes would take 5 s.
    const dripping = drippers.map((c) => drip(c, 200, 25));
    await sleep(300);
    expect(drippers.filter((c) => c.isClosed())).toEqual([]);
    const r = await dig(capped.server.port, ['www.example.net', 'A', '+tcp']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
    // One dripper made room for dig; the others reach the 1 s deadline of the message they began.
    const closed = await Promise.all(drippers.map((c) => c.closedWithin(4000)));
    expect(closed).toEqual(drippers.map(() => true));
    await Promise.all(dripping);
  });

  it('close the idlest connection to make room, not the new one, when every slot is taken', async () => {
    const conns: Conn[] = [];
    // Each asks once, in turn: the first is the one idle longest.
    for (let i = 0; i < MAX; i++) {
      const c = await connect(capped.server.port);
      expect(answered(await c.ask(buildQuery('www.example.net', A)))).toBe(true);
      conns.push(c);
    }
    // The first asks again: now the second is the idlest.
    expect(answered(await conns[0]!.ask(buildQuery('www.example.net', A)))).toBe(true);
    const late = await connect(capped.server.port);
    expect(answered(await late.ask(buildQuery('www.example.net', A)))).toBe(true);
    expect(await conns[1]!.closedWithin(2000)).toBe(true);
    expect(conns.map((c) => c.isClosed())).toEqual(conns.map((_, i) => i === 1));
    for (const c of [...conns, late]) c.sock.destroy();
  });
});

describe('--tcp-max-connections-per-client', () => {
  it("closes a client address's connection beyond its share at once, while other addresses are served", async () => {
    const mine = await Promise.all([1, 2, 3].map(() => connect(perClient.server.port)));
    for (const c of mine) expect(answered(await c.ask(buildQuery('www.example.net', A)))).toBe(true);
    const fourth = await connect(perClient.server.port);
    expect(await fourth.closedWithin(2000)).toBe(true);
    // Another loopback address is another client.
    const other = await connect(perClient.server.port, '127.0.0.2');
    expect(answered(await other.ask(buildQuery('www.example.net', A)))).toBe(true);
    // A connection closed gives the address its slot back.
    mine[0]!.sock.destroy();
    await mine[0]!.closedWithin(2000);
    await sleep(100);
    const again = await connect(perClient.server.port);
    expect(answered(await again.ask(buildQuery('www.example.net', A)))).toBe(true);
    for (const c of [...mine, other, again]) c.sock.destroy();
  });
});
