// Memory of a real gslbd under a fuzz-like load: is RSS growing because of fragmentation (glibc's
// malloc arenas keeping freed memory), a native leak (growing on, in step with the load), or is it
// settling (the young generation and malloc growing to their working size, then a plateau)?
//
// Run: scripts/node24.sh node bench/rss.ts [--minutes 3] [--sample 10] [--env NAME=VALUE ...]
//        [--semi-space MB] [--label NAME]
//
// A gslbd (`--workers 1`, zones/, loopback) runs with bench/memory-sampler.ts imported, which logs
// process.memoryUsage() each second. This process sends it what test/e2e/fuzz.test.ts sends: batches
// of 200 fuzzed UDP messages (test/helpers/fuzz.ts), each from a new socket, and every tenth batch
// a TCP connection with 200 pipelined ones. Every `sample` seconds: RSS (and its anonymous part) and
// threads from /proc/PID/status, the part of RSS freed lazily (MADV_FREE: `LazyFree` in
// /proc/PID/smaps_rollup), the resident part of glibc's main arena (`[heap]` in
// /proc/PID/smaps), with heapUsed, heapTotal, external and arrayBuffers. At the end,
// after 10 s idle, a full GC and a last-resort one (SIGUSR2 to the sampler) and 30 s more, what
// stays once no garbage is left and V8 has given back the pages it keeps for reuse. "other" is RSS − heapTotal − external:
// code, stacks, malloc's own memory (arenas, fragmentation) and anything leaked natively.
// `--env` sets gslbd's environment (MALLOC_ARENA_MAX=2, or LD_PRELOAD=libjemalloc.so.2 to see what
// another malloc makes of the same load), `--semi-space MB` runs it with --max-semi-space-size=MB. Only the gslbd started here is stopped, by PID.

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { nextPacket, Rng } from '../test/helpers/fuzz.ts';
import { ROOT, startGslbd, type Gslbd } from '../test/helpers/gslbd.ts';
import { tcpExchange } from '../test/helpers/raw.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    sample: { type: 'string', default: '10' },
    env: { type: 'string', multiple: true, default: [] },
    'semi-space': { type: 'string' },
    label: { type: 'string' },
    seed: { type: 'string', default: '12345' },
  },
});
const RUN_MS = Number(values.minutes) * 60_000;
const SAMPLE_MS = Number(values.sample) * 1000;
const BATCH = 200;
const MIB = 1 << 20;

interface Sample {
  s: number;
  packets: number;
  rss: number;
  anon: number;
  lazyFree: number;
  brk: number;
  threads: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** kB fields of /proc/PID/status, as bytes (Threads as a count). */
function status(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+)(?: kB)?$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * (line.endsWith('kB') ? 1024 : 1);
  }
  return out;
}

/**
 * Bytes of RSS given back with madvise(MADV_FREE) (`LazyFree` in smaps_rollup): still counted in
 * RSS, but the kernel takes them back the moment it needs memory, without a write to swap.
 */
function lazyFree(pid: number): number {
  const m = /^LazyFree:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resident bytes of the `[heap]` mapping: glibc's main malloc arena (brk), not V8's heap. */
function brkHeap(pid: number): number {
  const m = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function sample(s: Gslbd, t0: number, packets: number, msg = 'memory'): Sample {
  const st = status(s.proc.pid!);
  const mem = s.logs.findLast((l) => l.msg === msg) ?? {};
  const n = (k: string) => Number(mem[k] ?? NaN);
  return {
    s: Math.round((Date.now() - t0) / 1000),
    packets,
    rss: st.VmRSS!,
    anon: st.RssAnon!,
    lazyFree: lazyFree(s.proc.pid!),
    brk: brkHeap(s.proc.pid!),
    threads: st.Threads!,
    heapUsed: n('heapUsed'),
    heapTotal: n('heapTotal'),
    external: n('external'),
    arrayBuffers: n('arrayBuffers'),
  };
}

const mib = (b: number) => (b / MIB).toFixed(0);
/** RSS that is neither the JS heap V8 has committed nor memory it knows is held for JS (external). */
const other = (x: Sample) => x.rss - x.heapTotal - x.external;
const row = (x: Sample, label = String(x.s)) =>
  `| ${label} | ${x.packets} | ${mib(x.rss)} | ${mib(x.anon)} | ${mib(x.lazyFree)} | ${mib(x.brk)} | ${mib(x.heapUsed)} / ${mib(x.heapTotal)} | ${mib(x.external)} | ${mib(x.arrayBuffers)} | ${mib(other(x))} | ${x.threads} |`;

/** Least-squares slope of RSS over time, MiB per minute. */
function slope(xs: Sample[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, x) => a + x.s, 0) / n;
  const my = xs.reduce((a, x) => a + x.rss, 0) / n;
  const num = xs.reduce((a, x) => a + (x.s - mx) * (x.rss - my), 0);
  const den = xs.reduce((a, x) => a + (x.s - mx) ** 2, 0);
  return den === 0 ? 0 : (num / den / MIB) * 60;
}

/** One batch as fuzz.test.ts sends it: a new socket, 200 messages, replies for at most 200 ms. */
async function udpBatch(port: number, rng: Rng): Promise<void> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  let replies = 0;
  sock.on('message', () => replies++);
  let expected = 0;
  for (let i = 0; i < BATCH; i++) {
    const p = nextPacket(rng);
    if (p.msg.length >= 12 && (p.msg[2]! & 0x80) === 0) expected++;
    sock.send(p.msg, port, '127.0.0.1');
  }
  for (let waited = 0; replies < expected && waited < 200; waited += 5) await new Promise((r) => setTimeout(r, 5));
  sock.close();
}

