// Clock and randomness reach a Service through its options, as they reach policies: a seeded
// random decides which targets a `random` pool answers with, and an injected clock decides when an
// admin override expires, in answers dig reads over real UDP.

import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../../src/0-base/log.ts';
import { keyFromText } from '../../src/0-base/name.ts';
import { systemClock, type Clock } from '../../src/3-health/clock.ts';
import { Service, type Settings } from '../../src/9-main/service.ts';
import { dig } from '../helpers/dig.ts';

const ZONE = 'ctx.example.net';
const POOL = `pick.${ZONE}`;
const TARGETS = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'];

const dirs: string[] = [];
const services: Service[] = [];
afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function zonesDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-ctx-'));
  dirs.push(dir);
  writeFileSync(
    path.join(dir, `${ZONE}.zone`),
    `$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.53\n`,
  );
  writeFileSync(
    path.join(dir, `${ZONE}.pools.yaml`),
    `pick:\n  policy: random\n  ttl: 20\n  answers: 1\n  targets:\n${TARGETS.map((a) => `    - { address: ${a} }\n`).join('')}`,
  );
  return dir;
}

async function start(opts: {
  random?: () => number;
  clock?: Clock;
  settings?: Settings;
}): Promise<{ service: Service; answer: () => Promise<string[]> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-ctx-data-'));
  dirs.push(dataDir);
  const service = new Service({
    zonesDir: zonesDir(),
    dataDir,
    log: createLogger('silent'),
    listen: [{ address: { host: '127.0.0.1', port: 0 }, required: true }],
    ...opts,
  });
  services.push(service);
  await service.start();
  const port = service.listeners[0]!.port;
  return { service, answer: async () => (await dig(port, [POOL, 'A'])).answer.map((r) => r.data) };
}

describe('Service context: clock and randomness are injected', () => {
  it('a seeded random decides a random pool: the same draw gives the same target, each draw its own', async () => {
    const draws = [0, 0.3, 0.6, 0.9];
    let next = 0;
    const { answer } = await start({ random: () => draws[next++ % draws.length]! });
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) seen.push(...(await answer()));
    // Draw k of 4 over 4 equal targets picks target k: the sequence repeats with the draws.
    expect(seen).toEqual([...TARGETS, ...TARGETS]);
  });

  it("an override expires when the injected clock says so, not the machine's", async () => {
    let t = Date.parse('2030-01-01T00:00:00Z');
    const clock: Clock = { now: () => t, setTimeout: systemClock.setTimeout, clearTimeout: systemClock.clearTimeout };
    const { service, answer } = await start({ clock, random: () => 0 });
    const pool = service.zones.find(keyFromText(`${POOL}.`))!.pools!.get(keyFromText(`${POOL}.`))!;
    const first = pool.def.targets[0]!;
    expect(await answer()).toEqual([first.address]);
    await service.state.commit('api:test', [
      { kind: 'override', target: first.id, state: 'down', reason: 'test', validMs: 60_000 },
    ]);
    expect(await answer()).toEqual([TARGETS[1]]);
    t += 59_000;
    expect(await answer()).toEqual([TARGETS[1]]);
    t += 2_000;
    expect(await answer()).toEqual([first.address]);
  });
});

describe('Service reloads', () => {
  it('run one at a time: a second reload reads gslbd.yaml only after the first has loaded its zones', async () => {
    const reads: (() => void)[] = [];
    const settings = {
      file: 'gslbd.yaml',
      read: () =>
        new Promise<{ tsig: []; tsigMaxFudge: number }>((resolve) => {
          reads.push(() => resolve({ tsig: [], tsigMaxFudge: 300 }));
        }),
    };
    const { service } = await start({ settings });
    // A SIGHUP and a POST /v1/reload at once.
    const first = service.reload();
    const second = service.reload();
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toHaveLength(1);
    reads[0]!();
    await first;
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toHaveLength(2);
    reads[1]!();
    expect(await second).toEqual({ loaded: 1, failed: 0 });
  });
});
