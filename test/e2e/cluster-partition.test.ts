// Health by quorum across real network partitions: three gslbd nodes, each in a network namespace
// of its own, a target in another, etcd on the bridge between them (test/helpers/netns.ts; root
// only, skipped with the reason elsewhere). Cutting one node's link to the target evicts it
// nowhere (majority quorum); stopping the target evicts it on every node within interval × fall + 1 s.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { startEtcd, type EtcdServer } from '../helpers/etcd.ts';
import { startNode, type ClusterNode } from '../helpers/cluster.ts';
import { until } from '../helpers/listeners.ts';
import { labUnavailable, makeLab, type Lab } from '../helpers/netns.ts';

const ZONE = 'partition.example.net';
const TOKEN = 'partition-write-token-0123456789';
const PORT = 7001;
const unavailable = labUnavailable();
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-partition-'));
let lab: Lab | null = null;
let etcd: EtcdServer | null = null;
let target: ChildProcess | null = null;
const nodes: ClusterNode[] = [];

afterAll(async () => {
  for (const n of nodes) await n.server.stop();
  await stopTarget();
  await etcd?.stop();
  lab?.destroy();
  rmSync(work, { recursive: true, force: true });
});

/** A TCP server in the target's namespace, on its address; resolves once it listens. */
async function startTarget(): Promise<void> {
  const script = `require('net').createServer((s) => s.on('error', () => {})).listen(${PORT}, '${lab!.ip('target')}', () => console.log('ready'))`;
  const proc = spawn(lab!.wrap('target')[0]!, [...lab!.wrap('target').slice(1), process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  target = proc;
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.once('data', () => resolve());
    proc.once('exit', (code) => reject(new Error(`target exited (${code})`)));
  });
}

async function stopTarget(): Promise<void> {
  const p = target;
  target = null;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await exited;
}

const answers = async (n: ClusterNode) =>
  (await dig(n.server.port, [`checked.${ZONE}`, 'A'], lab!.ip(n.name))).answer.map((r) => r.data).sort();

async function votes(): Promise<Record<string, string>> {
  const r = await fetch(`${nodes[0]!.api}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const status = (await r.json()) as {
    zones: { pools: { pool: string; targets: { address: string; votes: Record<string, string> }[] }[] }[];
  };
  return status.zones[0]!.pools.find((p) => p.pool === `checked.${ZONE}.`)!.targets[0]!.votes;
}

describe('health by quorum across network namespaces', () => {
  it.skipIf(unavailable !== null)(
    `one node cut off from a target evicts it nowhere; the target gone evicts it everywhere${unavailable ? ` (skipped: ${unavailable})` : ''}`,
    async () => {
      lab = makeLab(['a', 'b', 'c', 'target']);
      etcd = await startEtcd(lab.hostIp);
      await startTarget();
      const zones = path.join(work, 'zones');
      mkdirSync(zones);
      writeFileSync(
        path.join(zones, `${ZONE}.zone`),
        '$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.1\n',
      );
      writeFileSync(
        path.join(zones, `${ZONE}.pools.yaml`),
        [
          'checked:',
          '  policy: round-robin',
          '  ttl: 30',
          '  answers: 2',
          '  targets:',
          `    - { address: ${lab.ip('target')}, check: { type: tcp, port: ${PORT}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 } }`,
          '    - { address: 198.51.100.21 }',
          '',
        ].join('\n'),
      );
      for (const name of ['a', 'b', 'c']) {
        nodes.push(
          await startNode({
            name,
            dir: path.join(work, name),
            zones,
            token: TOKEN,
            endpoints: [etcd.endpoint],
            clusterLines: ['  vote-ttl: 3s'],
            apiListen: `${lab.ip(name)}:0`,
            args: ['--listen', `${lab.ip(name)}:0`],
            wrap: lab.wrap(name),
          }),
        );
      }
      const both = [lab.ip('target'), '198.51.100.21'].sort();
      const everyNode = async (want: string[]) =>
        (await Promise.all(nodes.map(answers))).every((a) => a.join() === want.join());
      await until(() => everyNode(both), 10_000, 'the target answered by every node');

      // c loses its link to the target: its own verdict goes down, one vote of three.
      lab.cut('c', 'target');
      await until(async () => (await votes()).c === 'down', 10_000, "c's down vote", 100);
      expect(await votes()).toEqual({ a: 'up', b: 'up', c: 'down' });
      for (let i = 0; i < 5; i++) {
        expect(await everyNode(both)).toBe(true);
        await new Promise((r) => setTimeout(r, 300));
      }
      lab.mend('c', 'target');
      await until(async () => (await votes()).c === 'up', 10_000, "c's vote up again", 100);

      // The target goes away: every node's probe finds it, and every node leaves it out.
      const t0 = Date.now();
      await stopTarget();
      await until(() => everyNode(['198.51.100.21']), 3000, 'the target out on every node', 50);
      // interval 1 s × fall 1 + 1 s, and the polling of this test.
      expect(Date.now() - t0).toBeLessThan(2500);
    },
    120_000,
  );
});
