// Large writes: what one API batch of N `add-target` changes, one signed RFC 2136 UPDATE adding N
// A records to a pool, and one UPDATE whose prerequisite section names that pool's whole A RRset
// (RFC 2136 §2.4.2, in reverse order), cost, and how long answering stalls meanwhile.
//
// Run: scripts/node24.sh node bench/big-writes.ts [--sizes 1000,2000,4000,10000] [--max-changes N]
//
// A real gslbd (--workers 1, loopback only) serves one zone with one pool per size and case. While
// each write runs, this process sends a UDP query for a static name every 2 ms and times each
// answer: the slowest answer is the stall a client sees, and answers slower than 50 ms are counted.
// The addresses written are data only (198.18.0.0/15, RFC 2544's benchmark range): the pools have
// no health check, so nothing is ever sent to them.

import dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Type } from '../src/0-base/constants.ts';
import { signRequest } from '../src/1-codec/tsig.ts';
import { buildQuery } from '../test/helpers/raw.ts';
import { keyFlag } from '../test/helpers/nsupdate.ts';
import { makeKey, updateMessage } from '../test/update/helpers.ts';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,2000,4000,10000' },
    'max-changes': { type: 'string', default: '100000' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ZONE = 'writes.test.';
const TOKEN = `bench-${Math.random().toString(36).slice(2)}`;
const key = makeKey('bench-key.', 'hmac-sha256', [ZONE]);

const address = (i: number) => `198.18.${(i >> 8) & 0xff}.${i & 0xff}`;

function writeZones(dir: string): void {
  writeFileSync(
    path.join(dir, `${ZONE}zone`),
    [
      `$ORIGIN ${ZONE}`,
      '$TTL 300',
      '@ SOA ns1 hostmaster 1 3600 600 86400 60',
      '@ NS ns1',
      'ns1 A 192.0.2.1',
      'static A 192.0.2.2',
      '',
    ].join('\n'),
  );
  const pools = SIZES.flatMap((n) =>
    ['api', 'update'].flatMap((kind) => [
      `${kind}${n}:`,
      '  policy: round-robin',
      '  targets:',
      '    - { address: 192.0.2.10 }',
    ]),
  );
  writeFileSync(path.join(dir, `${ZONE}pools.yaml`), pools.join('\n') + '\n');
}

interface Server {
  readonly dns: number;
  readonly api: number;
  stop(): void;
}

async function start(dir: string, data: string): Promise<Server> {
  const config = path.join(dir, 'gslbd.yaml');
  writeFileSync(
    config,
    [
      `zones: ${dir}`,
      'api:',
      '  listen: 127.0.0.1:0',
      '  tokens:',
      `    - { name: bench, token: ${TOKEN}, access: write }`,
      '',
    ].join('\n'),
  );
  const proc = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      path.join(ROOT, 'src/9-main/cli.ts'),
      'serve',
      '--config',
      config,
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '1',
      '--data',
      data,
      '--tsig-key',
      keyFlag(key),
      '--max-changes',
      values['max-changes']!,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, GSLBD_LOG_LEVEL: 'info' } },
  );
  let dns = 0;
  let api = 0;
  let text = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr!.on('data', (c: Buffer) => {
      text += c.toString();
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const l = JSON.parse(line) as { msg: string; port?: number };
          if (l.msg === 'listening') dns = l.port!;
          if (l.msg === 'api listening') api = l.port!;
        } catch {
          /* a line still being written */
        }
      }
      if (dns && api) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`gslbd exited ${code}: ${text}`)));
  });
  return { dns, api, stop: () => proc.kill('SIGTERM') };
}

/** Sends a query every 2 ms until `stop()`; each answer's latency in ms (Infinity: none within 1 s). */
function prober(port: number): { stop(): Promise<number[]> } {
  const sock = dgram.createSocket('udp4');
  const sent = new Map<number, number>();
  const latencies: number[] = [];
  let id = 0;
  sock.on('message', (msg) => {
    const at = sent.get(msg.readUInt16BE(0));
    if (at === undefined) return;
    sent.delete(msg.readUInt16BE(0));
    latencies.push(performance.now() - at);
  });
  const timer = setInterval(() => {
    id = (id + 1) & 0xffff;
    sent.set(id, performance.now());
    sock.send(buildQuery(`static.${ZONE}`, Type.A, { id }), port, '127.0.0.1');
  }, 2);
  return {
    async stop() {
      clearInterval(timer);
      await new Promise((r) => setTimeout(r, 1000));
      sock.close();
      return [...latencies, ...[...sent.values()].map(() => Infinity)];
    },
  };
}

