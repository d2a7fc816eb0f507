// Warm start: the last known state of every check is journaled, so a gslbd restarted with the same
// --data directory answers without a down target from its very first answer, instead of serving it
// until the checks catch up (the cold-start problem of pdns#9529).

import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { ask, askFast, healthLines, targetId, transition, zonesDir } from '../helpers/health.ts';
import { tcpListener, until, type Listener } from '../helpers/listeners.ts';

let up: Listener;
let down: Listener;
let zones: string;
const data = mkdtempSync(path.join(os.tmpdir(), 'gslbd-warm-'));
const started: Gslbd[] = [];
const DOWN = targetId('www', '127.0.0.12');

beforeAll(async () => {
  up = await tcpListener('127.0.0.11');
  down = await tcpListener('127.0.0.12');
  // Probed every 5 s, so the first probe after a restart comes up to 5 s later: the first
  // answers can only know the down target from the journal.
  const check = { type: 'tcp', interval: '5s', timeout: '1s', rise: 2, fall: 1 };
  zones = zonesDir({
    www: {
      answers: 4,
      targets: [
        { address: '127.0.0.11', check: { ...check, port: up.port } },
        { address: '127.0.0.12', check: { ...check, port: down.port } },
      ],
    },
  });
}, 30_000);

afterAll(async () => {
  for (const s of started) await s.stop();
  await Promise.all([up?.stop(), down?.stop()]);
});

async function start(dataDir = data): Promise<Gslbd> {
  const s = await startGslbd(['--zones', zones, '--data', dataDir]);
  started.push(s);
  return s;
}

describe('warm start', () => {
  it('a restarted gslbd excludes a target known to be down from its first answer', async () => {
    const first = await start();
    await down.stop();
    await transition(first, 0, DOWN, 'down', 10_000);
    expect((await ask(first, 'www')).addresses).toEqual(['127.0.0.11']);
    expect(await first.stop()).toBe(0);
    // The transition is in the journal as a CRC-checked line.
    const journal = readFileSync(path.join(data, 'journal.log'), 'utf8');
    expect(journal).toMatch(/^[0-9a-f]{8} \{.*"kind":"probe".*"state":"down"/m);

    const second = await start();
    expect(await askFast(second, 'www')).toEqual(['127.0.0.11']);
    expect((await ask(second, 'www')).addresses).toEqual(['127.0.0.11']);
    // Nothing was learnt since the start: the state came from the journal.
    expect(healthLines(second)).toEqual([]);
    expect(second.logs.some((l) => l.msg === 'journal replayed')).toBe(true);
    await second.stop();
  }, 30_000);

  it('the remembered down target comes back by its checks, after `rise` passes', async () => {
    await down.start();
    const third = await start();
    expect(await askFast(third, 'www')).toEqual(['127.0.0.11']);
    const before = down.accepted.length;
    const back = await transition(third, 0, DOWN, 'up', 15_000);
    expect(back).toMatchObject({ from: 'down', to: 'up', reason: 'connected' });
    await until(() => down.accepted.length - before >= 2, 1000, 'two passing probes');
    expect((await ask(third, 'www')).addresses).toEqual(['127.0.0.11', '127.0.0.12']);
    await third.stop();
  }, 30_000);

  it('without the journal (a new --data directory), a cold start serves the target until its first probe', async () => {
    await down.stop();
    // Probed once a minute: the first probe almost surely comes after the first answer.
    const check = { type: 'tcp', interval: '60s', timeout: '1s', fall: 1 };
    const slow = zonesDir({
      www: {
        answers: 4,
        targets: [
          { address: '127.0.0.11', check: { ...check, port: up.port } },
          { address: '127.0.0.12', check: { ...check, port: down.port } },
        ],
      },
    });
    const cold = await startGslbd(['--zones', slow, '--data', mkdtempSync(path.join(os.tmpdir(), 'gslbd-cold-'))]);
    started.push(cold);
    const first = await askFast(cold, 'www');
    await new Promise((r) => setTimeout(r, 300));
    // Inconclusive only if its first probe happened to run before that answer.
    if (!healthLines(cold).some((l) => l.targets.includes(DOWN))) expect(first).toEqual(['127.0.0.11', '127.0.0.12']);
    await cold.stop();
  }, 30_000);
});
