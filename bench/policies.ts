// What a GSLB decision costs: each policy's pick over 4 and 16 candidates, then Pool.answer (health
// filter → policy → TTL) for every pool of zones/gslb.example.com.pools.yaml.
//
// The client has a fixed, known location (no database lookup: in service that lookup is cached
// per address, see src/3-geo/index.ts cachedGeo) and rotates over 256 addresses, so affinity
// hashes differ from pick to pick. Randomness is seeded, time is fixed.
//
// Run: scripts/node24.sh node bench/policies.ts

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allUp } from '../src/4-gslb/health-view.ts';
import { POLICY_NAMES, policies } from '../src/3-policy/index.ts';
import type { Candidate, Client, PolicyContext } from '../src/3-policy/types.ts';
import { loadZones } from '../src/4-gslb/load.ts';
import { mulberry32 } from '../test/policy/helpers.ts';
import { consume, measure, type Measurement } from './measure.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NOW = 1_700_000_000_000;
const REGIONS = ['EU', 'NA', 'AS', 'default'];

const clients: Client[] = Array.from({ length: 256 }, (_, i) => {
  const location = { country: 'NL', continent: 'EU', point: { lat: 52.37, lon: 4.9 }, prefix: 24 };
  return { address: `198.51.${i}.1`, family: 4, prefix: 24, location: () => location };
});

/** A context whose client changes every pick, like queries from many resolvers. */
function rotatingContext(): PolicyContext {
  const random = mulberry32(42);
  let i = 0;
  return {
    get client() {
      return clients[i++ & 255]!;
    },
    random,
    now: () => NOW,
  };
}

/** `n` candidates carrying everything any policy reads: weight, location, priority, regions, load. */
function candidates(n: number): Candidate[] {
  return Array.from({ length: n }, (_, i) => ({
    index: i,
    key: `192.0.2.${i + 1}`,
    weight: 1 + (i % 5),
    location: { lat: -60 + (120 * i) / n, lon: -170 + (340 * i) / n },
    priority: 1 + (i % 3),
    regions: [REGIONS[i % REGIONS.length]!],
    load: { load: 10 + i, capacity: 100, reportedAt: NOW - 1000 },
  }));
}

const ms = { warmupMs: 300, rounds: 7, roundMs: 200 };
const fmt = (m: Measurement) => m.nsPerOp.toFixed(0);

console.log(
  `policy micro-benchmark, node ${process.version}, ns per call, median of ${ms.rounds} rounds of ${ms.roundMs} ms\n`,
);
console.log('| policy | 4 candidates (ns/pick) | 16 candidates (ns/pick) |\n|---|---:|---:|');
for (const name of POLICY_NAMES) {
  const cells = [4, 16].map((n) => {
    const policy = policies[name]({ fallback: policies['round-robin']({}) });
    const list = candidates(n);
    const ctx = rotatingContext();
    return fmt(measure(`${name} ${n}`, () => consume(policy.pick(list, 1, ctx).indexes[0]!), ms));
  });
  console.log(`| ${name} | ${cells[0]} | ${cells[1]} |`);
}

const zones = (await loadZones(path.join(ROOT, 'zones'))).zones;
const pools = zones.flatMap((z) => [...(z.pools?.values() ?? [])]);
console.log(
  '\n| pool (zones/gslb.example.com.pools.yaml) | policy | targets | Pool.answer A (ns) |\n|---|---|---:|---:|',
);
for (const pool of pools) {
  const ctx = rotatingContext();
  const m = measure(pool.def.label, () => consume(pool.answer(1, ctx, allUp).ttl), ms);
  const policy = pool.def.groups.length ? `${pool.def.policy} over groups` : pool.def.policy;
  console.log(`| ${pool.def.label} | ${policy} | ${pool.targetsFor(1).length} | ${fmt(m)} |`);
}
