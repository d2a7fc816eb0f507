// Durable before visible: a real gslbd (a primary and two workers) whose data directory is a small
// tmpfs this test mounts, filled up while API writes arrive. Every write that was refused (503
// ERR_NOT_DURABLE) must be absent from the answers of every worker and after a restart; every write
// that was acknowledged must be present after a kill -9 and a restart.
//
// Mounting needs root, as CI runs; without it the test is skipped (test/state/store-suite.ts checks
// the same contract with a journal that fails on demand).

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';

const ZONE = 'rules.example.net.';
const TOKEN = 'durability-write-token-0123';
const root = process.getuid?.() === 0;
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-durability-'));
const zones = path.join(work, 'zones');
const data = path.join(work, 'data');
const config = path.join(work, 'gslbd.yaml');
cpSync(path.join(ROOT, 'test/fixtures/rules'), zones, { recursive: true });
mkdirSync(data);
writeFileSync(
  config,
  [
    `zones: ${zones}`,
    'api:',
    '  listen: 127.0.0.1:0',
    '  tokens:',
    `    - { name: operator, token: ${TOKEN}, access: write }`,
    '',
  ].join('\n'),
);
let mounted = false;
const servers: Gslbd[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  if (mounted) execFileSync('umount', [data]);
  rmSync(work, { recursive: true, force: true });
});

async function start(workers: number): Promise<{ server: Gslbd; api: string }> {
  const server = await startGslbd(['--config', config, '--data', data, '--workers', String(workers)]);
  servers.push(server);
  const line = await server.waitForLog((l) => l.msg === 'api listening');
  // With workers, the primary logs `listening` before its workers have bound: wait for them.
  if (workers > 1) await server.waitForLog((l) => l.msg === 'workers ready', 20_000);
  return { server, api: `http://127.0.0.1:${line.port as number}` };
}

const put = (api: string, i: number) =>
  fetch(`${api}/v1/zones/${ZONE}/rrsets/n${i}/TXT`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ttl: 60,
      records: [`"${String(i).padStart(4, '0')}" ${`"${'x'.repeat(225)}" `.repeat(4)}`],
    }),
  });

/** The status each of several queries for n<i> gets (several: the workers share the port). */
async function statuses(port: number, i: number): Promise<Set<string>> {
  const all = await Promise.all([0, 1, 2, 3].map(() => dig(port, [`n${i}.${ZONE}`, 'TXT'])));
  return new Set(all.map((r) => r.status));
}

describe('a full disk while changes arrive', () => {
  it.skipIf(!root)(
    'never serves a refused change, and keeps every acknowledged one across kill -9 (root: mounts a tmpfs)',
    async () => {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24k', 'tmpfs', data]);
      mounted = true;
      const { server, api } = await start(2);
      const acknowledged: number[] = [];
      const refused: number[] = [];
      for (let i = 0; i < 40; i++) {
        const r = await put(api, i);
        const body = (await r.json()) as { error?: { code: string } };
        if (r.ok) acknowledged.push(i);
        else {
          expect([r.status, body.error?.code]).toEqual([503, 'ERR_NOT_DURABLE']);
          refused.push(i);
        }
      }
      expect(acknowledged.length).toBeGreaterThan(5);
      expect(refused.length).toBeGreaterThan(5);
      for (const i of refused) expect([i, ...(await statuses(server.port, i))]).toEqual([i, 'NXDOMAIN']);
      for (const i of acknowledged.slice(-3)) expect([i, ...(await statuses(server.port, i))]).toEqual([i, 'NOERROR']);
      expect(server.logs.filter((l) => l.msg === 'change not made durable: not applied')).toHaveLength(refused.length);

      server.proc.kill('SIGKILL');
      await new Promise((r) => server.proc.once('exit', r));
      const again = await start(1);
      const after = async (i: number) => [i, (await dig(again.server.port, [`n${i}.${ZONE}`, 'TXT'])).status];
      expect(await Promise.all(acknowledged.map(after))).toEqual(acknowledged.map((i) => [i, 'NOERROR']));
      expect(await Promise.all(refused.map(after))).toEqual(refused.map((i) => [i, 'NXDOMAIN']));
    },
    120_000,
  );
});
