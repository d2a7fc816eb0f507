// The contract every policy keeps (src/3-policy/types.ts), as one suite each policy runs:
// runPolicyConformance('weighted', () => policies.weighted({})).

import { describe, it, expect } from 'vitest';
import type { GeoLocation } from '../../src/3-geo/types.ts';
import type { Candidate, Client, Policy, Selection } from '../../src/3-policy/types.ts';
import { makeClient, makeContext, mulberry32 } from './helpers.ts';

const NL: GeoLocation = { country: 'NL', continent: 'EU', point: { lat: 52.37, lon: 4.9 }, prefix: 16 };
const US: GeoLocation = { country: 'US', continent: 'NA', point: { lat: 40.71, lon: -74.01 }, prefix: 40 };
const FR_NO_POINT: GeoLocation = { country: 'FR', continent: 'EU', prefix: 12 };

/** Clients of every kind a policy meets: located or not, IPv4 and IPv6, ECS or source address. */
const CLIENTS: readonly Client[] = [
  makeClient({ address: '198.51.100.0', prefix: 24, location: NL }),
  makeClient({ address: '203.0.113.9', prefix: 32 }),
  makeClient({ address: '2001:db8:ab:cd00::', prefix: 56, location: US }),
  makeClient({ address: '2001:db8::7', prefix: 128, location: US }),
  makeClient({ address: '192.0.2.0', prefix: 20, location: FR_NO_POINT }),
  makeClient({ address: '0.0.0.0', prefix: 0 }),
];

/** A pool with every field some policy reads, and indexes that are not positions. */
const POOL: readonly Candidate[] = [
  {
    index: 3,
    key: '10.0.0.3',
    weight: 10,
    location: { lat: 52.3, lon: 4.8 },
    regions: ['NL'],
    priority: 1,
    load: { load: 30, capacity: 100, reportedAt: 1 },
  },
  {
    index: 7,
    key: '10.0.0.7',
    weight: 50,
    location: { lat: 50.1, lon: 8.7 },
    bias: 20,
    regions: ['EU'],
    priority: 2,
    load: { load: 10, capacity: 100, reportedAt: 1 },
  },
  {
    index: 11,
    key: '10.0.0.11',
    weight: 1,
    location: { lat: 40.7, lon: -74 },
    regions: ['US', 'NA'],
    load: { load: 5, capacity: 0, reportedAt: 1 },
  },
  { index: 12, key: '2001:db8::12', weight: 100, bias: -40, regions: ['default'], priority: 1 },
  {
    index: 20,
    key: '10.0.0.20',
    weight: 5,
    location: { lat: -33.9, lon: 151.2 },
    regions: ['AU', 'OC'],
    priority: 3,
    load: { load: 80, capacity: 400, reportedAt: 2 },
  },
  { index: 21, key: '10.0.0.21', weight: 25, location: { lat: 35.7, lon: 139.7 }, priority: 1 },
  {
    index: 40,
    key: '10.0.0.40',
    weight: 3,
    regions: ['default', 'JP'],
    load: { load: 0, capacity: 10, reportedAt: 5 },
  },
];

function deepFreeze<T>(list: readonly T[]): readonly T[] {
  for (const item of list) Object.freeze(item);
  return Object.freeze(list.slice());
}

function checkSelection(s: Selection, candidates: readonly Candidate[], count: number, client: Client): void {
  const given = new Set(candidates.map((c) => c.index));
  expect(s.indexes.length).toBeGreaterThanOrEqual(1);
  expect(s.indexes.length).toBeLessThanOrEqual(Math.min(count, candidates.length));
  expect(new Set(s.indexes).size).toBe(s.indexes.length);
  for (const i of s.indexes) expect(given.has(i)).toBe(true);
  expect(Number.isInteger(s.scope)).toBe(true);
  expect(s.scope).toBeGreaterThanOrEqual(0);
  expect(s.scope).toBeLessThanOrEqual(client.prefix);
  for (const i of s.scores?.keys() ?? []) expect(given.has(i)).toBe(true);
}

/** A reproducible run of `calls` picks over changing subsets of POOL, for every client in turn. */
function churn(policy: Policy, seed: number, calls: number): Selection[] {
  const rng = mulberry32(seed);
  const out: Selection[] = [];
  for (let n = 0; n < calls; n++) {
    const subset = deepFreeze(POOL.filter(() => rng() < 0.7));
    const candidates = subset.length > 0 ? subset : deepFreeze([POOL[n % POOL.length]!]);
    const client = CLIENTS[n % CLIENTS.length]!;
    const count = 1 + Math.floor(rng() * (POOL.length + 1));
    const s = policy.pick(candidates, count, makeContext({ random: rng, client, now: 1000 + n }));
    checkSelection(s, candidates, count, client);
    out.push(s);
  }
  return out;
}

export function runPolicyConformance(name: string, make: () => Policy): void {
  describe(`${name} keeps the policy contract`, () => {
    it('returns 1..min(count, n) distinct indexes, all of given candidates, for every kind of client', () => {
      const policy = make();
      const candidates = deepFreeze(POOL);
      for (const client of CLIENTS) {
        for (let count = 1; count <= POOL.length + 2; count++) {
          for (let call = 0; call < 3; call++) {
            const s = policy.pick(candidates, count, makeContext({ client, random: mulberry32(count * 10 + call) }));
            checkSelection(s, candidates, count, client);
          }
        }
      }
    });

    it('never mutates the candidates (a frozen list of frozen candidates)', () => {
      const policy = make();
      const candidates = deepFreeze(POOL);
      const before = JSON.stringify(candidates);
      for (const client of CLIENTS) policy.pick(candidates, 3, makeContext({ client }));
      expect(JSON.stringify(candidates)).toBe(before);
    });

    it('answers with the only candidate when there is one', () => {
      const policy = make();
      for (const c of POOL) {
        for (const client of CLIENTS) {
          const s = policy.pick(deepFreeze([c]), 2, makeContext({ client }));
          expect(s.indexes).toEqual([c.index]);
        }
      }
    });

    it('keeps the contract while the candidate list changes between calls', () => {
      churn(make(), 7, 600);
    });

    it('is deterministic given the same random and clock', () => {
      expect(churn(make(), 42, 200)).toEqual(churn(make(), 42, 200));
    });

    it('claims a scope within [0, client prefix]', () => {
      const policy = make();
      for (const prefix of [0, 8, 16, 20, 24, 32]) {
        const s = policy.pick(
          deepFreeze(POOL),
          2,
          makeContext({ client: makeClient({ address: '198.51.100.0', prefix, location: NL }) }),
        );
        expect(s.scope).toBeLessThanOrEqual(prefix);
      }
      for (const prefix of [0, 32, 48, 56, 64, 128]) {
        const s = policy.pick(
          deepFreeze(POOL),
          2,
          makeContext({ client: makeClient({ address: '2001:db8::', prefix, location: US }) }),
        );
        expect(s.scope).toBeLessThanOrEqual(prefix);
      }
    });
  });
}
