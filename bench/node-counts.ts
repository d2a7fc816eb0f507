// The charts' counts in a cluster (7-state/node-counts.ts, 9-main/cluster-counts.ts): the size of
// one node's value in etcd and what encoding it, decoding it and one sample's sum over the nodes
// cost, for S series of each kind (queries `zone\trcode`, answers `pool\taddress`) and N nodes.
//   scripts/node24.sh node bench/node-counts.ts [series=2000] [nodes=5]

import { decodeCounts, encodeCounts, type NodeCounts } from '../src/7-state/node-counts.ts';
import { ClusterCounts } from '../src/9-main/cluster-counts.ts';

const series = Number(process.argv[2] ?? 2000);
const nodes = Number(process.argv[3] ?? 5);
const STEP = 10_000;

function counts(step: number, node: number): Omit<NodeCounts, 'node'> {
  const queries = new Map<string, number>();
  const answers = new Map<string, number>();
  const rcodes = ['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED'];
  for (let i = 0; i < series; i++) {
    queries.set(`zone${Math.floor(i / 4)}.gslb.example.com.\t${rcodes[i % 4]}`, step * 1000 + i * 7 + node);
    answers.set(`pool${Math.floor(i / 4)}.gslb.example.com.\t198.51.${Math.floor(i / 250)}.${i % 250}`, step * 300 + i);
  }
  return { boot: `boot-${node}`, at: step * STEP + node * 1000, queries, answers };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const encodeMs: number[] = [];
const decodeMs: number[] = [];
let bytes = 0;
let json = 0;
for (let i = 0; i < 9; i++) {
  const c = counts(i, 0);
  json = JSON.stringify({ boot: c.boot, at: c.at, q: [...c.queries], a: [...c.answers] }).length;
  let t0 = performance.now();
  const value = await encodeCounts(c);
  encodeMs.push(performance.now() - t0);
  bytes = value.length;
  t0 = performance.now();
  await decodeCounts('n0', value);
  decodeMs.push(performance.now() - t0);
}

const sum = new ClusterCounts('n0', STEP);
const addMs: number[] = [];
for (let step = 0; step < 30; step++) {
  const others = Array.from({ length: nodes - 1 }, (_, k) => ({ node: `n${k + 1}`, ...counts(step, k + 1) }));
  const own = counts(step, 0);
  const t0 = performance.now();
  sum.add(step * STEP, own, others);
  addMs.push(performance.now() - t0);
}
console.log(
  JSON.stringify({
    series,
    nodes,
    jsonBytes: json,
    valueBytes: bytes,
    encodeMedianMs: +median(encodeMs).toFixed(2),
    decodeMedianMs: +median(decodeMs).toFixed(2),
    sumMedianMs: +median(addMs).toFixed(2),
    sumMaxMs: +Math.max(...addMs).toFixed(2),
  }),
);
