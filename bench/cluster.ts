// Three gslbd nodes on one etcd (Debian's etcd-server, one member, on loopback), end to end:
//
// visible     N API writes (an A RRset at a new name each), sent in turn to node a, b, c: for each,
//             send → acknowledged (etcd committed, the node written to applied it), and send → the
//             first answer that has it from every node (UDP queries to the three, back to back).
// throughput  C clients writing back to back through the three nodes for S seconds: acknowledged
//             writes per second; then the same against one gslbd without a cluster (its journal).
// evict       a TCP-checked target (interval 1 s, fall 1) whose listener is closed: from the close
//             to the first moment no node answers with it, T times, each on a pool and listener of
//             its own (flap damping would hold a target that goes down and up every second down);
//             the same on the single gslbd.
//
// Run: scripts/node24.sh node bench/cluster.ts [--n 1000] [--clients 16] [--seconds 5]
// Stops only what it started (etcd and the gslbd processes, by PID).

import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Type } from '../src/0-base/constants.ts';
import { startEtcd } from '../test/helpers/etcd.ts';
import type { Gslbd } from '../test/helpers/gslbd.ts';
import { startNode, type ClusterNode } from '../test/helpers/cluster.ts';
import { buildQuery } from '../test/helpers/raw.ts';
import { tcpListener } from '../test/helpers/listeners.ts';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    clients: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' },
    trials: { type: 'string', default: '10' },
  },
});
const N = Number(values.n);
const CLIENTS = Number(values.clients);
const SECONDS = Number(values.seconds);
const TRIALS = Number(values.trials);
// One pool and listener per trial, on 127.0.1.<t>; the first half for the cluster, the rest for one gslbd.
const probed = await Promise.all(Array.from({ length: 2 * TRIALS }, (_, t) => tcpListener(`127.0.1.${t + 1}`)));
const ZONE = 'bench.example.net';
const TOKEN = 'cluster-bench-token-0123456789';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-cluster-bench-'));
const zones = path.join(work, 'zones');
mkdirSync(zones);
writeFileSync(
  path.join(zones, `${ZONE}.zone`),
  '$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.1\n',
);
writeFileSync(
  path.join(zones, `${ZONE}.pools.yaml`),
  probed
    .map(
      (l, t) =>
        `checked${t}:\n  answers: 2\n  targets:\n    - { address: ${l.host}, check: { type: tcp, port: ${l.port}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 } }\n    - { address: 198.51.100.1 }\n`,
    )
    .join(''),
);

/** Whether a UDP answer for checked<t> A on `port` holds its target. */
async function withTarget(sock: dgram.Socket, port: number, t: number): Promise<boolean> {
  const reply = await new Promise<Buffer | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), 200);
    sock.once('message', (m) => {
      clearTimeout(timer);
      resolve(m);
    });
    sock.send(buildQuery(`checked${t}.${ZONE}`, Type.A, { id: 7 }), port, '127.0.0.1');
  });
  return reply !== null && reply.includes(Buffer.from([127, 0, 1, t + 1]), 12);
}

