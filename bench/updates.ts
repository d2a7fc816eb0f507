// RFC 2136 UPDATE, end to end against a real gslbd (test/fixtures/update, a fresh --data directory
// on the temp file system, so every acknowledged update is fsync'd):
//
// latency     N sequential TSIG-signed UPDATEs over UDP, half adding an A RR at a new name, half
//             replacing a target of a pool (delete the one added last, add a new one). For each:
//             ack = send → NOERROR; visible = send → the first answer (raw UDP queries, polled back
//             to back from the moment of sending) that has it. Once on the zone as its file has it,
//             once after 5,000 dynamic RRsets were added (publishing costs grow with them).
// concurrent  C clients each sending UPDATEs back to back for a while: acknowledged updates/s
//             (concurrent appends share one write and one fsync).
// nsupdate    one `nsupdate` process sending K updates (one `send` each), over UDP and with -v
//             (TCP): updates/s over its wall time.
//
// Run: scripts/node24.sh node bench/updates.ts [--n 400] [--clients 16] [--seconds 5] [--nsupdate 500]

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Type } from '../src/0-base/constants.ts';
import { signRequest, tsigKeyFromConfig } from '../src/1-codec/tsig.ts';
import { ROOT, startGslbd } from '../test/helpers/gslbd.ts';
import { buildQuery } from '../test/helpers/raw.ts';
import { add, deleteRR, updateMessage, type WireRecord } from '../test/update/helpers.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '400' },
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' },
    nsupdate: { type: 'string', default: '500' },
  },
});
const N = Number(values.n);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const NSUPDATE = Number(values.nsupdate);
if (!(N >= 200)) throw new Error('--n: at least 200 (p99 needs them)');

const ZONE = 'dyn.example.net.';
const secret = randomBytes(32).toString('base64');
const key = tsigKeyFromConfig({ name: 'bench-key', algorithm: 'hmac-sha256', secret, zones: [ZONE] });

/** One UDP socket; replies matched to requests by message ID. */
class Client {
  readonly #sock = dgram.createSocket('udp4');
  readonly #waiting = new Map<number, (reply: Buffer) => void>();
  #id = Math.floor(Math.random() * 0xffff);
  readonly port: number;

  constructor(port: number) {
    this.port = port;
    this.#sock.on('message', (m) => {
      const w = this.#waiting.get(m.readUInt16BE(0));
      this.#waiting.delete(m.readUInt16BE(0));
      w?.(m);
    });
  }

  /** Sends `msg` under a fresh ID (patched in: sign after calling `withId`). */
  exchange(msg: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const id = msg.readUInt16BE(0);
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        reject(new Error('no reply in 5 s'));
      }, 5000);
      this.#waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.#sock.send(msg, this.port, '127.0.0.1');
    });
  }

  nextId(): number {
    this.#id = (this.#id + 1) & 0xffff;
    return this.#id;
  }

  close(): void {
    this.#sock.close();
  }
}

