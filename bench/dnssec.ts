// What online DNSSEC signing costs (issue 16): the DNS handler (parse → resolve → sign → encode)
// on pool and static questions with DO=1 in a signed zone, next to the same questions without DO;
// the cold signing rate of each algorithm (signatures made, no cache); the signature cache's hit
// ratio for weighted, geo and affinity pools over many clients; and the memory 10,000 cached
// signatures take.
//
// Run: scripts/node24.sh node --expose-gc bench/dnssec.ts

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { keyFromText } from '../src/0-base/name.ts';
import { Algorithm, generatePrivateKey, rrsigRdata, signingKey, type AlgorithmNumber } from '../src/1-codec/dnssec.ts';
import type { Answer } from '../src/1-codec/response.ts';
import { makeRRset } from '../src/1-codec/rrset.ts';
import { openGeoDatabase, cachedGeo } from '../src/3-geo/index.ts';
import { ZoneStore } from '../src/2-zone/store.ts';
import { loadZones } from '../src/4-gslb/load.ts';
import { allUp } from '../src/4-gslb/health-view.ts';
import type { PooledZone } from '../src/4-gslb/pool.ts';
import { Signer } from '../src/5-answer/sign.ts';
import { AnswerCache } from '../src/6-serve/cache.ts';
import { createHandler } from '../src/6-serve/handler.ts';
import { buildQuery, ednsOption } from '../test/helpers/raw.ts';
import { consume, HEADER, row, type Measurement } from './measure.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ORIGIN = keyFromText('gslb.example.com.');
const store = new ZoneStore<PooledZone>();
store.put(...(await loadZones(path.join(ROOT, 'test/fixtures/dnssec/zones'))).zones);
const zone = store.get(ORIGIN)!;
const geo = cachedGeo(await openGeoDatabase({ type: 'geoip-lite' }));
const counts = { made: 0, hit: 0, miss: 0 };
const signerOf = (algorithm: AlgorithmNumber, cacheSize = 10_000) =>
  new Signer({
    zones: [{ origin: ORIGIN, keys: [{ key: signingKey(algorithm, generatePrivateKey(algorithm)) }] }],
    validityMs: 3 * 86_400_000,
    cacheSize,
    onSignature: (r) => counts[r]++,
  });
const inputs = { health: allUp, geo, random: Math.random, now: Date.now };
const handlerOf = (signer: Signer | null, cache = true) =>
  createHandler({ zones: store, cache: cache ? new AnswerCache() : null, inputs: () => inputs, signer });

/**
 * CPU time per operation rather than wall time: on a shared machine other processes take turns on
 * the cores, which wall time counts and this process's CPU time does not. Median of 7 rounds.
 */
function measureCpu(name: string, op: () => void, ops = 20_000): Measurement {
  for (let i = 0; i < ops; i++) op();
  const perOp: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < ops; i++) op();
    const used = process.cpuUsage(start);
    perOp.push(((used.user + used.system) * 1000) / ops);
  }
  perOp.sort((a, b) => a - b);
  const ns = perOp[3]!;
  return { name, opsPerSec: 1e9 / ns, nsPerOp: ns, minOpsPerSec: 1e9 / perOp[6]!, maxOpsPerSec: 1e9 / perOp[0]! };
}

/**
 * measureCpu for several operations at once, their rounds taken in turn (one round of each, then
 * the next), so a change in the machine's load falls on all of them alike; with each one's CPU ns
 * per round, to compare them round by round.
 */
function measureCpuPaired(
  ops: readonly (readonly [string, () => void])[],
  n = 20_000,
  rounds = 11,
): { m: Measurement; perRound: number[] }[] {
  for (const [, op] of ops) for (let i = 0; i < n; i++) op();
  const perRound = ops.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    ops.forEach(([, op], k) => {
      const start = process.cpuUsage();
      for (let i = 0; i < n; i++) op();
      const used = process.cpuUsage(start);
      perRound[k]!.push(((used.user + used.system) * 1000) / n);
    });
  }
  return ops.map(([name], k) => {
    const sorted = [...perRound[k]!].sort((a, b) => a - b);
    const ns = median(sorted);
    const m = {
      name,
      opsPerSec: 1e9 / ns,
      nsPerOp: ns,
      minOpsPerSec: 1e9 / sorted.at(-1)!,
      maxOpsPerSec: 1e9 / sorted[0]!,
    };
    return { m, perRound: perRound[k]! };
  });
}