async function main(): Promise<void> {
  const nodeOptions = [
    `--import=${path.join(ROOT, 'bench/memory-sampler.ts')}`,
    ...(values['semi-space'] ? [`--max-semi-space-size=${values['semi-space']}`] : []),
  ];
  const env: Record<string, string> = {
    NODE_OPTIONS: nodeOptions.join(' '),
    GSLBD_LOG_LEVEL: 'info',
    ...Object.fromEntries(values.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
  };
  const label =
    values.label ??
    ([...values.env, values['semi-space'] && `--max-semi-space-size=${values['semi-space']}`]
      .filter(Boolean)
      .join(' ') ||
      'default');
  const s = await startGslbd(['--zones', path.join(ROOT, 'zones')], env);
  const rng = new Rng(Number(values.seed));
  const samples: Sample[] = [];
  let packets = 0;
  try {
    console.log(
      `${new Date().toISOString()} ${label}: gslbd PID ${s.proc.pid}, ${values.minutes} min of fuzz-like load\n`,
    );
    console.log(
      '| s | packets | RSS MiB | RSS anon MiB | of which lazily freed MiB | malloc [heap] MiB | heap used / total MiB | external MiB | arrayBuffers MiB | other MiB | threads |\n|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|',
    );
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    samples.push(sample(s, t0, 0));
    console.log(row(samples[0]!));
    let nextSample = t0 + SAMPLE_MS;
    const tcp = new Set<Promise<unknown>>();
    for (let batch = 0; Date.now() - t0 < RUN_MS; batch++) {
      await udpBatch(s.port, rng);
      packets += BATCH;
      // TCP beside the UDP batches, at most 4 connections at once, as fuzz.test.ts uses.
      if (batch % 10 === 0 && tcp.size < 4) {
        const msgs = Array.from({ length: BATCH }, () => nextPacket(rng).msg);
        packets += BATCH;
        const p: Promise<unknown> = tcpExchange(s.port, msgs, BATCH, 2000)
          .catch(() => {})
          .finally(() => tcp.delete(p));
        tcp.add(p);
      }
      if (Date.now() >= nextSample) {
        samples.push(sample(s, t0, packets));
        console.log(row(samples.at(-1)!));
        nextSample += SAMPLE_MS;
      }
    }
    await Promise.all(tcp);
    await new Promise((r) => setTimeout(r, 10_000));
    const idle = sample(s, t0, packets);
    console.log(row(idle, `${idle.s} (idle 10 s)`));
    s.proc.kill('SIGUSR2');
    await s.waitForLog((l) => l.msg === 'memory after gc', 10_000);
    console.log(row(sample(s, t0, packets, 'memory after gc'), `(after a full GC)`));
    await s.waitForLog((l) => l.msg === 'memory after last-resort gc', 10_000);
    console.log(row(sample(s, t0, packets, 'memory after last-resort gc'), `(after a last-resort GC)`));
    // V8 hands freed pages back to the system a while after the GC, not at once.
    await new Promise((r) => setTimeout(r, 30_000));
    const gc = sample(s, t0, packets);
    console.log(row(gc, `${gc.s} (GCs + 30 s)`));
    const half = samples.filter((x) => x.s >= samples.at(-1)!.s / 2);
    const firstMinute = samples.find((x) => x.s >= 60) ?? samples.at(-1)!;
    const peak = Math.max(...samples.map((x) => x.rss));
    console.log(
      `\n${label}: RSS ${mib(samples[0]!.rss)} MiB at start, ${mib(firstMinute.rss)} after 1 min, peak ${mib(peak)}, ${mib(samples.at(-1)!.rss)} at the end ` +
        `(${packets} packets), ${mib(gc.rss)} 30 s after idle and GCs; other (RSS − heap total − external) ${mib(other(samples[0]!))} → ${mib(other(samples.at(-1)!))} → ${mib(other(gc))} MiB, lazily freed ${mib(gc.lazyFree)} MiB; ` +
        `slope over the second half ${slope(half).toFixed(2)} MiB/min, over the whole run ${slope(samples).toFixed(2)} MiB/min`,
    );
  } finally {
    await s.stop();
  }
}

await main();
