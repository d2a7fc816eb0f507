// Three gslbd nodes on a three-member etcd whose leader is killed while API writes arrive through
// every node (1,000 of them): each write refused during the election (503 ERR_CLUSTER_UNAVAILABLE) is made again,
// as a client would; afterwards every acknowledged write is answered by every node, and the nodes
// agree on the zone's SOA serial.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd.ts';
import { startNode, type ClusterNode } from '../helpers/cluster.ts';
import { until } from '../helpers/listeners.ts';
import { buildQuery, udpExchange } from '../helpers/raw.ts';

const ZONE = 'leader.example.net';
const TOKEN = 'leader-write-token-0123456789';
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-leader-'));
let etcd: EtcdCluster | null = null;
const nodes: ClusterNode[] = [];

afterAll(async () => {
  for (const n of nodes) await n.server.stop();
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

const put = (n: ClusterNode, i: number) =>
  fetch(`${n.api}/v1/zones/${ZONE}/rrsets/n${i}/A`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl: 60, records: [`192.0.${i >> 8}.${i & 255}`] }),
  });

describe('the etcd leader killed under writes', () => {
  it('every acknowledged write is answered by every node afterwards, under one serial', async () => {
    etcd = await startEtcdCluster(3);
    const zones = path.join(work, 'zones');
    mkdirSync(zones);
    writeFileSync(
      path.join(zones, `${ZONE}.zone`),
      '$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.1\n',
    );
    for (const name of ['a', 'b', 'c']) {
      nodes.push(await startNode({ name, dir: path.join(work, name), zones, token: TOKEN, endpoints: etcd.endpoints }));
    }
    const N = 1000;
    let next = 0;
    let refused = 0;
    let killed = '';
    await Promise.all(
      nodes.flatMap((n) =>
        [0, 1].map(async () => {
          while (next < N) {
            const i = next++;
            if (i === 300 && !killed) {
              const leader = await etcd!.leader();
              killed = leader.name;
              await leader.kill();
            }
            for (let attempt = 1; ; attempt++) {
              const r = await put(n, i);
              const body = (await r.json()) as { error?: { code: string } };
              if (r.ok) break;
              expect([r.status, body.error?.code]).toEqual([503, 'ERR_CLUSTER_UNAVAILABLE']);
              expect(attempt).toBeLessThan(200);
              refused++;
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          }
        }),
      ),
    );
    expect(killed).not.toBe('');
    const serial = async (n: ClusterNode) => (await dig(n.server.port, [ZONE, 'SOA'])).answer[0]!.data.split(/\s+/)[2];
    await until(
      async () => new Set(await Promise.all(nodes.map(serial))).size === 1,
      15_000,
      'one serial on every node',
      100,
    );
    // Every name on every node (raw UDP queries in batches: a dig per name would take a minute).
    for (const n of nodes) {
      const missing: number[] = [];
      for (let from = 0; from < N; from += 100) {
        const batch = Array.from({ length: Math.min(100, N - from) }, (_, k) => from + k);
        const replies = await Promise.all(
          batch.map((i) => udpExchange(n.server.port, buildQuery(`n${i}.${ZONE}`, 1, { id: i }), 3000)),
        );
        batch.forEach((i, k) => {
          const want = Buffer.from([192, 0, i >> 8, i & 255]);
          const reply = replies[k];
          if (!reply || reply.readUInt16BE(6) !== 1 || !reply.includes(want, 12)) missing.push(i);
        });
      }
      expect([n.name, missing]).toEqual([n.name, []]);
    }
    console.log(`leader ${killed} killed after 300 of ${N} writes; ${refused} refusals retried`);
  }, 240_000);
});
