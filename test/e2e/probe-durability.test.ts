// Probe verdicts take the one commit path too: a target whose check fails is left out of answers
// only once that verdict is durable. With the data directory's filesystem full (a small tmpfs this
// test mounts, so root only, as CI runs), a verdict cannot be journaled: it is not in effect, in
// the primary or its workers, and is offered again after each probe; once there is room again,
// the next probe makes it durable and the target leaves the answers.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { tcpListener, until, type Listener } from '../helpers/listeners.ts';

const ZONE = 'probe.example.net';
const POOL = `checked.${ZONE}`;
const root = process.getuid?.() === 0;
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-probe-durability-'));
const zones = path.join(work, 'zones');
const data = path.join(work, 'data');
let mounted = false;
const servers: Gslbd[] = [];
const listeners: Listener[] = [];

afterAll(async () => {
  for (const s of servers) await s.stop();
  for (const l of listeners) await l.stop();
  if (mounted) execFileSync('umount', [data]);
  rmSync(work, { recursive: true, force: true });
});

/** The addresses in the answers to several queries (the workers share the port): each query's, sorted. */
async function answers(port: number): Promise<string[][]> {
  const all = await Promise.all([0, 1, 2, 3, 4, 5].map(() => dig(port, [POOL, 'A'])));
  return all.map((r) => r.answer.map((rr) => rr.data).sort());
}

describe('a probe verdict on a full disk', () => {
  it.skipIf(!root)(
    'is not in effect until it is durable, and takes effect at the first probe after room is made (root: mounts a tmpfs)',
    async () => {
      const probed = await tcpListener('127.0.0.2');
      listeners.push(probed);
      mkdirSync(zones);
      mkdirSync(data);
      writeFileSync(
        path.join(zones, `${ZONE}.zone`),
        '$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.53\n',
      );
      writeFileSync(
        path.join(zones, `${ZONE}.pools.yaml`),
        [
          'checked:',
          '  policy: round-robin',
          '  ttl: 40',
          '  answers: 2',
          '  targets:',
          `    - { address: 127.0.0.2, check: { type: tcp, port: ${probed.port}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 } }`,
          '    - { address: 198.51.100.3 }',
          '',
        ].join('\n'),
      );
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', data]);
      mounted = true;
      const server = await startGslbd(['--zones', zones, '--data', data, '--workers', '2']);
      servers.push(server);
      await server.waitForLog((l) => l.msg === 'workers ready', 20_000);
      const both = ['127.0.0.2', '198.51.100.3'];
      await until(
        async () => (await answers(server.port)).every((a) => a.join() === both.join()),
        10_000,
        'both targets answered',
      );

      // Fill the filesystem: a write that runs out of room leaves what it wrote.
      const filler = path.join(data, 'filler');
      expect(() => writeFileSync(filler, Buffer.alloc(1 << 20))).toThrow(/ENOSPC/);

      await probed.stop();
      await server.waitForLog(
        (l) => l.msg === 'health: verdict not made durable: not in effect, offered again after the next probe',
        10_000,
      );
      // Offered again after the next probes, refused each time: answering goes on from the last durable state.
      const refusals = () =>
        server.logs.filter(
          (l) => l.msg === 'health: verdict not made durable: not in effect, offered again after the next probe',
        ).length;
      await until(() => refusals() >= 3, 10_000, 'three refused offers');
      expect(await answers(server.port)).toEqual(Array(6).fill(both));
      expect(
        server.logs.filter((l) => typeof l.msg === 'string' && /127\.0\.0\.2 up -> down/.test(l.msg)),
      ).toHaveLength(0);

      unlinkSync(filler);
      await until(
        async () => (await answers(server.port)).every((a) => a.join() === '198.51.100.3'),
        10_000,
        'the target left every answer',
      );
      // Logged and kept for the status page once, when it took effect.
      expect(
        server.logs.filter((l) => typeof l.msg === 'string' && /127\.0\.0\.2 up -> down/.test(l.msg)),
      ).toHaveLength(1);
    },
    60_000,
  );
});
