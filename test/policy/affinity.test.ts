import { describe, it, expect } from 'vitest';
import { affinity } from '../../src/3-policy/affinity.ts';
import type { Candidate, Client } from '../../src/3-policy/types.ts';
import { chiSquareFits, makeClient, makeContext, mulberry32, tally, targets } from './helpers.ts';

const byte = (rng: () => number): number => Math.floor(rng() * 256);
const group = (rng: () => number): string => Math.floor(rng() * 65536).toString(16);

/** `n` client subnets, IPv4 /24 and IPv6 /56 alternately, from a seeded generator. */
function randomClients(n: number, seed: number): Client[] {
  const rng = mulberry32(seed);
  return Array.from({ length: n }, (_, i) =>
    i % 2 === 0
      ? makeClient({ address: `${byte(rng)}.${byte(rng)}.${byte(rng)}.0`, prefix: 24 })
      : makeClient({ address: `2001:${group(rng)}:${group(rng)}:${(byte(rng) << 8).toString(16)}::`, prefix: 56 }),
  );
}

const first = (candidates: readonly Candidate[], client: Client): number =>
  affinity({}).pick(candidates, 1, makeContext({ client })).indexes[0]!;

describe('affinity (weighted rendezvous hashing)', () => {
  const pool = targets(5, (i) => ({ key: `10.0.0.${i + 1}` }));

  it('gives every address of one IPv4 /24 the same ranking, and claims scope 24', () => {
    const rank = (address: string) => affinity({}).pick(pool, 5, makeContext({ client: makeClient({ address }) }));
    const base = rank('198.51.100.1');
    expect(base.scope).toBe(24);
    for (const host of [0, 7, 128, 255]) expect(rank(`198.51.100.${host}`).indexes).toEqual(base.indexes);
  });

  it('gives every address of one IPv6 /56 the same ranking, and claims scope 56', () => {
    const rank = (address: string) => affinity({}).pick(pool, 5, makeContext({ client: makeClient({ address }) }));
    const base = rank('2001:db8:0:ab00::1');
    expect(base.scope).toBe(56);
    for (const a of ['2001:db8:0:ab00::', '2001:db8:0:abff:ffff:ffff:ffff:ffff', '2001:db8:0:ab12::9']) {
      expect(rank(a).indexes).toEqual(base.indexes);
    }
  });

  it('hashes only the ECS source prefix when it is shorter, and claims it as scope', () => {
    const s = affinity({}).pick(pool, 1, makeContext({ client: makeClient({ address: '198.51.96.0', prefix: 20 }) }));
    expect(s.scope).toBe(20);
    const v6 = affinity({}).pick(pool, 1, makeContext({ client: makeClient({ address: '2001:db8::', prefix: 48 }) }));
    expect(v6.scope).toBe(48);
    const none = affinity({}).pick(pool, 1, makeContext({ client: makeClient({ address: '0.0.0.0', prefix: 0 }) }));
    expect(none.scope).toBe(0);
  });

  it('ranks by the rendezvous scores, highest first, and reports them', () => {
    const s = affinity({}).pick(pool, 5, makeContext({ client: makeClient({ address: '203.0.113.0', prefix: 24 }) }));
    expect(s.scoreName).toBe('hash');
    const scores = s.indexes.map((i) => s.scores!.get(i)!);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((x) => x > 0)).toBe(true);
  });

  it('moves only the clients of a removed target: at most 1/n + 2% of 20,000 subnets', () => {
    const clients = randomClients(20_000, 17);
    const removed = 2;
    const rest = pool.filter((c) => c.index !== removed);
    let moved = 0;
    for (const client of clients) {
      const before = first(pool, client);
      const after = first(rest, client);
      if (after !== before) {
        moved++;
        expect(before).toBe(removed);
      }
    }
    expect(moved).toBeGreaterThan(0);
    expect(moved / clients.length).toBeLessThanOrEqual(1 / pool.length + 0.02);
  });

  it('spreads subnets evenly over equal weights (chi-square, p = 0.001)', () => {
    const picks = randomClients(20_000, 23).map((client) => first(pool, client));
    const { statistic, critical } = chiSquareFits(tally(picks, [0, 1, 2, 3, 4]), [1, 1, 1, 1, 1]);
    expect(statistic).toBeLessThan(critical);
  });

  it('spreads subnets in proportion to weight (chi-square, p = 0.001)', () => {
    const weighted = targets(4, (i) => ({ key: `target-${i}`, weight: [1, 2, 3, 4][i]! }));
    const picks = randomClients(20_000, 29).map((client) => first(weighted, client));
    const { statistic, critical } = chiSquareFits(tally(picks, [0, 1, 2, 3]), [1, 2, 3, 4]);
    expect(statistic).toBeLessThan(critical);
  });
});
