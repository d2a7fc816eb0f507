// Affinity across a reload: 10,000 distinct client subnets (sent as ECS) each keep a target; when
// one of n targets leaves the pool (pools file rewritten, SIGHUP), only that target's clients move,
// about 1/n of them. Then a broken pools file on reload: the error is logged with file and line,
// and the previous pools keep answering.
//
// The server serves a copy of test/fixtures/gslb in a temporary directory, so the fixture itself
// is never rewritten.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Type } from '../../src/0-base/constants.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { countOf, GSLB_FIXTURE, leaders, poolQuery, UdpClient } from '../helpers/pool-queries.ts';
import { chiSquareFits, mulberry32 } from '../policy/helpers.ts';

const POOL = 'sticky-stats.gslb.example.net.';
const TARGETS = ['198.51.100.101', '198.51.100.102', '198.51.100.103', '198.51.100.104', '198.51.100.105'];
const REMOVED = '198.51.100.103';
const CLIENTS = 10_000;

let dir: string;
let poolsFile: string;
let server: Gslbd;
let udp: UdpClient;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'gslbd-affinity-'));
  await cp(GSLB_FIXTURE, dir, { recursive: true });
  poolsFile = path.join(dir, 'gslb.example.net.pools.yaml');
  server = await startGslbd(['--zones', dir]);
  udp = new UdpClient(server.port);
}, 30_000);
afterAll(async () => {
  udp?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `n` distinct /24 subnets spread over the IPv4 unicast space, from a seeded generator. */
function subnets(n: number): string[] {
  const random = mulberry32(42);
  const out = new Set<string>();
  while (out.size < n) {
    const first = 1 + Math.floor(random() * 223);
    if (first === 127) continue;
    out.add(`${first}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.0/24`);
  }
  return [...out];
}

/** Sends SIGHUP and waits for the reload's outcome log line (one logged after the signal). */
async function reload(outcome: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  const before = new Set(server.logs);
  server.proc.kill('SIGHUP');
  return server.waitForLog((l) => !before.has(l) && outcome(l));
}

describe('affinity when a target leaves', () => {
  const clients = subnets(CLIENTS);
  const ask = async () => leaders(await udp.queryAll(clients.length, (i) => poolQuery(POOL, Type.A, clients[i]), 32));
  let first: string[];

  it('spreads 10,000 client subnets evenly over 5 targets (chi-square, p = 0.001), each one stable', async () => {
    first = await ask();
    const counts = countOf(first, TARGETS);
    const { statistic, critical } = chiSquareFits(counts, [1, 1, 1, 1, 1]);
    expect(statistic, `counts ${counts.join(':')}`).toBeLessThan(critical);
    // Asked again, every client gets the same target.
    expect(await ask()).toEqual(first);
  });

  it("moves only the removed target's clients, at most 1/n + 2% of all, after a reload", async () => {
    const text = await readFile(poolsFile, 'utf8');
    const line = `    - { address: ${REMOVED} }\n`;
    expect(text).toContain(line);
    await writeFile(poolsFile, text.replace(line, ''));
    await reload((l) => l.msg === 'zone loaded' && l.zone === 'gslb.example.net.');

    const after = await ask();
    const moved = clients.filter((_, i) => after[i] !== first[i]);
    const movedOthers = clients.filter((_, i) => after[i] !== first[i] && first[i] !== REMOVED);
    expect(movedOthers).toEqual([]);
    expect(after).not.toContain(REMOVED);
    expect(moved.length).toBe(first.filter((t) => t === REMOVED).length);
    expect(moved.length / CLIENTS).toBeLessThanOrEqual(1 / TARGETS.length + 0.02);
    // The removed target's clients spread over the four left (chi-square, p = 0.001).
    const rest = TARGETS.filter((t) => t !== REMOVED);
    const counts = countOf(
      after.filter((_, i) => first[i] === REMOVED),
      rest,
    );
    const { statistic, critical } = chiSquareFits(counts, [1, 1, 1, 1]);
    expect(statistic, `counts ${counts.join(':')}`).toBeLessThan(critical);
  });

  it('keeps the previous pools in service when the new pools file is broken, and logs file:line: reason', async () => {
    const good = await ask();
    const text = await readFile(poolsFile, 'utf8');
    await writeFile(poolsFile, text.replace('policy: affinity', 'policy: closest'));
    const logged = await reload((l) => l.msg === 'zone failed to load: previous version kept');
    expect(String(logged.error)).toMatch(
      new RegExp(`^${poolsFile.replace(/[.]/g, '\\.')}:\\d+: sticky(-stats)?\\.policy: "closest" is not one of`),
    );
    expect(await ask()).toEqual(good);
  });
});
