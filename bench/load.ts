// Loading a large zone: how long a zone of N records takes to load, and the longest stretch the
// event loop is blocked meanwhile (no query can be answered then: what a reload costs in stall),
// with what ran in that stretch: garbage collection (perf_hooks GC entries inside it) or our code.
//
// Run: scripts/node24.sh node bench/load.ts [--records 1000000] [--pools 1000] [--serve]
//
// Each case runs in a fresh process, through the `loadZones` a start or a reload uses: the zone
// alone; the zone with a pools file of P round-robin pools (so `attachPools` runs); that zone loaded
// again while the first load is still held, as a reload does (pools file unchanged).
// --serve: also a real gslbd (--workers 1, loopback only) serving the zone with its pools, reloaded
// by SIGHUP while this process sends it a query every millisecond: the slowest answer during the
// reload is the stall a client sees. Node flags given to this script (e.g. V8 GC flags) are passed
// on to every process it starts.

import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants, PerformanceObserver, type NodeGCPerformanceDetail } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadZones } from '../src/4-gslb/load.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    pools: { type: 'string', default: '1000' },
    serve: { type: 'boolean', default: false },
    case: { type: 'string' },
  },
});
const N = Number(values.records);
const POOLS = Number(values.pools);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ORIGIN = 'big.test';

/** Writes `<ORIGIN>.zone` of N A records (under 1,000 empty non-terminals) and, with pools, its pools file. */
function writeZone(dir: string, pools: number): void {
  const lines = [
    `$ORIGIN ${ORIGIN}.`,
    '$TTL 300',
    '@ SOA ns1 hostmaster 1 3600 600 86400 60',
    '@ NS ns1',
    'ns1 A 192.0.2.1',
  ];
  for (let i = 0; i < N; i++) lines.push(`h${i}.d${i % 1000} A 198.51.${(i >> 8) & 255}.${i & 255}`);
  writeFileSync(path.join(dir, `${ORIGIN}.zone`), lines.join('\n') + '\n');
  if (pools === 0) return;
  const out: string[] = [];
  for (let i = 0; i < pools; i++) {
    out.push(
      `pool${i}.p${i % 100}:\n  policy: round-robin\n  targets:\n` +
        `    - { address: 192.0.2.${(i % 250) + 1} }\n    - { address: 198.51.100.${(i % 250) + 1} }\n`,
    );
  }
  writeFileSync(path.join(dir, `${ORIGIN}.pools.yaml`), out.join(''));
}

interface Gc {
  start: number;
  ms: number;
  kind: string;
}
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

interface Load {
  names: number;
  ms: number;
  block: number;
  blockCpu: number;
  blockGc: string;
  busiest: number;
  gcMax: number;
  gcMaxKind: string;
  rssMiB: number;
}

/** One `loadZones` of `dir`, with a 1 ms timer noting the longest stretch between its runs. */
async function measure(dir: string, keep: unknown[]): Promise<Load> {
  const gcs: Gc[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const { kind } = (e as unknown as { detail: NodeGCPerformanceDetail }).detail;
      gcs.push({ start: e.startTime, ms: e.duration, kind: (kind !== undefined && GC_KINDS[kind]) || 'gc' });
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  // The main thread's CPU time tells our code and GC on it from the process waiting for a core:
  // a block with little of it means other processes had the CPUs (see RESULTS.md on noise).
  const cpuMs = (): number => {
    const c = process.threadCpuUsage();
    return (c.user + c.system) / 1000;
  };
  let last = performance.now();
  let lastCpu = cpuMs();
  let worst = { from: last, to: last, cpu: 0 };
  let busiest = 0;
  const note = (): void => {
    const now = performance.now();
    const cpu = cpuMs();
    if (now - last > worst.to - worst.from) worst = { from: last, to: now, cpu: cpu - lastCpu };
    busiest = Math.max(busiest, cpu - lastCpu);
    last = now;
    lastCpu = cpu;
  };
  const tick = setInterval(note, 1);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const r = await loadZones(dir);
  const ms = performance.now() - t0;
  note();
  clearInterval(tick);
  await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries arrive a little later
  obs.disconnect();
  const zone = r.zones[0];
  if (!zone) throw new Error(r.failures.flatMap((f) => f.errors.map((e) => e.message)).join('\n') || 'no zone');
  keep.push(r);
  const during = gcs.filter((g) => g.start >= t0 && g.start < t0 + ms);
  const inBlock = during.filter((g) => g.start < worst.to && g.start + g.ms > worst.from);
  const longest = (list: Gc[]) => list.reduce<Gc | undefined>((a, g) => (a && a.ms >= g.ms ? a : g), undefined);
  const top = longest(during);
  const topIn = longest(inBlock);
  return {
    names: zone.nodes.size,
    ms,
    block: worst.to - worst.from,
    blockCpu: worst.cpu,
    busiest,
    blockGc: topIn
      ? `${inBlock.reduce((t, g) => t + g.ms, 0).toFixed(0)} ms (longest: ${topIn.kind} ${topIn.ms.toFixed(0)} ms)`
      : 'none',
    gcMax: top?.ms ?? 0,
    gcMaxKind: top?.kind ?? '-',
    rssMiB: (process.memoryUsage().rss - rss0) / 2 ** 20,
  };
}

/** Child process: one case, one JSON line per load on stdout. */
async function runCase(which: string): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-load-'));
  try {
    writeZone(dir, which === 'zone' ? 0 : POOLS);
    const keep: unknown[] = [];
    console.log(JSON.stringify(await measure(dir, keep)));
    if (which === 'pools') console.log(JSON.stringify(await measure(dir, keep)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function child(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`bench/load.ts ${args.join(' ')}: exit ${code}`)),
    );
  });
}