async function tcpExchange(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    let got = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      got = Buffer.concat([got, c]);
      if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) {
        s.end();
        resolve(got.subarray(2, 2 + got.readUInt16BE(0)));
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error('connection closed before the answer')));
    s.write(Buffer.concat([len, msg]));
  });
}

async function measure(server: Server, what: () => Promise<string>): Promise<string> {
  const p = prober(server.dns);
  await new Promise((r) => setTimeout(r, 200));
  const t0 = performance.now();
  let outcome: string;
  try {
    outcome = await what();
  } catch (e) {
    outcome = `error: ${(e as Error).message}`;
  }
  const took = performance.now() - t0;
  const lat = await p.stop();
  const answered = lat.filter(Number.isFinite);
  const max = Math.max(...answered);
  const slow = answered.filter((x) => x > 50).length;
  const lost = lat.length - answered.length;
  return `${took.toFixed(0).padStart(6)} ms | slowest answer ${max.toFixed(1).padStart(6)} ms | >50 ms: ${String(slow).padStart(3)} | unanswered: ${lost} | ${outcome}`;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-bench-writes-'));
const data = mkdtempSync(path.join(os.tmpdir(), 'gslbd-bench-writes-data-'));
writeZones(dir);
const server = await start(dir, data);
try {
  for (const n of SIZES) {
    const batch = {
      changes: Array.from({ length: n }, (_, i) => ({
        op: 'add-target',
        zone: ZONE,
        pool: `api${n}`,
        address: address(i),
      })),
    };
    const api = await measure(server, async () => {
      const res = await fetch(`http://127.0.0.1:${server.api}/v1/batch`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(batch),
      });
      return `HTTP ${res.status}`;
    });
    console.log(`API batch  N=${String(n).padStart(6)} | ${api}`);
    // The owner of each RR is one label and a pointer to the zone name at offset 12 (RFC 1035
    // §4.1.4), so that as many records as possible fit in one message of 65535 octets.
    const owner = Buffer.concat([
      Buffer.from([`update${n}`.length]),
      Buffer.from(`update${n}`),
      Buffer.from([0xc0, 12]),
    ]);
    const rrs = Array.from({ length: n }, (_, i) => {
      const fixed = Buffer.alloc(14);
      fixed.writeUInt16BE(Type.A, 0);
      fixed.writeUInt16BE(1, 2);
      fixed.writeUInt32BE(60, 4);
      fixed.writeUInt16BE(4, 8);
      Buffer.from(address(i).split('.').map(Number)).copy(fixed, 10);
      return Buffer.concat([owner, fixed]);
    });
    const unsigned = updateMessage(ZONE);
    unsigned.writeUInt16BE(n, 8);
    const message = Buffer.concat([unsigned, ...rrs]);
    if (message.length > 65535 - 100) {
      console.log(`UPDATE     N=${String(n).padStart(6)} | does not fit in one DNS message (${message.length} octets)`);
      continue;
    }
    const signed = signRequest(message, key, Date.now()).message;
    const upd = await measure(server, async () => {
      const reply = await tcpExchange(server.dns, signed);
      return `rcode ${reply.readUInt16BE(2) & 0xf}`;
    });
    console.log(`UPDATE     N=${String(n).padStart(6)} | ${upd}`);
    // The pool's A RRset is now its first target and the N addresses: each a prerequisite (class
    // IN, TTL 0), last first, so a pairwise comparison would do the most work.
    const prereqs = [[192, 0, 2, 10], ...Array.from({ length: n }, (_, i) => address(i).split('.').map(Number))]
      .reverse()
      .map((a) => {
        const fixed = Buffer.alloc(14);
        fixed.writeUInt16BE(Type.A, 0);
        fixed.writeUInt16BE(1, 2);
        fixed.writeUInt16BE(4, 8);
        Buffer.from(a).copy(fixed, 10);
        return Buffer.concat([owner, fixed]);
      });
    const checking = updateMessage(ZONE);
    checking.writeUInt16BE(prereqs.length, 6);
    const pre = await measure(server, async () => {
      const reply = await tcpExchange(
        server.dns,
        signRequest(Buffer.concat([checking, ...prereqs]), key, Date.now()).message,
      );
      return `rcode ${reply.readUInt16BE(2) & 0xf}`;
    });
    console.log(`PREREQ     N=${String(n + 1).padStart(6)} | ${pre}`);
  }
} finally {
  server.stop();
  await new Promise((r) => setTimeout(r, 500));
  rmSync(dir, { recursive: true, force: true });
  rmSync(data, { recursive: true, force: true });
}
