// The JavaScript part of one UDP query, as bench/compare.sh asks it: the whole handler (parse →
// answer cache or resolve → encode) on bench/compare's zone and pool, with the pool's four targets
// under a real HealthChecker (its prober always passes) and the TargetHealth answers read, as
// `gslbd serve` has them. Cases: `pool.bench.example A` without EDNS (dnsperf's pool profile), the
// same with ECS 193.0.0.0/24 (its -E run), and `www.bench.example A` (a static answer, from the
// answer cache). `--root DIR`: another checkout's src/ instead (e.g. `git archive` of the commit
// before a change), run in a process of its own: two checkouts' handlers in one process share
// V8's inline caches for Buffer and Map and slow each other down.
//
// What the kernel costs (recvmmsg, sendmmsg, loopback) is not here: bench/compare.sh measures
// whole queries; this says how much of that the JavaScript is.
//
// `--count N --case NAME`: instead, answer that case's question N times and nothing else, for a
// count that does not depend on the clock: `perf stat -e instructions:u` of two such runs, less
// one with N = 0, is the instructions per query (steadier than time on a shared machine).
//
// Run: scripts/node24.sh node bench/hotpath.ts [--root DIR] [--count N --case pool|pool-ecs|www]

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { buildQuery } from '../test/helpers/raw.ts';
import { consume, HEADER, measure, row } from './measure.ts';
import type { PooledZone } from '../src/4-gslb/pool.ts';

const { values } = parseArgs({
  options: { root: { type: 'string' }, count: { type: 'string' }, case: { type: 'string' } },
});
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CMP = path.join(ROOT, 'bench/compare');

// The zone and pool compare.sh serves gslbd, as a zones directory.
const zonesDir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-hotpath-'));
copyFileSync(path.join(CMP, 'bench.example.zone'), path.join(zonesDir, 'bench.example.zone'));
copyFileSync(path.join(CMP, 'gslbd/bench.example.pools.yaml'), path.join(zonesDir, 'bench.example.pools.yaml'));

/** RFC 7871 option as dnsperf -E 8:00011800c10000 sends it: family 1, /24, scope 0, 193.0.0.0. */
const ecs = Buffer.from('0008000700011800c10000', 'hex');
const cases = [
  ['pool', 'pool A', buildQuery('pool.bench.example', 1)],
  ['pool-ecs', 'pool A, ECS /24', buildQuery('pool.bench.example', 1, { edns: { payload: 4096, options: ecs } })],
  ['www', 'static www A (answer cache)', buildQuery('www.bench.example', 1)],
] as const;

/** The handler of the checkout at `root`, serving bench/compare's zone and pool. */
async function handlerOf(root: string) {
  const load = async <T>(file: string) => (await import(pathToFileURL(path.join(root, 'src', file)).href)) as T;
  const { createHandler } = await load<typeof import('../src/6-serve/handler.ts')>('6-serve/handler.ts');
  const { AnswerCache } = await load<typeof import('../src/6-serve/cache.ts')>('6-serve/cache.ts');
  const { ZoneStore } = await load<typeof import('../src/2-zone/store.ts')>('2-zone/store.ts');
  const { loadZones } = await load<typeof import('../src/4-gslb/load.ts')>('4-gslb/load.ts');
  const { HealthChecker } = await load<typeof import('../src/3-health/checker.ts')>('3-health/checker.ts');
  const { systemClock } = await load<typeof import('../src/3-health/clock.ts')>('3-health/clock.ts');
  const { JournaledStore } = await load<typeof import('../src/7-state/store.ts')>('7-state/store.ts');
  const { TargetHealth } = await load<typeof import('../src/7-state/target-health.ts')>('7-state/target-health.ts');

  const loaded = await loadZones(zonesDir);
  if (loaded.errors.length) throw new Error(loaded.errors.map((e) => e.message).join('; '));
  const store = new ZoneStore<PooledZone>();
  store.put(...loaded.zones);
  const pass = { ok: true, reason: 'connected', hard: false, latencyMs: 0 };
  const prober = { probe: () => Promise.resolve(pass) };
  const checker = new HealthChecker({
    probers: { tcp: prober, http: prober, https: prober, dns: prober },
    clock: systemClock,
    random: Math.random,
    initial: 'up',
  });
  checker.sync(loaded.zones.flatMap((z) => [...(z.pools?.values() ?? [])].flatMap((p) => p.def.targets)));
  const inputs = {
    health: new TargetHealth(checker, new JournaledStore(null)),
    geo: null,
    random: Math.random,
    now: Date.now,
  };
  const handle = createHandler({ zones: store, cache: new AnswerCache(), inputs: () => inputs });
  return { handle, stop: () => checker.stop() };
}

const via = { tcp: false, address: '192.0.2.1' };
const root = path.resolve(values.root ?? ROOT);
const { handle, stop } = await handlerOf(root);

if (values.count !== undefined) {
  const msg = cases.find(([id]) => id === values.case)?.[2];
  if (!msg) throw new Error(`--case ${values.case}: one of ${cases.map(([id]) => id).join(', ')}`);
  for (let i = Number(values.count); i > 0; i--) {
    const out = handle(msg, via);
    consume(out instanceof Buffer ? out.length : 0);
  }
} else {
  console.log(
    `The handler of ${root} on bench/compare's questions, node ${process.version}, median of 7 rounds of 300 ms after 500 ms warm-up\n`,
  );
  console.log(HEADER);
  for (const [, name, msg] of cases) {
    const m = measure(name, () => {
      const out = handle(msg, via);
      consume(out instanceof Buffer ? out.length : 0);
    });
    console.log(row(m));
  }
}
stop();
rmSync(zonesDir, { recursive: true });