const median = (v: readonly number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
/** An ECS option (RFC 7871) for an IPv4 /24. */
const ecs = (a: number, b: number, c: number) => ednsOption(8, Buffer.from([0, 1, 24, 0, a, b, c]));

console.log(
  `DNSSEC online signing, node ${process.version}: CPU time (user + system) per operation, median of 7 rounds (the warm section: of 11, the three handlers in turn) ` +
    `(ops/s = 1 / that CPU time, one core)\n`,
);

// 1. Warm: the handler with and without DO, the signature cache holding what is asked; the three
// handlers' rounds in turn (11 rounds each), so the load of a shared machine falls on each alike.
console.log('### Warm: the handler, signatures cached\n');
console.log(HEADER);
const signed = handlerOf(signerOf(Algorithm.ECDSAP256SHA256));
const plain = handlerOf(null);
const via = { tcp: false, address: '192.0.2.1' };
const ratios: string[] = [];
for (const [name, qtype, label] of [
  ['weighted.gslb.example.com', 1, 'weighted pool A'],
  ['failover.gslb.example.com', 1, 'failover pool A'],
  ['static.gslb.example.com', 1, 'static A'],
  ['nx.gslb.example.com', 1, 'NXDOMAIN'],
] as const) {
  const op = (h: typeof signed, doBit: boolean, what: string) => {
    const q = buildQuery(name, qtype, { edns: { do: doBit } });
    const run = () => {
      const out = h(q, via);
      consume(out instanceof Buffer ? out.length : 0);
    };
    return [`${label}, ${what}`, run] as const;
  };
  const [unsigned, doOff, withDo] = measureCpuPaired([
    op(plain, false, 'no DO'),
    op(signed, false, 'signing gslbd, no DO'),
    op(signed, true, 'DO=1, signed'),
  ]);
  for (const { m } of [unsigned!, doOff!, withDo!]) console.log(row(m));
  // Round by round: each signed round over the unsigned round just before it, the median of those.
  const paired = median(withDo!.perRound.map((ns, r) => ns / unsigned!.perRound[r]!));
  ratios.push(
    `| ${label} | ${fmt(unsigned!.m.nsPerOp)} | ${fmt(withDo!.m.nsPerOp)} | ${fmt(withDo!.m.nsPerOp / unsigned!.m.nsPerOp, 2)}× | ${fmt(paired, 2)}× |`,
  );
}
console.log(
  "\n| question | ns unsigned | ns signed (warm) | signed / unsigned | median of the rounds' signed / unsigned |\n|---|---:|---:|---:|---:|",
);
for (const r of ratios) console.log(r);

// 2. Cold: signatures made, nothing cached (each RRset a different TTL).
console.log('\n### Cold: signatures made per second (one core)\n');
console.log(HEADER);
for (const [alg, label] of [
  [Algorithm.ECDSAP256SHA256, 'ECDSA P-256 (13)'],
  [Algorithm.ED25519, 'Ed25519 (15)'],
] as const) {
  const key = signingKey(alg, generatePrivateKey(alg));
  const rdata = [Buffer.from([192, 0, 2, 1]), Buffer.from([192, 0, 2, 2])];
  const owner = keyFromText('www.gslb.example.com.');
  let ttl = 0;
  const validity = { inception: 1_800_000_000, expiration: 1_800_259_200 };
  console.log(
    row(
      measureCpu(
        `rrsigRdata, ${label}, 2 A records`,
        () => {
          consume(rrsigRdata({ owner, type: 1, ttl: ttl++ & 0xffff, rdata, labels: 4 }, ORIGIN, key, validity).length);
        },
        2000,
      ),
    ),
  );
  // The whole answer path with every signature a miss (a cache of one entry, answers alternating).
  // No answer cache: it would keep the signed answers and skip the signing.
  const cold = handlerOf(signerOf(alg, 1), false);
  const qs = [
    buildQuery('static.gslb.example.com', 1, { edns: { do: true } }),
    buildQuery('static.gslb.example.com', 16, { edns: { do: true } }),
  ];
  let i = 0;
  console.log(
    row(
      measureCpu(
        `handler, DO=1, every signature made, ${label}`,
        () => {
          const out = cold(qs[i++ & 1]!, via);
          consume(out instanceof Buffer ? out.length : 0);
        },
        2000,
      ),
    ),
  );
}

// 3. Hit ratios: 100,000 queries from 65,536 client /24s (ECS), signatures cached per window.
console.log('\n### Signature cache, 100,000 DO=1 queries from 65,536 client /24s (ECS), one window\n');
console.log('| pool | signatures made (distinct answers signed) | hit ratio |\n|---|---:|---:|');
for (const pool of ['weighted', 'geo-proximity', 'geo-map', 'affinity', 'round-robin']) {
  const h = handlerOf(signerOf(Algorithm.ECDSAP256SHA256));
  counts.made = counts.hit = counts.miss = 0;
  for (let n = 0; n < 100_000; n++) {
    const c = n % 65_536;
    const q = buildQuery(`${pool}.gslb.example.com`, 1, {
      edns: { do: true, options: ecs(1 + (c >> 8), c & 0xff, 7) },
    });
    void h(q, via);
  }
  console.log(`| ${pool} | ${fmt(counts.made)} | ${fmt((100 * counts.hit) / (counts.hit + counts.miss), 3)} % |`);
}

// 4. Memory: 10,000 cached signatures (distinct RRsets: a pool answer with 10,000 TTLs).
const gc = (globalThis as { gc?: () => void }).gc;
if (gc) {
  const s = signerOf(Algorithm.ECDSAP256SHA256, 10_000);
  const rrset = makeRRset(keyFromText('weighted.gslb.example.com.'), 1, 60, [Buffer.from([198, 51, 100, 21])]);
  gc();
  const before = process.memoryUsage();
  const now = Date.now();
  for (let t = 0; t < 10_000; t++) {
    const a: Answer = {
      zone: ORIGIN,
      rcode: 0,
      aa: true,
      answer: [{ owner: rrset.owner, rrset, ttl: t }],
      authority: [],
      additional: [],
    };
    s.sign(zone, rrset.owner, 1, a, now);
  }
  gc();
  const after = process.memoryUsage();
  console.log('\n### Memory of 10,000 cached signatures (ECDSA P-256, one A record each)\n');
  console.log(
    `RSS ${fmt(before.rss / 2 ** 20, 1)} → ${fmt(after.rss / 2 ** 20, 1)} MiB (+${fmt((after.rss - before.rss) / 2 ** 20, 1)}); ` +
      `heap used +${fmt((after.heapUsed - before.heapUsed) / 2 ** 20, 1)} MiB, external + array buffers +${fmt((after.external + after.arrayBuffers - before.external - before.arrayBuffers) / 2 ** 20, 1)} MiB; ` +
      `peak RSS of the whole run ${fmt(process.resourceUsage().maxRSS / 1024, 1)} MiB`,
  );
} else {
  console.log('\n(run with node --expose-gc for the memory figure)');
}
