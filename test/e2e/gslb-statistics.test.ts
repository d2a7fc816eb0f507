// Distributions over ≥ 10,000 answers from a running gslbd (test/fixtures/gslb), over raw UDP with
// a bounded number of queries in flight (dig per query would take minutes).
//
// - weighted (smooth weighted round-robin) is exact: from a fresh pool, every cycle of
//   sum(weights) answers holds each target exactly `weight` times. One client asking in turn sees
//   that cycle by cycle; many clients asking at once still share one sequence (the server answers
//   one query at a time), tested with chi-square at p = 0.001 as the issue asks.
// - random: chi-square against uniform at p = 0.001 (a correct server fails 1 run in 1000).
// - round-robin: over whole cycles every target leads equally often (within ±1).
//
// Every pool here is used by this file only, and only by one test: policy state lives in the server.

import { describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { startGslbd } from '../helpers/gslbd.ts';
import { forTests } from '../helpers/fixture.ts';
import { countOf, GSLB_FIXTURE, leaders, poolQuery, UdpClient } from '../helpers/pool-queries.ts';
import { chiSquareFits } from '../policy/helpers.ts';

const ZONE = 'gslb.example.net.';
const name = (label: string) => `${label}.${ZONE}`;
const N = 10_000;
const CONCURRENCY = 32;

const server = forTests(
  () => startGslbd(['--zones', GSLB_FIXTURE]),
  (it) => it.stop(),
);
const udp = forTests(
  async () => new UdpClient(server.port),
  (it) => it.close(),
);

/** A distinct IPv4 /24 per query index, so concurrent answers come from many clients. */
const subnetOf = (i: number) => `${10 + (i >> 16)}.${(i >> 8) & 0xff}.${i & 0xff}.0/24`;

describe('weighted', () => {
  it('one client asking in turn: every cycle of 10 answers holds 5:3:2 exactly, the drained target never (10,000 answers)', async () => {
    const targets = ['198.51.100.41', '198.51.100.42', '198.51.100.43'];
    const query = poolQuery(name('weighted-sequential'), Type.A);
    const replies = await udp.queryAll(N, () => query, 1);
    expect(udp.retries).toBe(0);
    const got = leaders(replies);
    const offCycles: string[] = [];
    for (let c = 0; c < N / 10; c++) {
      const counts = countOf(got.slice(c * 10, c * 10 + 10), targets);
      if (counts.join() !== '5,3,2') offCycles.push(`cycle ${c}: ${counts.join(':')}`);
    }
    expect(offCycles).toEqual([]);
    expect(countOf(got, targets)).toEqual([5000, 3000, 2000]);
    // Smooth: the heaviest target never leads more than twice in a row within 5:3:2.
    expect(got.join(' ')).not.toMatch(/(198\.51\.100\.41 ){3}/);
  });

  it('many clients at once: proportions 50:25:15:7:3 (chi-square, p = 0.001, 10,000 answers)', async () => {
    const targets = ['198.51.100.51', '198.51.100.52', '198.51.100.53', '198.51.100.54', '198.51.100.55'];
    const replies = await udp.queryAll(
      N,
      (i) => poolQuery(name('weighted-concurrent'), Type.A, subnetOf(i)),
      CONCURRENCY,
    );
    const counts = countOf(leaders(replies), targets);
    const { statistic, critical } = chiSquareFits(counts, [50, 25, 15, 7, 3]);
    expect(statistic, `counts ${counts.join(':')}`).toBeLessThan(critical);
  });
});

describe('random', () => {
  it('picks uniformly among 5 targets (chi-square, p = 0.001, 10,000 answers)', async () => {
    const targets = ['198.51.100.31', '198.51.100.32', '198.51.100.33', '198.51.100.34', '198.51.100.35'];
    const query = poolQuery(name('random-stats'), Type.A);
    const replies = await udp.queryAll(N, () => query, CONCURRENCY);
    const counts = countOf(leaders(replies), targets);
    const { statistic, critical } = chiSquareFits(counts, [1, 1, 1, 1, 1]);
    expect(statistic, `counts ${counts.join(':')}`).toBeLessThan(critical);
  });
});

describe('round-robin', () => {
  const targets = [
    '198.51.100.11',
    '198.51.100.12',
    '198.51.100.13',
    '198.51.100.14',
    '198.51.100.15',
    '198.51.100.16',
    '198.51.100.17',
  ];

  it('one client asking in turn sees the targets in pool order, cycle after cycle', async () => {
    const query = poolQuery(name('rr-stats'), Type.A);
    const got = leaders(await udp.queryAll(70, () => query, 1));
    expect(got).toEqual(Array.from({ length: 70 }, (_, i) => targets[i % 7]));
  });

  it('many clients at once: over whole cycles every target leads equally often, within ±1 (10,010 answers)', async () => {
    const n = 1430 * 7;
    const replies = await udp.queryAll(n, (i) => poolQuery(name('rr-stats'), Type.A, subnetOf(i)), CONCURRENCY);
    const counts = countOf(leaders(replies), targets);
    expect(Math.max(...counts) - Math.min(...counts), `counts ${counts.join(':')}`).toBeLessThanOrEqual(1);
    expect(counts.reduce((s, c) => s + c, 0)).toBe(n);
  });
});

describe('least-load', () => {
  it('without monitor reports picks weighted-random 3:1, never the drained target (chi-square, p = 0.001, 10,000 answers)', async () => {
    const query = poolQuery(name('least-load'), Type.A);
    const replies = await udp.queryAll(N, () => query, CONCURRENCY);
    const counts = countOf(leaders(replies), ['198.51.100.61', '198.51.100.62']);
    const { statistic, critical } = chiSquareFits(counts, [3, 1]);
    expect(statistic, `counts ${counts.join(':')}`).toBeLessThan(critical);
  });
});
