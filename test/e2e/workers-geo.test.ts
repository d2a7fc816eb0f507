// Worker threads answer geo pools from their primary's geo tables (SharedArrayBuffers, 9-main/cluster):
// the database is read once, by the primary, and each worker answers exactly as a single process
// does, both when the zones have geo pools at start and when a reload brings the first one. The
// reference is a `--workers 1` gslbd on the same zone, asked the same ECS questions; queries go
// from many sockets, so the kernel spreads them over both workers (the query log says which).

import { copyFileSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { GSLB_FIXTURE, poolQuery, UdpClient, type Reply } from '../helpers/pool-queries.ts';
import { mulberry32 } from '../policy/helpers.ts';

const ZONE = 'gslb.example.net.';
/** geo-proximity and geo-map: what they choose depends on the location only. */
const GEO_POOLS = ['near', 'regional'];
/** regional's two EU targets take turns (one answer): either stands for "EU". */
const [EU_FIRST, EU_SECOND] = ['203.0.113.11', '203.0.113.12'];

/** 120 client /24s from a seeded generator: located or not, both must answer alike. */
const random = mulberry32(17);
const SUBNETS = Array.from({ length: 120 }, () => {
  const a = 1 + Math.floor(random() * 222);
  return `${a}.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.0/24`;
});

/** Every geo pool for every subnet, from 16 sockets (so 16 source ports); each reply's addresses, sorted. */
async function ask(port: number): Promise<string[]> {
  const clients = Array.from({ length: 16 }, () => new UdpClient(port));
  try {
    const questions = GEO_POOLS.flatMap((p) => SUBNETS.map((s) => poolQuery(`${p}.${ZONE}`, Type.A, s)));
    const mine = (k: number) => questions.filter((_, i) => i % 16 === k);
    const replies: Reply[][] = await Promise.all(
      clients.map((c, k) => c.queryAll(mine(k).length, (i) => mine(k)[i]!, 8)),
    );
    // Back in question order: question i went through client i % 16.
    return questions.map((_, i) =>
      replies[i % 16]![Math.floor(i / 16)]!.answer.map((r) => (r.data === EU_SECOND ? EU_FIRST : r.data))
        .sort()
        .join(),
    );
  } finally {
    for (const c of clients) c.close();
  }
}

const loadedLines = (s: Gslbd) => s.logs.filter((l) => l.msg === 'client location database loaded');
const sharedLines = (s: Gslbd) => s.logs.filter((l) => /the primary's, shared/.test(String(l.msg)));
const answeringWorkers = (s: Gslbd, from: number) =>
  new Set(s.logs.slice(from).flatMap((l) => (l.msg === 'query' && l.qname !== undefined ? [l.worker] : [])));

/**
 * Both workers answer the geo pools as the single process does, the database loaded once, by
 * the primary (a line without `worker`), each worker taking it as shared.
 */
async function answersAsOneProcess(s: Gslbd): Promise<void> {
  const from = s.logs.length;
  expect(await ask(s.port)).toEqual(expected);
  expect(loadedLines(s)).toHaveLength(1);
  expect(loadedLines(s)[0]!.worker).toBeUndefined();
  expect(
    sharedLines(s)
      .map((l) => l.worker)
      .sort(),
  ).toEqual([1, 2]);
  expect(answeringWorkers(s, from)).toEqual(new Set([1, 2]));
}

let single: Gslbd;
let expected: string[];

beforeAll(async () => {
  single = await startGslbd(['--zones', GSLB_FIXTURE]);
  expected = await ask(single.port);
  // The geo pools answer by location: many different first addresses, not one fallback.
  expect(new Set(expected).size).toBeGreaterThan(6);
}, 30_000);
afterAll(async () => {
  await single?.stop();
});

describe('worker threads and the geo database', () => {
  it('loads it once, in the primary; both workers answer every geo pool as one process does', async () => {
    const s = await startGslbd(['--zones', GSLB_FIXTURE, '--workers', '2', '--query-log-sample', '1']);
    try {
      await s.waitForLog((l) => l.msg === 'workers ready', 20_000);
      await answersAsOneProcess(s);
    } finally {
      await s.stop();
    }
  }, 40_000);

  it('gives the workers the database a reload made the primary load (the first geo pool)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-workers-geo-'));
    copyFileSync(path.join(GSLB_FIXTURE, `${ZONE}zone`), path.join(dir, `${ZONE}zone`));
    const s = await startGslbd(['--zones', dir, '--workers', '2', '--query-log-sample', '1']);
    try {
      await s.waitForLog((l) => l.msg === 'workers ready', 20_000);
      // No pool yet: nothing loaded.
      expect(loadedLines(s)).toHaveLength(0);
      copyFileSync(path.join(GSLB_FIXTURE, `${ZONE}pools.yaml`), path.join(dir, `${ZONE}pools.yaml`));
      const mark = s.logs.length;
      process.kill(s.proc.pid!, 'SIGHUP');
      await s.waitForLog((l) => l.msg === 'worker reloaded' && l.worker === 1, 20_000);
      await s.waitForLog((l) => l.msg === 'worker reloaded' && l.worker === 2, 20_000);
      expect(
        s.logs
          .slice(mark)
          .filter((l) => l.msg === 'worker reloaded')
          .every((l) => l.failed === 0),
      ).toBe(true);
      await answersAsOneProcess(s);
    } finally {
      await s.stop();
    }
  }, 40_000);
});
