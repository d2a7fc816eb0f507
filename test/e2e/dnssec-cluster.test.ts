// DNSSEC keys shared through etcd (issue 16): two gslbd nodes of one cluster (node B with two
// worker processes) started at the same moment, signing the same zone, make one key between them
// (compare-and-swap) and publish the same DNSKEY; a rollover asked on node A reaches node B
// through etcd within its poll, both then publishing the same two keys.

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { startEtcd } from '../helpers/etcd.ts';
import { forTests } from '../helpers/fixture.ts';
import { CLI, ROOT, startGslbd } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';
import { Etcd3 } from 'etcd3';
import { keyFromText } from '../../src/0-base/name.ts';
import { syncKeys } from '../../src/7-state/dnssec-etcd.ts';

const run = promisify(execFile);
const ZONE = 'roll.example.net';

const h = forTests(
  async () => {
    const etcd = await startEtcd();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-dnssec-cluster-'));
    const zones = path.join(dir, 'zones');
    cpSync(path.join(ROOT, 'test/fixtures/dnssec-roll'), zones, { recursive: true });
    const config = (name: string) => {
      const data = path.join(dir, name);
      mkdirSync(data);
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        [
          `zones: ${zones}`,
          `data: ${data}`,
          `dnssec: { zones: [${ZONE}.], algorithm: ed25519 }`,
          'cluster:',
          `  node: ${name}`,
          `  etcd: { endpoints: ["${etcd.endpoint}"], prefix: /dnssec-test/ }`,
          '',
        ].join('\n'),
      );
      return { file, data };
    };
    const a = config('a');
    const b = config('b');
    // Started together: both find no key in etcd; one creates it, the other takes it.
    const [nodeA, nodeB] = await Promise.all([
      startGslbd(['--config', a.file, '--data', a.data]),
      startGslbd(['--config', b.file, '--data', b.data, '--workers', '2']),
    ]);
    return { etcd, dir, a, b, nodeA, nodeB };
  },
  async (it) => {
    await it.nodeA.stop();
    await it.nodeB.stop();
    await it.etcd.stop();
    rmSync(it.dir, { recursive: true, force: true });
  },
);

const dnskeys = async (port: number) =>
  (await dig(port, [ZONE, 'DNSKEY'])).answer
    .filter((a) => a.type === 'DNSKEY')
    .map((a) => a.data.replace(/\s/g, ''))
    .sort();

describe('DNSSEC keys in a cluster', () => {
  it('two nodes starting together make one key and publish the same DNSKEY', async () => {
    const made = [...h.nodeA.logs, ...h.nodeB.logs].filter((l) => String(l.msg).startsWith('dnssec: key made'));
    expect(made).toHaveLength(1);
    const fromA = await dnskeys(h.nodeA.port);
    expect(fromA).toHaveLength(1);
    // Node B answers from two workers: ask a few times.
    for (let i = 0; i < 4; i++) expect(await dnskeys(h.nodeB.port)).toEqual(fromA);
    // Each node's copy of the key file holds it: `gslbd dnssec ds` agrees on both.
    const ds = async (data: string) =>
      (
        await run(
          process.execPath,
          ['--disable-warning=ExperimentalWarning', CLI, 'dnssec', 'ds', ZONE, '--data', data],
          { cwd: ROOT },
        )
      ).stdout;
    expect(await ds(h.a.data)).toBe(await ds(h.b.data));
    expect(readFileSync(path.join(h.b.data, 'keys', `${ZONE}.json`), 'utf8')).toContain('PRIVATE KEY');
  });

  it('makes one key when two nodes ask etcd at the very same moment (compare-and-swap)', async () => {
    const clients = [new Etcd3({ hosts: [h.etcd.endpoint] }), new Etcd3({ hosts: [h.etcd.endpoint] })];
    try {
      for (let round = 0; round < 5; round++) {
        const dirs = ['x', 'y'].map((n) => path.join(h.dir, `race-${round}-${n}`));
        const made: number[] = [];
        const [x, y] = await Promise.all(
          dirs.map((d, i) =>
            syncKeys(clients[i]!, `/race-${round}/`, d, [keyFromText(`${ZONE}.`)], 15, Date.now(), (k) =>
              made.push(k.tag),
            ),
          ),
        );
        expect(made).toHaveLength(1);
        expect(x!.map((k) => k.tag)).toEqual(y!.map((k) => k.tag));
      }
    } finally {
      for (const c of clients) c.close();
    }
  });

  it('a rollover asked on one node reaches the other through etcd', { timeout: 30_000 }, async () => {
    await run(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        CLI,
        'dnssec',
        'rollover',
        ZONE,
        '--config',
        h.a.file,
        '--propagation',
        '1h',
      ],
      { cwd: ROOT },
    );
    h.nodeA.proc.kill('SIGHUP');
    await h.nodeA.waitForLog((l) => String(l.msg).startsWith(`dnssec: rollover of ${ZONE}. started`));
    const fromA = await dnskeys(h.nodeA.port);
    expect(fromA).toHaveLength(2);
    await until(async () => (await dnskeys(h.nodeB.port)).length === 2, 15_000, 'node B to publish the new key', 250);
    for (let i = 0; i < 4; i++) expect(await dnskeys(h.nodeB.port)).toEqual(fromA);
  });
});
