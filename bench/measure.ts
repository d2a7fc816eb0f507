// The one timing loop the micro-benchmarks share: warm up (so V8 has optimized the code), then
// several timed rounds; the median round is the result, min and max show the spread. Results
// depend on whatever else the machine runs at the time: compare numbers from one run.

export interface Measurement {
  readonly name: string;
  /** Median over rounds. */
  readonly opsPerSec: number;
  readonly nsPerOp: number;
  readonly minOpsPerSec: number;
  readonly maxOpsPerSec: number;
}

export interface MeasureOptions {
  readonly warmupMs?: number;
  readonly rounds?: number;
  readonly roundMs?: number;
}

/** Keeps results observable so the optimizer cannot drop the work being timed. */
export let sink = 0;
export const consume = (v: number): void => {
  sink = (sink + v) | 0;
};

/** Runs `op` in batches of `batch` calls until each round has taken `roundMs`. */
export function measure(name: string, op: () => void, opts: MeasureOptions = {}): Measurement {
  const { warmupMs = 500, rounds = 7, roundMs = 300 } = opts;
  const batch = 1000;
  const run = (ms: number): number => {
    let n = 0;
    const start = performance.now();
    let elapsed: number;
    do {
      for (let i = 0; i < batch; i++) op();
      n += batch;
      elapsed = performance.now() - start;
    } while (elapsed < ms);
    return (n / elapsed) * 1000;
  };
  run(warmupMs);
  const results = Array.from({ length: rounds }, () => run(roundMs)).sort((a, b) => a - b);
  const median = results[Math.floor(rounds / 2)]!;
  return { name, opsPerSec: median, nsPerOp: 1e9 / median, minOpsPerSec: results[0]!, maxOpsPerSec: results.at(-1)! };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** A Markdown table row: name, median ops/s, ns/op, min–max ops/s. */
export function row(m: Measurement): string {
  return `| ${m.name} | ${fmt(m.opsPerSec)} | ${fmt(m.nsPerOp, 0)} | ${fmt(m.minOpsPerSec)}–${fmt(m.maxOpsPerSec)} |`;
}

export const HEADER = '| case | ops/s (median) | ns/op | ops/s min–max |\n|---|---:|---:|---|';
