// Stopping: a listener told to stop closes its listening socket at once, lets the answers still
// being computed go out (UPDATEs wait for the journal), then closes its connections; and a real
// gslbd sent SIGTERM while a TCP client has pipelined queries and UPDATEs open answers every one,
// exits 0, and starts again from a journal holding every change it acknowledged.

import { mkdtempSync, rmSync } from 'node:fs';
import dgram from 'node:dgram';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rcode, Type } from '../../src/0-base/constants.ts';
import { nameToText } from '../../src/0-base/name.ts';
import type { Handler } from '../../src/6-serve/handler.ts';
import { DnsListener, udpIo, type UdpIo } from '../../src/6-serve/server.ts';
import { signRequest } from '../../src/1-codec/tsig.ts';
import { dig } from '../helpers/dig.ts';
import { until } from '../helpers/listeners.ts';
import { bothProbed, fqdn, startOps, ZONE, type OpsServer } from '../helpers/ops.ts';
import { buildQuery, rcodeOf } from '../helpers/raw.ts';
import { add, makeKey, updateMessage } from '../update/helpers.ts';

/** A TCP DNS client that keeps reading until the server closes: every framed reply, in order. */
class Pipe {
  readonly replies: Buffer[] = [];
  readonly closed: Promise<void>;
  readonly #sock: net.Socket;

  constructor(port: number) {
    this.#sock = net.connect({ host: '127.0.0.1', port });
    let pending = Buffer.alloc(0);
    this.#sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        this.replies.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
    });
    this.#sock.on('error', () => {});
    this.closed = new Promise((resolve) => this.#sock.once('close', () => resolve()));
  }

  /** All of `msgs` in one write, each with its length (RFC 1035 §4.2.2). */
  send(msgs: Buffer[]): void {
    this.#sock.write(Buffer.concat(msgs.map((m) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]))));
  }

  destroy(): void {
    this.#sock.destroy();
  }
}

const ids = (replies: Buffer[]) => replies.map((r) => r.readUInt16BE(0)).sort((a, b) => a - b);

/** A handler that answers at once, except messages whose ID is in `slow`: those wait for release(). */
function gatedHandler(slow: Set<number>) {
  const waiting: (() => void)[] = [];
  const answer = (msg: Buffer) => {
    const out = Buffer.from(msg);
    out[2] = out[2]! | 0x80;
    return out;
  };
  const fn = (msg: Buffer) => {
    if (!slow.has(msg.readUInt16BE(0))) return answer(msg);
    return new Promise<Buffer>((resolve) => waiting.push(() => resolve(answer(msg))));
  };
  const handler: Handler = Object.assign(fn, {
    stats: { queries: 0, dropped: 0, errors: 0 },
    onUpdate: null,
    tsig: { keys: [], maxFudge: 300 },
    cookies: null,
  });
  return { handler, waiting, release: () => waiting.splice(0).forEach((go) => go()) };
}

const refused = (port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(false);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });

// Both UDP I/Os where batched UDP is built (native/udp-batch): its answers in flight go out with send().
const IOS: UdpIo[] = udpIo('batched').io === 'batched' ? ['dgram', 'batched'] : ['dgram'];

describe('DnsListener.stop', { timeout: 60_000 }, () => {
  it.each(IOS)(
    'stops accepting at once, sends the answers in flight over TCP and UDP (%s), then closes the connection',
    async (io) => {
      const gate = gatedHandler(new Set([2, 7]));
      const l = new DnsListener({ host: '127.0.0.1', port: 0 }, gate.handler, { io });
      await l.start();
      const pipe = new Pipe(l.port);
      pipe.send([1, 2, 3].map((id) => buildQuery('a.example.', Type.A, { id })));
      const udp = dgram.createSocket('udp4');
      const udpReplies: Buffer[] = [];
      udp.on('message', (m) => udpReplies.push(m));
      udp.send(buildQuery('b.example.', Type.A, { id: 7 }), l.port, '127.0.0.1');
      await until(
        () => pipe.replies.length === 2 && gate.waiting.length === 2,
        5000,
        'the quick answers and both slow queries',
      );

      const stopped = l.stop();
      await until(() => refused(l.port), 5000, 'new connections refused');
      // A query arriving over UDP now is not answered: the listener is stopping.
      udp.send(buildQuery('c.example.', Type.A, { id: 8 }), l.port, '127.0.0.1');
      gate.release();
      await stopped;
      await pipe.closed;
      expect(ids(pipe.replies)).toEqual([1, 2, 3]);
      expect(ids(udpReplies)).toEqual([7]);
      udp.close();
    },
  );

  it('gives up on an answer that does not come within the grace period', async () => {
    const gate = gatedHandler(new Set([5]));
    const l = new DnsListener({ host: '127.0.0.1', port: 0 }, gate.handler);
    await l.start();
    const pipe = new Pipe(l.port);
    pipe.send([buildQuery('a.example.', Type.A, { id: 4 }), buildQuery('a.example.', Type.A, { id: 5 })]);
    await until(() => pipe.replies.length === 1 && gate.waiting.length === 1, 5000, 'one answer and one held');
    await l.stop(200);
    await pipe.closed;
    expect(ids(pipe.replies)).toEqual([4]);
    // Released after the stop: it has nowhere to go, and must not throw.
    gate.release();
  });
});

