// The status page's charts (9-main/history.ts): what one sample and one view of a full hour cost,
// and the heap a full ring holds, for N targets in pools of 4 and 20 zone × rcode series.
//   scripts/node24.sh node --expose-gc bench/history.ts [targets=2000] [stepMs=10000]

import { StatusHistory, type HistorySample } from '../src/9-main/history.ts';

const targets = Number(process.argv[2] ?? 2000);
const stepMs = Number(process.argv[3] ?? 10_000);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const queries = new Map<string, number>();
const answers = new Map<string, number>();
const states = new Map<string, { state: string; because: string }>();
const keys = Array.from({ length: targets }, (_, i) => `p${Math.floor(i / 4)}.example.\t192.0.2.${i % 4}`);

function sample(step: number): HistorySample {
  for (let z = 0; z < 20; z++) queries.set(`z${z % 10}.example.\t${z < 10 ? 'NOERROR' : 'NXDOMAIN'}`, step * 1000 + z);
  for (const [i, k] of keys.entries()) {
    answers.set(k, step * 10 + (i % 7));
    states.set(k, { state: (step + i) % 50 === 0 ? 'down' : 'up', because: 'probe' });
  }
  return { queries, answers, states };
}

/** Heap and ArrayBuffers (the rings are Float64Arrays, outside the heap). */
const used = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
gc();
const heapBefore = used();
const h = new StatusHistory({ stepMs });
const steps = Math.ceil(3_600_000 / stepMs) + 1;
const addTimes: number[] = [];
for (let s = 0; s < steps; s++) {
  const x = sample(s);
  const t0 = performance.now();
  h.add(s * stepMs, x);
  addTimes.push(performance.now() - t0);
}
gc();
const heapAfter = used();
const viewTimes: number[] = [];
const jsonTimes: number[] = [];
let bytes = 0;
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const v = h.view({ at: steps * stepMs, answers });
  const t1 = performance.now();
  bytes = JSON.stringify(v).length;
  viewTimes.push(t1 - t0);
  jsonTimes.push(performance.now() - t1);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  JSON.stringify({
    targets,
    stepMs,
    samples: steps,
    addMedianMs: +median(addTimes).toFixed(3),
    addMaxMs: +Math.max(...addTimes).toFixed(3),
    viewMedianMs: +median(viewTimes).toFixed(1),
    jsonMedianMs: +median(jsonTimes).toFixed(1),
    viewJsonBytes: bytes,
    ringMiB: +((heapAfter - heapBefore) / 2 ** 20).toFixed(1),
  }),
);
