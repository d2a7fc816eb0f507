// A cluster node (with two worker processes) that comes back after the log was trimmed behind a
// snapshot: it starts from its local copy while etcd is away, and when etcd answers it takes the
// snapshot, then the log after it; its workers get the whole state too, so every change is answered.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/7-state/etcd-store.ts';
import type { Change } from '../../src/7-state/types.ts';
import { dig } from '../helpers/dig.ts';
import { startEtcd, type EtcdServer } from '../helpers/etcd.ts';
import { startNode, type ClusterNode, type NodeOptions } from '../helpers/cluster.ts';
import { until } from '../helpers/listeners.ts';

const ZONE = 'snap.example.net';
const TOKEN = 'snapshot-write-token-0123456789';
const PREFIX = `/gslbd-snap-${process.pid}/`;
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-snap-'));
let etcd: EtcdServer | null = null;
const running: ClusterNode[] = [];

afterAll(async () => {
  for (const n of running) await n.server.stop();
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** An A RRset `s<i>` at 10.0.x.y, as the API would write it. */
const rrset = (i: number): Change => ({
  kind: 'rrset',
  zone: `${ZONE}.`,
  name: `s${i}.${ZONE}.`,
  type: 1,
  ttl: 60,
  rdata: [Buffer.from([10, 0, i >> 8, i & 255]).toString('hex')],
});

describe('a cluster node back after the log was trimmed', () => {
  it('takes the snapshot and the rest of the log, and so do its workers', async () => {
    etcd = await startEtcd();
    const zones = path.join(work, 'zones');
    mkdirSync(zones);
    writeFileSync(
      path.join(zones, `${ZONE}.zone`),
      '$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.1\n',
    );
    const options: NodeOptions = {
      name: 'n',
      dir: path.join(work, 'n'),
      zones,
      token: TOKEN,
      endpoints: [etcd.endpoint],
      prefix: PREFIX,
      clusterLines: ['  snapshot-every: 100'],
      args: ['--workers', '2'],
    };
    const first = await startNode(options);
    running.push(first);
    await first.server.waitForLog((l) => l.msg === 'workers ready', 20_000);
    const w = await fetch(`${first.api}/v1/zones/${ZONE}/rrsets/before/A`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: 60, records: ['192.0.2.9'] }),
    });
    expect(w.status).toBe(201);
    // Stopped: its local copy holds the change above.
    await first.server.stop();
    running.pop();

    // Meanwhile another node makes 1,100 changes: snapshots every 100, the log trimmed to the last 100 before the newest.
    const other = new EtcdStore({ endpoints: [etcd.endpoint], prefix: PREFIX, snapshotEvery: 100 });
    await other.open();
    for (let i = 0; i < 1100; i++) await other.commit('api:other', [rrset(i)]);
    await other.close();

    await etcd.kill();
    const again = await startNode(options);
    running.push(again);
    await again.server.waitForLog((l) => l.msg === 'workers ready', 20_000);
    await again.server.waitForLog(
      (l) =>
        typeof l.msg === 'string' && l.msg.startsWith('cluster: etcd unreachable at start: serving the local copy'),
    );
    expect((await dig(again.server.port, [`before.${ZONE}`, 'A'])).answer.map((r) => r.data)).toEqual(['192.0.2.9']);
    await etcd.start();
    await again.server.waitForLog((l) => l.msg === 'cluster: etcd answers: caught up, writes accepted again', 20_000);
    // Several queries: the workers share the port, and each must have the whole state.
    const ask = async (i: number) => {
      const all = await Promise.all([0, 1, 2, 3, 4, 5].map(() => dig(again.server.port, [`s${i}.${ZONE}`, 'A'])));
      return all.map((r) => r.answer[0]?.data ?? r.status);
    };
    await until(
      async () => (await ask(1099)).every((a) => a === '10.0.4.75'),
      10_000,
      'the last change on every worker',
    );
    expect(await ask(5)).toEqual(Array(6).fill('10.0.0.5'));
    expect(await ask(998)).toEqual(Array(6).fill('10.0.3.230'));
  }, 120_000);
});