describe('SIGTERM', { timeout: 60_000 }, () => {
  const key = makeKey('lifecycle-key.');
  const keyFlag = `${nameToText(key.name).replace(/\.$/, '')}:${key.algorithm}:${key.base64}`;
  const data = mkdtempSync(path.join(os.tmpdir(), 'gslbd-ops-lifecycle-'));
  const args = ['--data', data, '--tsig-key', keyFlag];
  let first: OpsServer | undefined;
  let second: OpsServer | undefined;
  afterAll(async () => {
    await second?.stop();
    if (first?.gslbd.proc.exitCode === null) await first.stop();
    await Promise.all([first?.a.stop(), first?.b.stop()]);
    if (first) rmSync(first.zones, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  });

  it('answers every pipelined query and UPDATE, exits 0, and the journal holds every acknowledged change', async () => {
    first = await startOps({ args });
    await bothProbed(first);
    const override = `/v1/zones/${ZONE}/pools/both/targets/198.51.100.62/override`;
    expect((await first.api('PUT', override, { state: 'drain', reason: 'before the restart' })).status).toBe(200);

    // Queries and signed UPDATEs, interleaved, in one write; SIGTERM once the first answer is back.
    const msgs: Buffer[] = [];
    const updates = new Set<number>();
    for (let i = 0; i < 10; i++) {
      msgs.push(buildQuery(fqdn('failover'), Type.A, { id: 100 + i }));
      if (i % 2 === 0) {
        const id = 200 + i;
        updates.add(id);
        const plain = updateMessage(ZONE, { id, update: [await add(`sigterm-${i}.${ZONE} 60 IN TXT "kept"`)] });
        msgs.push(signRequest(plain, key, Date.now()).message);
      }
    }
    const pipe = new Pipe(first.gslbd.port);
    pipe.send(msgs);
    await until(() => pipe.replies.length >= 1, 5000, 'a first answer');
    const exited = new Promise<number | null>((resolve) => first!.gslbd.proc.once('exit', (code) => resolve(code)));
    first.gslbd.proc.kill('SIGTERM');
    await pipe.closed;
    expect(await exited).toBe(0);
    expect(first.gslbd.logs.some((l) => l.msg === 'SIGTERM: stopping')).toBe(true);

    expect(ids(pipe.replies)).toEqual(msgs.map((m) => m.readUInt16BE(0)).sort((a, b) => a - b));
    for (const r of pipe.replies) expect(rcodeOf(r), `reply ${r.readUInt16BE(0)}`).toBe(Rcode.NOERROR);
    expect(updates.size).toBe(5);

    second = await startOps({ args, reuse: first });
    const replay = await second.gslbd.waitForLog((l) => l.msg === 'journal replayed');
    expect(replay.changesets).toBeGreaterThanOrEqual(1 + updates.size);
    expect(second.gslbd.logs.some((l) => l.msg === 'journal: torn last record dropped')).toBe(false);
    for (const id of updates) {
      const r = await dig(second.gslbd.port, [`sigterm-${id - 200}.${ZONE}`, 'TXT']);
      expect(r.answer.map((rr) => rr.data)).toEqual(['"kept"']);
    }
    expect((await dig(second.gslbd.port, [fqdn('both'), 'A'])).answer.map((rr) => rr.data)).toEqual(['198.51.100.61']);
    expect((await second.api('GET', `/v1/zones/${ZONE}/pools/both/targets/198.51.100.62`)).body).toMatchObject({
      state: 'drain',
      reason: 'before the restart',
    });
  });
});

describe('the TCP idle timeout', { timeout: 30_000 }, () => {
  it('does not close a connection while an answer to it is still being computed (RFC 7766 §6.2.3)', async () => {
    const gate = gatedHandler(new Set([9]));
    const l = new DnsListener({ host: '127.0.0.1', port: 0 }, gate.handler, { tcpIdleMs: 300 });
    await l.start();
    const pipe = new Pipe(l.port);
    let closedAt = 0;
    void pipe.closed.then(() => (closedAt = Date.now()));
    pipe.send([buildQuery('a.example.', Type.A, { id: 9 })]);
    await until(() => gate.waiting.length === 1, 5000, 'the slow query held');
    // Three idle periods pass with the answer outstanding: the connection is not idle, it waits.
    await new Promise((r) => setTimeout(r, 1000));
    expect(closedAt).toBe(0);
    const released = Date.now();
    gate.release();
    await until(() => pipe.replies.length === 1, 5000, 'the answer');
    // Once answered, the connection is idle again and closes after one idle period.
    await pipe.closed;
    expect([ids(pipe.replies), closedAt - released >= 250]).toEqual([[9], true]);
    await l.stop();
  });
});
