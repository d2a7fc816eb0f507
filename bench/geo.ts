// What geoip-lite's data costs a process: RSS after loading it (process.memoryUsage().rss), peak RSS
// meanwhile (VmHWM, /proc/self/status), the load time and the longest the event loop was blocked
// during the load: the longest gap between two runs of a 1 ms interval timer (up to the end of the
// load), and the main thread's time on a CPU in that gap (/proc/self/task/PID/schedstat), which
// leaves out time spent waiting for a CPU on a busy machine. Each is measured in a fresh process,
// for nothing loaded, the geoip-lite module itself (what src/3-geo/geoip-lite.ts required before it
// read the files into its own tables) and the adapter.
// Then lookups per second of both, over a fixed set of addresses, without the LRU cache that sits
// in front of the database in service.
//
// Run: scripts/node24.sh node bench/geo.ts [--runs 5]

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readGeoipLiteData } from '../src/3-geo/geoip-lite-files.ts';
import { GeoipLiteDatabase } from '../src/3-geo/geoip-lite.ts';
import { sampler } from '../test/geo/blocks.ts';
import { consume, HEADER, measure, row } from './measure.ts';

const MODES = ['none', 'geoip-lite module', 'adapter'] as const;
type Mode = (typeof MODES)[number];

interface Sample {
  readonly rssMB: number;
  readonly hwmMB: number;
  readonly loadMs: number;
  /** Longest gap between two turns of the event loop during the load, as a 1 ms timer sees it. */
  readonly blockMs: number;
  /** Longest time the main thread ran on a CPU between two of those turns. */
  readonly blockCpuMs: number;
  /** How often that timer ran during the load. */
  readonly ticks: number;
}

const mb = (bytes: number) => bytes / 2 ** 20;
const hwmMB = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
/** The main thread's time on a CPU so far, ms (its thread id is the process id). */
const cpuMs = () => Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

/** In the child: load the data one way and print a Sample. */
async function child(mode: Mode): Promise<void> {
  const require = createRequire(import.meta.url);
  const db = new GeoipLiteDatabase();
  let last = performance.now();
  let lastCpu = cpuMs();
  let blockMs = 0;
  let blockCpuMs = 0;
  let ticks = 0;
  const turn = () => {
    const now = performance.now();
    const cpu = cpuMs();
    blockMs = Math.max(blockMs, now - last);
    blockCpuMs = Math.max(blockCpuMs, cpu - lastCpu);
    last = now;
    lastCpu = cpu;
  };
  const timer = setInterval(() => {
    turn();
    ticks++;
  }, 1);
  const start = (last = performance.now());
  lastCpu = cpuMs();
  if (mode === 'geoip-lite module') require('geoip-lite');
  if (mode === 'adapter') await db.load();
  const end = performance.now();
  clearInterval(timer);
  // The stretch from the last tick to the end of the load counts too: all of it, when the load never yields.
  turn();
  const sample: Sample = {
    rssMB: mb(process.memoryUsage().rss),
    hwmMB: hwmMB(),
    loadMs: end - start,
    blockMs,
    blockCpuMs,
    ticks,
  };
  process.stdout.write(JSON.stringify(sample));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, child: { type: 'string' } } });
  if (values.child) return child(values.child as Mode);
  const runs = Number(values.runs);
  const self = fileURLToPath(import.meta.url);

  console.log(
    `## geo: geoip-lite data, ${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}, ${runs} fresh processes each (median, min–max)\n`,
  );
  console.log(
    '| loaded | RSS after load (MB) | peak RSS, VmHWM (MB) | load (ms) | longest event-loop block (ms) | of which on a CPU (ms) | 1 ms timer runs during load |\n|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const mode of MODES) {
    const samples = Array.from(
      { length: runs },
      () => JSON.parse(execFileSync(process.execPath, [self, '--child', mode], { encoding: 'utf8' })) as Sample,
    );
    const cell = (pick: (s: Sample) => number) => {
      const v = samples.map(pick);
      return `${median(v).toFixed(0)} (${Math.min(...v).toFixed(0)}–${Math.max(...v).toFixed(0)})`;
    };
    const loading = (pick: (s: Sample) => number) => (mode === 'none' ? '' : cell(pick));
    console.log(
      `| ${mode} | ${cell((s) => s.rssMB)} | ${cell((s) => s.hwmMB)} | ${loading((s) => s.loadMs)} | ${loading((s) => s.blockMs)} | ${loading((s) => s.blockCpuMs)} | ${loading((s) => s.ticks)} |`,
    );
  }

  const data = await readGeoipLiteData(new GeoipLiteDatabase().dataDir);
  const bytes = data.v4.bytes + data.v6.bytes + data.places.bytes;
  console.log(
    `\nTables: ${data.v4.size.toLocaleString('en-US')} IPv4 ranges, ${data.v6.size.toLocaleString('en-US')} IPv6 records, ` +
      `${data.places.size.toLocaleString('en-US')} places: ${mb(bytes).toFixed(1)} MB of typed arrays.`,
  );

  // Addresses as the server sees them: random IPv4, and IPv6 in the RIRs' blocks.
  const rand = sampler(5);
  const int = (n: number) => Math.floor(rand() * n);
  const v4 = Array.from({ length: 4096 }, () => [int(256), int(256), int(256), int(256)].join('.'));
  const v6 = Array.from({ length: 4096 }, () =>
    [[0x2001, 0x2400, 0x2600, 0x2a00, 0x2a02][int(5)]!, ...Array.from({ length: 7 }, () => int(0x10000))]
      .map((g) => g.toString(16))
      .join(':'),
  );
  const lib = createRequire(import.meta.url)('geoip-lite') as { lookup(ip: string): { country: string } | null };
  const db = new GeoipLiteDatabase();
  await db.load();
  let i = 0;
  console.log(`\n${HEADER}`);
  for (const [name, addresses] of [
    ['IPv4', v4],
    ['IPv6', v6],
  ] as const) {
    console.log(
      row(
        measure(`geoip-lite lookup(), ${name}`, () => consume(lib.lookup(addresses[i++ & 4095]!)?.country.length ?? 0)),
      ),
    );
    console.log(
      row(measure(`adapter lookup(), ${name}`, () => consume(db.lookup(addresses[i++ & 4095]!)?.prefix ?? 0))),
    );
  }
}

await main();
