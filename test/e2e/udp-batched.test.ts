// Batched UDP I/O (native/udp-batch, `--io batched|dgram`, `io:` in gslbd.yaml) on a real gslbd:
// which path serves and why, the fallback to node:dgram with its warning, workers each with their
// own batched socket, and back-pressure: answers the kernel would not take at once (EAGAIN) are
// kept and sent when the socket is writable, none dropped. The core and differential tests run on
// both paths (this suite's default, batched, and test/e2e/io-dgram.test.ts).

import { execFile, execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { ROOT, runCli, startGslbd } from '../helpers/gslbd.ts';
import { labUnavailable } from '../helpers/netns.ts';
import { buildQuery, udpExchange } from '../helpers/raw.ts';
import { BatchedUdpSocket, loadBatchedUdp, type UdpPeer } from '../../src/6-serve/batched-udp.ts';

// This file says which I/O each server uses (or leaves the default), whatever the suite was given.
delete process.env.GSLBD_IO;
const ZONES = ['--zones', path.join(ROOT, 'zones')];
const MODULE = path.join(ROOT, 'native/udp-batch/build/Release/udp_batch.node');
const listening = (logs: Record<string, unknown>[]) => logs.filter((l) => l.msg === 'listening');

async function served(args: string[], env: Record<string, string> = {}) {
  const s = await startGslbd([...ZONES, ...args], env);
  try {
    const answer = (await dig(s.port, ['www.example.com', 'A'])).answer.map((r) => r.data);
    return { logs: s.logs, answer };
  } finally {
    await s.stop();
  }
}

// npm install builds the module wherever a C compiler is; a machine without one serves dgram.
describe.skipIf(!existsSync(MODULE))('which UDP I/O serves', () => {
  it('reads and writes UDP in batches by default', async () => {
    const r = await served([]);
    expect(listening(r.logs)[0]).toMatchObject({ io: 'batched' });
    expect(r.answer).toEqual(['192.0.2.10']);
  });

  it('serves through node:dgram with --io dgram, and with io: dgram in gslbd.yaml', async () => {
    expect(listening((await served(['--io', 'dgram'])).logs)[0]).toMatchObject({ io: 'dgram' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-io-'));
    writeFileSync(path.join(dir, 'gslbd.yaml'), 'io: dgram\n');
    const r = await served(['--config', path.join(dir, 'gslbd.yaml')]);
    expect(listening(r.logs)[0]).toMatchObject({ io: 'dgram' });
    expect(r.answer).toEqual(['192.0.2.10']);
  });

  it('falls back to node:dgram with a warning when the module cannot be used', async () => {
    const r = await served(['--io', 'batched'], { GSLBD_NATIVE: '0' });
    expect(listening(r.logs)[0]).toMatchObject({ io: 'dgram' });
    const warned = r.logs.filter((l) => l.msg === 'batched UDP unavailable: UDP is served through node:dgram');
    expect(warned).toEqual([expect.objectContaining({ level: 40, reason: 'GSLBD_NATIVE=0' })]);
    expect(r.answer).toEqual(['192.0.2.10']);
  });

  it('gives each worker a batched socket of its own on the same address', async () => {
    const s = await startGslbd([...ZONES, '--workers', '2', '--listen', '127.0.0.1:0']);
    try {
      await s.waitForLog((l) => l.msg === 'workers ready', 20_000);
      // Each worker thread writes its own lines: the second may follow 'workers ready'.
      const first = listening(s.logs)[0]!;
      await s.waitForLog((l) => l.msg === 'listening' && l.thread !== first.thread, 10_000);
      const workers = listening(s.logs);
      expect(workers).toHaveLength(2);
      for (const l of workers) expect(l).toMatchObject({ io: 'batched', port: s.port });
      // Each from a socket of its own: the kernel spreads source ports over both workers.
      const replies = await Promise.all(
        Array.from({ length: 40 }, (_, id) => udpExchange(s.port, buildQuery('www.example.com', 1, { id }), 2000)),
      );
      expect(replies.every((r) => r !== null)).toBe(true);
    } finally {
      await s.stop();
    }
  }, 30_000);
});

// The module itself, in this process: who sent each datagram of a batch, as the handler reads it.
describe.skipIf(!existsSync(MODULE))('the sender of a batched datagram', () => {
  /**
   * Sends `messages` from one client socket on `host` to a batched socket; what onMessage saw of
   * each, its peer's address read during the call only if `read`.
   */
  async function exchange(host: string, messages: Buffer[], read = true) {
    const mod = loadBatchedUdp();
    if (mod instanceof Error) throw mod;
    const seen: { peer: UdpPeer; during: string | null; opcode: number }[] = [];
    const client = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const replies: Buffer[] = [];
    client.on('message', (m) => replies.push(m));
    await new Promise<void>((resolve) => client.bind(0, host, () => resolve()));
    const sock = new BatchedUdpSocket(mod, { host, port: 0, reusePort: false, receiveBuffer: 0 }, (msg, peer) => {
      seen.push({ peer, during: read ? peer.address : null, opcode: (msg[2]! >> 3) & 0xf });
      return Buffer.from(msg);
    });
    try {
      for (const m of messages) client.send(m, sock.port, host);
      for (let t = 0; t < 100 && replies.length < messages.length; t++) await new Promise((r) => setTimeout(r, 20));
      expect(replies).toHaveLength(messages.length);
      return { seen, clientPort: client.address().port };
    } finally {
      client.close();
      await sock.close();
    }
  }

  it('is the client address and port, over IPv4 and IPv6, read while the datagram is handled', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const { seen, clientPort } = await exchange(host, [buildQuery('www.example.com', 1)]);
      expect(seen).toHaveLength(1);
      expect(seen[0]!.during).toBe(host);
      expect(seen[0]!.peer.port).toBe(clientPort);
      expect(seen[0]!.peer.tcp).toBe(false);
      // Read once, kept: the same text afterwards.
      expect(seen[0]!.peer.address).toBe(host);
    }
  });

  it("is read at once for a message that is not a QUERY (an UPDATE's answer comes later), and refused after its batch otherwise", async () => {
    const update = buildQuery('example.com', 6, { flags: 5 << 11 });
    const query = buildQuery('www.example.com', 1);
    const { seen, clientPort } = await exchange('127.0.0.1', [update, query], false);
    expect(seen.map((s) => s.opcode)).toEqual([5, 0]);
    expect(seen[0]!.peer.address).toBe('127.0.0.1');
    expect(seen[0]!.peer.port).toBe(clientPort);
    // The QUERY's address, which nobody read while it was handled: its slot is another's now.
    expect(() => seen[1]!.peer.address).toThrow(/after its batch/);
    expect(seen[1]!.peer.port).toBe(clientPort);
  });
});

describe('--io and io: that are not a UDP I/O', () => {
  it('refuses --io fast before binding anything', async () => {
    const r = await runCli(['serve', ...ZONES, '--io', 'fast', '--listen', '127.0.0.1:0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--io fast: batched or dgram');
  });

  it('refuses io: fast in gslbd.yaml with the file and line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-io-'));
    const file = path.join(dir, 'gslbd.yaml');
    writeFileSync(file, 'workers: 1\nio: fast\n');
    const r = await runCli(['serve', ...ZONES, '--config', file, '--listen', '127.0.0.1:0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${file}:2: io: "fast" is not one of batched | dgram`);
  });
});

/**
 * Back-pressure needs a socket whose send buffer fills: on a plain loopback it never does (an
 * answer leaves the buffer as it is sent). In a network namespace of its own, loopback gets a slow
 * queue (tbf, 2 Mbit/s, room for 8 MB), so answers wait in it and hold the send buffer; a burst of
 * queries then meets EAGAIN. Every query must be answered all the same.
 */
describe.skipIf(labUnavailable() ?? !existsSync(MODULE))('back-pressure (EAGAIN on send)', () => {
  const ns = `gslbd-bp-${process.pid % 100000}`;
  const BURST = 3000;
  beforeAll(() => {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    execFileSync('tc', [
      '-n',
      ns,
      'qdisc',
      'add',
      'dev',
      'lo',
      'root',
      'tbf',
      'rate',
      '2mbit',
      'burst',
      '16k',
      'limit',
      '8mb',
    ]);
  });
  afterAll(() => {
    execFileSync('ip', ['netns', 'del', ns]);
  });

  for (const io of ['batched', 'dgram'] as const) {
    it(`answers every query of a burst the socket could not take at once (${io})`, async () => {
      const s = await startGslbd([...ZONES, '--io', io], {}, { wrap: ['ip', 'netns', 'exec', ns] });
      try {
        const { stdout } = await promisify(execFile)('ip', [
          ...['netns', 'exec', ns, process.execPath, '--disable-warning=ExperimentalWarning'],
          ...[path.join(ROOT, 'test/helpers/udp-burst-client.ts'), '127.0.0.1', String(s.port), String(BURST)],
        ]);
        expect(JSON.parse(stdout)).toEqual({ sent: BURST, answered: BURST });
      } finally {
        await s.stop();
      }
      if (io === 'batched') {
        const sends = s.logs.find((l) => l.msg === 'UDP sends');
        // The burst did meet EAGAIN (else this test proves nothing), and nothing was lost.
        expect(sends).toMatchObject({ io: 'batched', sent: BURST, sendErrors: 0 });
        expect(sends!.deferred).toBeGreaterThan(0);
      }
    }, 40_000);
  }
});