const n = (x: number): string => x.toLocaleString('en');

function row(what: string, l: Load): string {
  return (
    `| ${what} (${n(l.names)} names) | ${(l.ms / 1000).toFixed(2)} s | **${l.block.toFixed(0)} ms** | ${l.blockCpu.toFixed(0)} ms | ${l.blockGc} | ` +
    `${l.busiest.toFixed(0)} ms | ${l.gcMax.toFixed(0)} ms ${l.gcMaxKind} | ${l.rssMiB.toFixed(0)} MiB |`
  );
}

/** A query for `name` (type A), id `id`. */
function query(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/**
 * A gslbd serving the zone and its pools; SIGHUP once it answers; a query every ms meanwhile.
 * Prints the slowest answer before and during the reload.
 */
async function serve(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-load-'));
  const data = mkdtempSync(path.join(os.tmpdir(), 'gslbd-load-data-'));
  writeZone(dir, POOLS);
  const proc = spawn(
    process.execPath,
    [
      ...process.execArgv,
      '--disable-warning=ExperimentalWarning',
      path.join(ROOT, 'src/9-main/cli.ts'),
      'serve',
      '--zones',
      dir,
      '--listen',
      '127.0.0.1:0',
      '--data',
      data,
      '--workers',
      '1',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // gslbd logs JSON lines on stderr; `logged(msg, from)`: the first line `msg` from line `from` on.
  const lines: Record<string, unknown>[] = [];
  let wake = (): void => {};
  let buffered = '';
  proc.stderr.on('data', (c: Buffer) => {
    buffered += c.toString();
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
    }
    wake();
  });
  const exited = new Promise<never>((_, reject) =>
    proc.once('exit', (code) => reject(new Error(`gslbd exited (${code})`))),
  );
  const logged = async (msg: string, from = 0): Promise<Record<string, unknown>> => {
    for (;;) {
      const found = lines.slice(from).find((l) => l.msg === msg);
      if (found) return found;
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), exited]);
    }
  };
  const sock = dgram.createSocket('udp4');
  try {
    const t0 = performance.now();
    const port = (await logged('listening')).port as number; // after the zones are loaded
    const startS = (performance.now() - t0) / 1000;
    const sent = new Map<number, number>();
    let phase: 'before' | 'during' | 'after' = 'before';
    const worst = { before: 0, during: 0 };
    let r0 = 0;
    let worstAt = 0;
    const count = { before: 0, during: 0 };
    let lost = 0;
    sock.on('message', (m) => {
      const at = sent.get(m.readUInt16BE(0));
      if (at === undefined) return;
      sent.delete(m.readUInt16BE(0));
      if (phase === 'after') return;
      const ms = performance.now() - at;
      if (ms > worst[phase]) {
        worst[phase] = ms;
        if (phase === 'during') worstAt = at - r0;
      }
      count[phase]++;
    });
    let id = 0;
    const tick = setInterval(() => {
      id = (id + 1) & 0xffff;
      const now = performance.now();
      for (const [k, at] of sent) {
        if (now - at <= 2000) continue;
        sent.delete(k);
        lost++;
      }
      sent.set(id, now);
      sock.send(query(id, `h${id % N}.d${(id % N) % 1000}.${ORIGIN}`), port, '127.0.0.1');
    }, 1);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    phase = 'during';
    r0 = performance.now();
    const from = lines.length;
    proc.kill('SIGHUP');
    await logged('zone loaded', from);
    const reloadS = (performance.now() - r0) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 200)); // answers queued behind the swap
    phase = 'after';
    clearInterval(tick);
    return (
      `| gslbd, ${n(N)} records + ${n(POOLS)} pools: start ${startS.toFixed(1)} s; SIGHUP reload ${reloadS.toFixed(1)} s | ` +
      `slowest answer before: ${worst.before.toFixed(1)} ms (${n(count.before)} queries) | during the reload: **${worst.during.toFixed(1)} ms** ` +
      `(${n(count.during)} queries, ${lost} unanswered; asked ${(worstAt / 1000).toFixed(2)} s after the SIGHUP) |`
    );
  } finally {
    sock.close();
    if (proc.exitCode === null) {
      proc.kill('SIGTERM');
      await exited.catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(data, { recursive: true, force: true });
  }
}

if (values.case === 'serve') {
  console.log(await serve());
} else if (values.case) {
  await runCase(values.case);
} else {
  console.log(
    '| zone | load time | longest block | main-thread CPU in it | GC in it | most main-thread CPU in one block | longest GC pause | RSS growth |',
  );
  console.log('|---|---:|---:|---:|---|---:|---:|---:|');
  const [alone] = (await child(['--case', 'zone', '--records', String(N)]))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Load);
  console.log(row(`${n(N)} records`, alone!));
  const [first, again] = (await child(['--case', 'pools', '--records', String(N), '--pools', String(POOLS)]))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Load);
  console.log(row(`${n(N)} records + ${n(POOLS)} pools`, first!));
  console.log(row(`the same, loaded again beside the first`, again!));
  if (values.serve) console.log(await serve());
}
