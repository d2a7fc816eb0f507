// The status page's charts in a cluster (issue 18): two gslbd nodes on a real etcd, each sampling
// every second. Queries answered by either node are in node A's /v1/history; a node killed drops
// out of the sum once its lease expires, and when it comes back counting from 0 again, no step goes
// negative or counts more than was answered: the charts count every query exactly once.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEtcd, type EtcdServer } from '../helpers/etcd.ts';
import { startNode, type ClusterNode, type NodeOptions } from '../helpers/cluster.ts';
import { until } from '../helpers/listeners.ts';
import { buildQuery, rcodeOf, udpExchange } from '../helpers/raw.ts';

const ZONE = 'charts.example.net';
const TOKEN = 'charts-write-token-0123456789';
const PREFIX = `/gslbd-charts-${process.pid}/`;
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-charts-'));
let etcd: EtcdServer;
const nodes = new Map<string, ClusterNode>();
const options = new Map<string, NodeOptions>();

interface History {
  times: number[];
  queries: { zone: string; rcode: string; counts: (number | null)[] }[];
  nodes?: string[];
}

async function history(name: string): Promise<History> {
  const r = await fetch(`${nodes.get(name)!.api}/v1/history`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  return (await r.json()) as History;
}

/** The NOERROR queries for the zone each step of `h` counted. */
const steps = (h: History): number[] =>
  h.queries.filter((q) => q.zone === `${ZONE}.` && q.rcode === 'NOERROR').flatMap((q) => q.counts.map((c) => c ?? 0));
const counted = (h: History): number => steps(h).reduce((a, b) => a + b, 0);

/** Sends `n` queries to `name`'s DNS port; resolves with the number answered NOERROR. */
async function ask(name: string, n: number): Promise<number> {
  const port = nodes.get(name)!.server.port;
  let answered = 0;
  for (let i = 0; i < n; i += 10) {
    const replies = await Promise.all(
      Array.from({ length: Math.min(10, n - i) }, (_, k) =>
        udpExchange(port, buildQuery(`www.${ZONE}`, 1, { id: i + k }), 2000),
      ),
    );
    answered += replies.filter((r) => r !== null && rcodeOf(r) === 0).length;
  }
  return answered;
}

async function start(name: string): Promise<void> {
  nodes.set(name, await startNode(options.get(name)!));
}

beforeAll(async () => {
  etcd = await startEtcd();
  const zones = path.join(work, 'zones');
  mkdirSync(zones);
  writeFileSync(
    path.join(zones, `${ZONE}.zone`),
    '$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.1\nwww IN A 192.0.2.80\n',
  );
  for (const name of ['a', 'b']) {
    options.set(name, {
      name,
      dir: path.join(work, name),
      zones,
      token: TOKEN,
      endpoints: [etcd.endpoint],
      prefix: PREFIX,
      clusterLines: ['  vote-ttl: 2s'],
      env: { GSLBD_HISTORY_STEP: '1s' },
    });
  }
  await Promise.all(['a', 'b'].map(start));
  // Each node has taken its first samples (the first is where counting starts).
  for (const name of ['a', 'b'])
    await until(async () => (await history(name)).times.length >= 2, 10_000, 'samples', 200);
}, 40_000);

afterAll(async () => {
  for (const n of nodes.values()) await n.server.stop();
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('charts summed over the nodes of a cluster', () => {
  let total = 0;

  it('charts on node A the queries both nodes answered, and names the nodes summed', async () => {
    total += await ask('a', 30);
    total += await ask('b', 50);
    expect(total).toBe(80);
    await until(async () => counted(await history('a')) === total, 10_000, `${total} queries on A's charts`, 200);
    await until(async () => counted(await history('b')) === total, 10_000, `${total} queries on B's charts`, 200);
    expect((await history('a')).nodes).toEqual(['a', 'b']);
  }, 20_000);

  it('leaves out a node killed once its lease expires, keeping what it answered', async () => {
    nodes.get('b')!.server.proc.kill('SIGKILL');
    await nodes.get('b')!.server.stop();
    nodes.delete('b');
    await until(async () => (await history('a')).nodes?.join() === 'a', 10_000, 'B gone from the sum', 200);
    expect(counted(await history('a'))).toBe(total);
  }, 20_000);

  it('counts a node that restarts from 0 again: no step negative or beyond what was answered', async () => {
    await start('b');
    await until(async () => (await history('a')).nodes?.join() === 'a,b', 10_000, 'B back in the sum', 200);
    const more = await ask('b', 20);
    total += more;
    await until(async () => counted(await history('a')) === total, 10_000, `${total} queries on A's charts`, 200);
    // And it stays so: a later step does not count the restarted node's queries again.
    await new Promise((r) => setTimeout(r, 2500));
    const h = await history('a');
    expect(counted(h)).toBe(total);
    expect(Math.min(...steps(h))).toBeGreaterThanOrEqual(0);
    expect(Math.max(...steps(h))).toBeLessThanOrEqual(80);
  }, 20_000);
});