async function signedUpdate(client: Client, text: string, before: WireRecord[] = []): Promise<Buffer> {
  const msg = updateMessage(ZONE, { id: client.nextId(), update: [...before, await add(text)] });
  return signRequest(msg, key, Date.now()).message;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const ms = (v: number) => v.toFixed(2);

function summary(label: string, values: number[]): string {
  const s = [...values].sort((a, b) => a - b);
  return `| ${label} | ${s.length} | ${ms(percentile(s, 50))} | ${ms(percentile(s, 99))} | ${ms(s.at(-1)!)} |`;
}

async function latency(port: number): Promise<string[]> {
  const updates = new Client(port);
  const queries = new Client(port);
  const results: Record<'static' | 'pool', { ack: number[]; visible: number[] }> = {
    static: { ack: [], visible: [] },
    pool: { ack: [], visible: [] },
  };
  let previous: string | null = null;
  for (let i = 0; i < N; i++) {
    const kind = i % 2 === 0 ? 'static' : 'pool';
    const host = `${(i >> 8) & 0xff}.${i & 0xff}`;
    const [name, address] = kind === 'static' ? [`lat-${i}.${ZONE}`, `192.0.${host}`] : [`www.${ZONE}`, `10.1.${host}`];
    // A pool update replaces the target the previous one added, so every answer lists them all.
    const msg = await signedUpdate(
      updates,
      `${name} 60 IN A ${address}`,
      kind === 'pool' && previous ? [await deleteRR(previous)] : [],
    );
    if (kind === 'pool') previous = `${name} 0 IN A ${address}`;
    const wanted = Buffer.from(address.split('.').map(Number));
    const t0 = performance.now();
    const ack = updates.exchange(msg).then((r) => {
      if ((r.readUInt16BE(2) & 0xf) !== 0) throw new Error(`update ${i}: rcode ${r.readUInt16BE(2) & 0xf}`);
      return performance.now() - t0;
    });
    let seen = -1;
    while (seen < 0) {
      const q = buildQuery(name, Type.A, { id: queries.nextId(), edns: { payload: 4096 } });
      const reply = await queries.exchange(q);
      if (reply.readUInt16BE(6) > 0 && reply.includes(wanted, 12)) seen = performance.now() - t0;
      if (performance.now() - t0 > 5000) throw new Error(`update ${i} not visible after 5 s`);
    }
    results[kind].ack.push(await ack);
    results[kind].visible.push(seen);
  }
  updates.close();
  queries.close();
  return [
    '| UDP, sequential | n | p50 ms | p99 ms | max ms |',
    '|---|---:|---:|---:|---:|',
    summary('static A: send → visible', results.static.visible),
    summary("static A: send → ack (fsync'd)", results.static.ack),
    summary('pool target: send → visible', results.pool.visible),
    summary("pool target: send → ack (fsync'd)", results.pool.ack),
  ];
}

async function concurrent(port: number): Promise<string> {
  const clients = Array.from({ length: CLIENTS }, () => new Client(port));
  const end = performance.now() + SECONDS * 1000;
  let acked = 0;
  const start = performance.now();
  await Promise.all(
    clients.map(async (c, ci) => {
      for (let i = 0; performance.now() < end; i++) {
        const r = await c.exchange(await signedUpdate(c, `conc-${ci}-${i}.${ZONE} 60 IN TXT "x"`));
        if ((r.readUInt16BE(2) & 0xf) !== 0) throw new Error(`rcode ${r.readUInt16BE(2) & 0xf}`);
        acked++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  for (const c of clients) c.close();
  return `| raw UDP, ${CLIENTS} clients back to back, ${SECONDS} s | ${acked} | ${Math.round(acked / elapsed)} |`;
}

function nsupdateRun(port: number, tcp: boolean, tag: string): Promise<string> {
  const lines = [`server 127.0.0.1 ${port}`, `zone ${ZONE}`];
  for (let i = 0; i < NSUPDATE; i++) lines.push(`update add ns-${tag}-${i}.${ZONE} 60 A 192.0.2.${i % 250}`, 'send');
  const args = ['-y', `hmac-sha256:bench-key:${secret}`, ...(tcp ? ['-v'] : [])];
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const child = execFile('nsupdate', args, { timeout: 300_000, maxBuffer: 1 << 24 }, (err, _out, stderr) => {
      if (err) return reject(new Error(`nsupdate: ${stderr}`));
      const elapsed = (performance.now() - start) / 1000;
      resolve(
        `| nsupdate${tcp ? ' -v (TCP)' : ' (UDP)'}, one process, one \`send\` per update | ${NSUPDATE} | ${Math.round(NSUPDATE / elapsed)} |`,
      );
    });
    child.stdin!.end(lines.join('\n') + '\n');
  });
}

/** Runs `fn` against a fresh gslbd (its own temporary --data): each measurement starts from the zone file. */
async function withServer<T>(fn: (port: number) => Promise<T>): Promise<T> {
  const server = await startGslbd(
    ['--zones', path.join(ROOT, 'test/fixtures/update'), '--tsig-key', `bench-key:hmac-sha256:${secret}:${ZONE}`],
    { GSLBD_LOG_LEVEL: 'info' },
  );
  try {
    return await fn(server.port);
  } finally {
    await server.stop();
  }
}

/** Adds `count` names in UPDATEs of 1000 RRs each: the zone then has that many dynamic RRsets. */
async function preload(port: number, count: number): Promise<void> {
  const c = new Client(port);
  for (let done = 0; done < count; done += 1000) {
    const update = await Promise.all(
      Array.from({ length: Math.min(1000, count - done) }, (_, i) => add(`pre-${done + i}.${ZONE} 60 IN A 192.0.2.1`)),
    );
    const r = await c.exchange(signRequest(updateMessage(ZONE, { id: c.nextId(), update }), key, Date.now()).message);
    if ((r.readUInt16BE(2) & 0xf) !== 0) throw new Error(`preload: rcode ${r.readUInt16BE(2) & 0xf}`);
  }
  c.close();
}

const PRELOAD = 5000;
const out: string[] = [];
out.push('Zone as loaded from its file (a few dynamic RRsets):', '', ...(await withServer(latency)), '');
out.push(`The same after ${PRELOAD.toLocaleString('en-US')} dynamic RRsets were added to the zone:`, '');
out.push(
  ...(await withServer(async (port) => {
    await preload(port, PRELOAD);
    return latency(port);
  })),
  '',
);
out.push('| throughput (each on a fresh gslbd) | updates | updates/s |', '|---|---:|---:|');
out.push(await withServer(concurrent));
out.push(await withServer((port) => nsupdateRun(port, false, 'udp')));
out.push(await withServer((port) => nsupdateRun(port, true, 'tcp')));
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${cpu}, Node ${process.version}, --data on ${os.tmpdir()}, load average ${os.loadavg()[0]!.toFixed(1)}\n\n${out.join('\n')}\n`,
);