/** Close a target's listener, time until no node answers with it; TRIALS times, from trial `first`. */
async function evictions(nodes: Node[], first: number): Promise<number[]> {
  const socks = nodes.map(() => dgram.createSocket('udp4'));
  const all = async (t: number, want: boolean) =>
    (await Promise.all(nodes.map((n, k) => withTarget(socks[k]!, n.server.port, t)))).every((v) => v === want);
  const times: number[] = [];
  for (let t = first; t < first + TRIALS; t++) {
    const deadline = performance.now() + 10_000;
    while (!(await all(t, true))) {
      if (performance.now() > deadline) {
        const seen = await Promise.all(nodes.map((n, k) => withTarget(socks[k]!, n.server.port, t)));
        const st = await Promise.all(
          nodes.map(async (n) => {
            const r = await fetch(`${n.api}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
            const j = (await r.json()) as { zones: { pools: { targets: unknown[] }[] }[] };
            return j.zones[0]!.pools[0]!.targets[0];
          }),
        );
        throw new Error(`target not back: answered with it by ${JSON.stringify(seen)}; ${JSON.stringify(st)}`);
      }
    }
    // A random moment within the probe interval.
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 1000));
    const t0 = performance.now();
    await probed[t]!.stop();
    while (!(await all(t, false))) if (performance.now() > t0 + 10_000) throw new Error('target not evicted');
    times.push(performance.now() - t0);
  }
  for (const s of socks) s.close();
  return times;
}

type Node = ClusterNode;

const node = (name: string, endpoint: string | null) =>
  startNode({ name, dir: path.join(work, name), zones, token: TOKEN, ...(endpoint && { endpoints: [endpoint] }) });

const put = (n: Node, name: string, address: string) =>
  fetch(`${n.api}/v1/zones/${ZONE}/rrsets/${name}/A`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl: 60, records: [address] }),
  });

/** Resolves once a UDP query for `name` A on `port` has an answer. */
async function answered(sock: dgram.Socket, port: number, name: string, deadline: number): Promise<void> {
  for (let id = 1; ; id = (id + 1) & 0xffff) {
    const reply = await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 200);
      sock.once('message', (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      sock.send(buildQuery(`${name}.${ZONE}`, Type.A, { id }), port, '127.0.0.1');
    });
    if (reply && reply.readUInt16BE(6) > 0) return;
    if (performance.now() > deadline) throw new Error(`${name} not answered on ${port} in time`);
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const row = (label: string, v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return `| ${label} | ${s.length} | ${percentile(s, 50).toFixed(2)} | ${percentile(s, 99).toFixed(2)} | ${s.at(-1)!.toFixed(2)} |`;
};

async function throughput(nodes: Node[]): Promise<{ ok: number; refused: number }> {
  const until = performance.now() + SECONDS * 1000;
  let ok = 0;
  let refused = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      while (performance.now() < until) {
        const i = next++;
        const r = await put(
          nodes[(c + i) % nodes.length]!,
          `t${i}`,
          `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        );
        await r.arrayBuffer();
        if (r.ok) ok++;
        else refused++;
      }
    }),
  );
  return { ok, refused };
}

const etcd = await startEtcd();
const started: Gslbd[] = [];
try {
  const nodes = [await node('a', etcd.endpoint), await node('b', etcd.endpoint), await node('c', etcd.endpoint)];
  started.push(...nodes.map((n) => n.server));
  const socks = nodes.map(() => dgram.createSocket('udp4'));
  const ack: number[] = [];
  const visible: number[] = [];
  for (let i = 0; i < N; i++) {
    const name = `v${i}`;
    const t0 = performance.now();
    const r = await put(nodes[i % 3]!, name, `192.0.${(i >> 8) & 255}.${i & 255}`);
    if (!r.ok) throw new Error(`write ${i}: HTTP ${r.status} ${await r.text()}`);
    await r.arrayBuffer();
    ack.push(performance.now() - t0);
    await Promise.all(nodes.map((n, k) => answered(socks[k]!, n.server.port, name, t0 + 5000)));
    visible.push(performance.now() - t0);
  }
  for (const s of socks) s.close();
  // Before the write load: its probe timeouts would make the check flap, and flap damping hold it down.
  const quorumEvict = await evictions(nodes, 0);
  const cluster = await throughput(nodes);
  for (const n of nodes) await n.server.stop();
  started.length = 0;
  const single = await node('single', null);
  started.push(single.server);
  const singleEvict = await evictions([single], TRIALS);
  const alone = await throughput([single]);

  console.log(
    `date: ${new Date().toISOString()}; ${os.cpus().length} CPUs, ${os.cpus()[0]?.model}; node ${process.version}`,
  );
  console.log(`etcd: one member on loopback, data on ${os.tmpdir()}; three gslbd nodes (--workers 1)\n`);
  console.log('| API write, sequential, through a, b, c in turn | n | p50 ms | p99 ms | max ms |');
  console.log('|---|---:|---:|---:|---:|');
  console.log(row('send → acknowledged (etcd commit, applied on the node written to)', ack));
  console.log(row('send → answered by all three nodes', visible));
  console.log(`\n| ${CLIENTS} clients back to back, ${SECONDS} s | writes | refused | writes/s |`);
  console.log('|---|---:|---:|---:|');
  console.log(`| three nodes on etcd | ${cluster.ok} | ${cluster.refused} | ${Math.round(cluster.ok / SECONDS)} |`);
  console.log(`| one gslbd, local journal | ${alone.ok} | ${alone.refused} | ${Math.round(alone.ok / SECONDS)} |`);
  console.log(
    '\n| target listener closed → out of every answer (interval 1 s, fall 1) | n | p50 ms | p99 ms | max ms |',
  );
  console.log('|---|---:|---:|---:|---:|');
  console.log(row('three nodes, majority of votes', quorumEvict));
  console.log(row('one gslbd, its own probe', singleEvict));
} finally {
  for (const s of started) await s.stop();
  await etcd.stop();
  for (const l of probed) await l.stop();
  rmSync(work, { recursive: true, force: true });
}
