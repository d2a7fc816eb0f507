// Probing 10k pools × 4 targets: does every TCP check of a large configuration get probed once per
// interval, for minutes, without falling behind? A real gslbd (`--workers 1`) serves a generated
// zone whose pools file has `--pools` pools of `--targets` targets, each target a distinct address
// (target k is 127.(1 + k>>16).(k>>8 & 255).(k & 255)), all with the same TCP check. Listener
// processes bound to 0.0.0.0:PORT accept for every 127.x.y.z address and record, per destination
// address (the socket's localAddress), the time of every accepted connection: one probe each.
//
// Reported: the gap between successive probes of each check against the interval (gslbd jitters
// each gap by up to ±5 %, so the mean of gap − interval is the lateness, and anything beyond +5 %
// is late beyond jitter), checks probed fewer times than the interval allows, lateness, probe rate,
// CPU and open files per minute (does it grow?), gslbd RSS, gslbd's own count of passed and failed
// probes (its /metrics), the TCP keepalives the machine sent, and the latency of one UDP query to a
// random pool every second meanwhile.
//
// gslbd keeps each passing TCP check's connection open until its next probe (probers/tcp.ts,
// `watch`), so it holds one socket per check, and the listeners one per check too: the listener
// side is split over `--listeners` processes (SO_REUSEPORT) so that none passes its open-file
// limit; gslbd's limit is its own (the script warns when the checks cannot fit in it).
//
// --mode keep      the listeners keep every accepted connection open, as most servers do
// --mode close     they close it at once: gslbd then stops watching (it re-probes once, sees that
//                  the target closes idle connections itself, and keeps only the interval probes)
// --blackhole N    the first target of each of the first N pools is checked on a port whose
//                  listener is stopped (SIGSTOP) with a full accept queue: SYNs are dropped and
//                  every probe of those targets runs into its timeout, as when a data centre drops
//                  off the network. The other checks must keep their interval meanwhile.
//
// Run: scripts/node24.sh node bench/probes.ts [--pools 10000] [--targets 4] [--seconds 180]
//      [--interval 10] [--timeout 2] [--mode keep|close] [--listeners N] [--blackhole 0]
// Everything is on loopback; the processes started here are stopped by PID. Results: bench/RESULTS.md.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Type } from '../src/0-base/constants.ts';
import { JITTER } from '../src/3-health/checker.ts';
import { startGslbd, type Gslbd } from '../test/helpers/gslbd.ts';
import { readReply } from '../test/helpers/pool-queries.ts';
import { buildQuery, udpExchange } from '../test/helpers/raw.ts';

const ORIGIN = 'probes.bench';
const { values } = parseArgs({
  options: {
    pools: { type: 'string', default: '10000' },
    targets: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '180' },
    interval: { type: 'string', default: '10' },
    timeout: { type: 'string', default: '2' },
    mode: { type: 'string', default: 'keep' },
    listeners: { type: 'string' },
    blackhole: { type: 'string', default: '0' },
  },
});
const int = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name}: an integer in ${min}..${max}`);
  return n;
};
const POOLS = int('pools', values.pools, 1, 100_000);
const PER_POOL = int('targets', values.targets, 1, 16);
const SECONDS = int('seconds', values.seconds, 10, 3600);
const INTERVAL_S = Number(values.interval);
const TIMEOUT_S = Number(values.timeout);
if (!(INTERVAL_S >= 1 && INTERVAL_S <= 60)) throw new Error('--interval: seconds, 1..60 (what a pools file accepts)');
if (!(TIMEOUT_S >= 0.1 && TIMEOUT_S < INTERVAL_S))
  throw new Error('--timeout: seconds, at least 0.1 and below the interval');
const MODE = values.mode;
if (MODE !== 'keep' && MODE !== 'close') throw new Error('--mode: keep | close');
const N = POOLS * PER_POOL;
if (N > 254 << 16) throw new Error('too many targets for 127.1.0.0 … 127.254.255.255');
const BLACKHOLE = int('blackhole', values.blackhole, 0, POOLS);
const INTERVAL = INTERVAL_S * 1000;

const address = (k: number): string => `127.${1 + (k >>> 16)}.${(k >>> 8) & 255}.${k & 255}`;
/** Target k is black-holed: the first target of each of the first BLACKHOLE pools. */
const blackholed = (k: number): boolean => k % PER_POOL === 0 && k / PER_POOL < BLACKHOLE;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();

/** Soft limit on open files of a process (ours, or gslbd's). */
function openFileLimit(pid: number | 'self'): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'));
  return Number(line?.split(/\s+/)[3] ?? NaN);
}

const LISTENERS =
  values.listeners === undefined
    ? MODE === 'close'
      ? 1
      : Math.max(1, Math.ceil((N + 2000) / (openFileLimit('self') - 1000)))
    : int('listeners', values.listeners, 1, 16);

// One listener process: accepts on 0.0.0.0:PORT (SO_REUSEPORT, so several share the port), keeps
// (or closes) each connection, and records per destination address index the time of each accept.
// On "dump FILE" it writes what it saw as JSON and says "dumped".
const LISTENER = `
const net = require('node:net');
const fs = require('node:fs');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const [port, mode, n] = process.argv.slice(1);
const N = Number(n);
const times = Array.from({ length: N }, () => []);
const s = { accepted: 0, foreign: 0, open: 0, maxOpen: 0, errors: 0, acceptErrors: 0 };
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const server = net.createServer((sock) => {
  const t = performance.timeOrigin + performance.now();
  s.accepted++;
  const p = String(sock.localAddress).split('.').map(Number);
  const i = ((p[1] - 1) << 16) | (p[2] << 8) | p[3];
  if (p.length !== 4 || p[0] !== 127 || !(i >= 0 && i < N)) { s.foreign++; sock.destroy(); return; }
  times[i].push(Math.round(t * 100) / 100);
  if (mode === 'close') { sock.destroy(); return; }
  if (++s.open > s.maxOpen) s.maxOpen = s.open;
  sock.on('error', () => s.errors++);
  sock.on('close', () => s.open--);
  sock.resume();
});
server.on('error', (e) => { s.acceptErrors++; process.stderr.write('listener: ' + e.message + '\\n'); });
server.listen({ host: '0.0.0.0', port: Number(port), reusePort: true, backlog: 4096 }, () => {
  process.stdout.write('listening ' + server.address().port + '\\n');
});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  for (const line of d.split('\\n')) {
    if (!line.startsWith('dump ')) continue;
    const out = { ...s, loopDelayMaxMs: delay.max / 1e6, loopDelayP99Ms: delay.percentile(99) / 1e6, times };
    fs.writeFileSync(line.slice(5), JSON.stringify(out));
    process.stdout.write('dumped\\n');
  }
});
`;

// The black hole: listens with an accept queue of one and is stopped (SIGSTOP) at once, so it never
// accepts; the kernel drops the SYNs that find the queue full, and connects hang until the timeout.
const BLACKHOLE_LISTENER = `
require('node:net').createServer(() => {}).listen({ host: '0.0.0.0', port: 0, backlog: 1 }, function () {
  process.stdout.write('listening ' + this.address().port + '\\n');
});
`;

interface ListenerDump {
  readonly accepted: number;
  readonly foreign: number;
  readonly maxOpen: number;
  readonly errors: number;
  readonly acceptErrors: number;
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
  readonly times: number[][];
}

/** A child node process that speaks in lines ("listening PORT", "dumped"). */
class Child {
  readonly proc: ChildProcess;
  #waiters: { word: string; resolve: (rest: string) => void }[] = [];

  constructor(script: string, args: string[]) {
    this.proc = spawn(process.execPath, ['-e', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.proc.stdout!.setEncoding('utf8');
    this.proc.stdout!.on('data', (d: string) => {
      for (const line of d.split('\n').filter(Boolean)) {
        const [word, ...rest] = line.split(' ');
        for (const w of this.#waiters.filter((x) => x.word === word)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(rest.join(' '));
        }
      }
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  next(word: string, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child ${this.pid} did not say "${word}"`)), timeoutMs);
      this.#waiters.push({
        word,
        resolve: (rest) => {
          clearTimeout(timer);
          resolve(rest);
        },
      });
    });
  }

  async dump(file: string): Promise<ListenerDump> {
    const done = this.next('dumped');
    this.proc.stdin!.write(`dump ${file}\n`);
    await done;
    return JSON.parse(readFileSync(file, 'utf8')) as ListenerDump;
  }

  /** Ends our own child, by its PID (SIGKILL also ends a stopped one). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    process.kill(this.pid, signal);
    await exited;
  }
}

function writeZones(dir: string, port: number, blackholePort: number): void {
  writeFileSync(
    path.join(dir, `${ORIGIN}.zone`),
    `$ORIGIN ${ORIGIN}.
$TTL 300
@    IN SOA ns1 hostmaster ( 1 3600 600 86400 60 )
     IN NS  ns1
ns1  IN A   192.0.2.53
`,
  );
  const check = (p: number) =>
    `{ type: tcp, port: ${p}, interval: ${INTERVAL_S}s, timeout: ${TIMEOUT_S}s, rise: 2, fall: 2 }`;
  const out: string[] = [];
  for (let p = 0; p < POOLS; p++) {
    out.push(
      `p${p}:`,
      '  policy: round-robin',
      `  answers: ${PER_POOL}`,
      '  ttl: 10',
      `  check: ${check(port)}`,
      '  targets:',
    );
    for (let t = 0; t < PER_POOL; t++) {
      const k = p * PER_POOL + t;
      out.push(`    - { address: ${address(k)}${blackholed(k) ? `, check: ${check(blackholePort)}` : ''} }`);
    }
  }
  writeFileSync(path.join(dir, `${ORIGIN}.pools.yaml`), `${out.join('\n')}\n`);
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of proc(5), in clock ticks (100 per second on Linux).
  return (Number(f[11]) + Number(f[12])) * 10;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Machine-wide jiffies from /proc/stat: busy (everything but idle and iowait) and softirq. */
function machineCpu(): { busy: number; softirq: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - f[4]!, softirq: f[6]!, total };
}

/** TCP keepalive segments the machine has sent (all processes), from /proc/net/netstat. */
function keepalives(): number {
  const [head, values] = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'));
  const i = head?.split(' ').indexOf('TCPKeepAlive') ?? -1;
  return i < 0 ? NaN : Number(values?.split(' ')[i]);
}

function timeWait(): number {
  const m = /TCP: .* tw (\d+)/.exec(readFileSync('/proc/net/sockstat', 'utf8'));
  return m ? Number(m[1]) : NaN;
}

interface Sample {
  readonly at: number;
  readonly cpuMs: number;
  readonly listenerCpuMs: number;
  readonly rss: number;
  readonly fds: number;
  readonly machine: ReturnType<typeof machineCpu>;
}

interface Query {
  readonly at: number;
  readonly ms: number | null;
  readonly addresses: number;
}

interface Run {
  readonly t0: number;
  readonly tEnd: number;
  readonly spawned: number;
  readonly startCpu: number;
  readonly limit: number;
  readonly samples: Sample[];
  readonly dns: Query[];
  readonly dumps: ListenerDump[];
  readonly transitions: Record<string, unknown>[];
  readonly maxTw: number;
  readonly keepalivesPerS: number;
  readonly probeMetrics: ProbeMetrics | string;
}

/** gslbd's own count of its TCP probes (/metrics), and how many took longer than 0.1 s and 1 s. */
interface ProbeMetrics {
  readonly pass: number;
  readonly fail: number;
  readonly over100ms: number;
  readonly over1s: number;
}

function probeMetrics(text: string): ProbeMetrics {
  const sum = (name: string, labels: string[]) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)))
      .reduce((a, l) => a + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  const tcp = 'type="tcp"';
  const all = sum('gslbd_probe_duration_seconds_count', [tcp]);
  return {
    pass: sum('gslbd_probes_total', [tcp, 'result="pass"']),
    fail: sum('gslbd_probes_total', [tcp, 'result="fail"']),
    over100ms: all - sum('gslbd_probe_duration_seconds_bucket', [tcp, 'le="0.1"']),
    over1s: all - sum('gslbd_probe_duration_seconds_bucket', [tcp, 'le="1"']),
  };
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'gslbd-probes-'));
  const children: Child[] = [];
  let server: Gslbd | null = null;
  try {
    const listeners: Child[] = [];
    let port = 0;
    for (let i = 0; i < LISTENERS; i++) {
      const l = new Child(LISTENER, [String(port), MODE, String(N)]);
      children.push(l);
      listeners.push(l);
      port = Number(await l.next('listening'));
    }
    let blackholePort = 0;
    if (BLACKHOLE) {
      const hole = new Child(BLACKHOLE_LISTENER, []);
      children.push(hole);
      blackholePort = Number(await hole.next('listening'));
      process.kill(hole.pid, 'SIGSTOP');
    }
    const zones = path.join(tmp, 'zones');
    mkdirSync(zones);
    writeZones(zones, port, blackholePort);

    // The API only for /metrics: gslbd's own count of probes that passed and failed.
    const token = randomBytes(16).toString('hex');
    const config = path.join(tmp, 'gslbd.yaml');
    writeFileSync(
      config,
      `zones: ${zones}\napi:\n  listen: 127.0.0.1:0\n  tokens:\n    - { name: bench, token: ${token} }\n`,
    );

    const spawned = wall();
    server = await startGslbd(['--config', config], { GSLBD_LOG_LEVEL: 'info' });
    const gslbd = server;
    const apiPort = (await gslbd.waitForLog((l) => l.msg === 'api listening')).port as number;
    const pid = gslbd.proc.pid!;
    const t0 = wall();
    const startCpu = cpuMs(pid);
    const limit = openFileLimit(pid);
    process.stderr.write(
      `gslbd ${pid} listening after ${((t0 - spawned) / 1000).toFixed(1)} s (${startCpu} ms CPU); ` +
        `${N} checks (${BLACKHOLE} black-holed), interval ${INTERVAL_S} s, ${MODE} mode, ${LISTENERS} listener process(es) ` +
        `on port ${port}; gslbd open-file limit ${limit}; probing for ${SECONDS} s\n`,
    );
    if (MODE === 'keep' && limit < N + 1000) {
      process.stderr.write(
        `warning: gslbd keeps one connection per passing TCP check open, and ${N} checks do not fit ` +
          `in its open-file limit of ${limit}: probes beyond it fail with EMFILE\n`,
      );
    }

    const listenerCpu = () => listeners.reduce((a, l) => a + cpuMs(l.pid), 0);
    const samples: Sample[] = [];
    const dns: Query[] = [];
    let maxTw = 0;
    const keepalives0 = keepalives();
    const end = t0 + SECONDS * 1000;
    const sampler = (async () => {
      for (let i = 0; i <= SECONDS && wall() < end + 500; i++) {
        const fds = readdirSync(`/proc/${pid}/fd`).length;
        samples.push({
          at: wall(),
          cpuMs: cpuMs(pid),
          listenerCpuMs: listenerCpu(),
          rss: rssMiB(pid),
          fds,
          machine: machineCpu(),
        });
        if (i % 10 === 0) maxTw = Math.max(maxTw, timeWait());
        await sleep(Math.max(0, t0 + (i + 1) * 1000 - wall()));
      }
    })();
    // Pools with a black-holed target answer one address fewer once it is down: ask the others.
    const asked = BLACKHOLE < POOLS ? BLACKHOLE : 0;
    const asker = (async () => {
      for (let i = 0; i < SECONDS && wall() < end; i++) {
        const pool = `p${asked + Math.floor(Math.random() * (POOLS - asked))}.${ORIGIN}`;
        const sent = performance.now();
        const reply = await udpExchange(gslbd.port, buildQuery(pool, Type.A, { id: i & 0xffff }), 1000);
        const ms = reply ? performance.now() - sent : null;
        const addresses = reply ? readReply(reply).answer.filter((a) => a.type === Type.A).length : 0;
        dns.push({ at: wall(), ms, addresses });
        await sleep(Math.max(0, t0 + (i + 1) * 1000 + 500 - wall()));
      }
    })();
    await Promise.all([sampler, asker]);
    const tEnd = wall();
    const keepalivesPerS = (keepalives() - keepalives0) / ((tEnd - t0) / 1000);
    const dumps: ListenerDump[] = [];
    for (const [i, l] of listeners.entries()) dumps.push(await l.dump(path.join(tmp, `dump-${i}.json`)));
    const transitions = gslbd.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('health:'));
    // At its open-file limit gslbd cannot accept the API connection either.
    let metrics: ProbeMetrics | string;
    try {
      const res = await fetch(`http://127.0.0.1:${apiPort}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      metrics = probeMetrics(await res.text());
    } catch (e) {
      metrics = `unavailable (${(e as Error).message}: ${String((e as { cause?: unknown }).cause)})`;
    }
    await gslbd.stop();
    server = null;
    report({
      t0,
      tEnd,
      spawned,
      startCpu,
      limit,
      samples,
      dns,
      dumps,
      transitions,
      maxTw,
      keepalivesPerS,
      probeMetrics: metrics,
    });
  } finally {
    await server?.stop();
    for (const c of children) await c.stop('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  }
}

function quantile(sorted: ArrayLike<number>, q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function summary(xs: number[]): { n: number; mean: number; p50: number; p99: number; p999: number; max: number } {
  const s = Float64Array.from(xs).sort();
  return {
    n: s.length,
    mean: s.reduce((a, b) => a + b, 0) / (s.length || 1),
    p50: quantile(s, 0.5),
    p99: quantile(s, 0.99),
    p999: quantile(s, 0.999),
    max: s.length ? s[s.length - 1]! : NaN,
  };
}

function report(r: Run): void {
  const { t0, tEnd } = r;
  // Every probe of each reachable check, from all listener processes, in time order.
  const per: number[][] = Array.from({ length: N }, () => []);
  for (const d of r.dumps) d.times.forEach((ts, i) => per[i]!.push(...ts));
  const late: number[] = [];
  const lateAt: number[] = [];
  // Steady state: gaps ending two intervals in, once every check has made its first probe (and, in
  // close mode, the one re-probe that teaches gslbd not to watch).
  const settled = t0 + 2 * INTERVAL;
  const steadyGaps: number[] = [];
  // Whole seconds only: the last, partial one would read as a drop.
  const perSecond = new Array<number>(Math.floor((tEnd - t0) / 1000)).fill(0);
  let never = 0;
  let fewer = 0;
  let early = 0;
  let beyondJitter = 0;
  let beyondSecond = 0;
  let probes = 0;
  for (const [k, ts] of per.entries()) {
    if (blackholed(k)) continue;
    ts.sort((a, b) => a - b);
    probes += ts.length;
    for (const t of ts) {
      const sec = Math.floor((t - t0) / 1000);
      if (sec >= 0 && sec < perSecond.length) perSecond[sec]!++;
    }
    if (!ts.length) {
      never++;
      continue;
    }
    // Fewest probes an on-time loop makes from its first probe to the end, every gap at +5 %.
    if (ts.length < 1 + Math.floor((tEnd - ts[0]!) / (INTERVAL * (1 + JITTER)))) fewer++;
    for (let i = 1; i < ts.length; i++) {
      const d = ts[i]! - ts[i - 1]! - INTERVAL;
      late.push(d);
      lateAt.push(ts[i]! - t0);
      if (ts[i]! < settled) continue;
      steadyGaps.push(d);
      if (d < -JITTER * INTERVAL - 10) early++;
      if (d > JITTER * INTERVAL + 10) beyondJitter++;
      if (d > JITTER * INTERVAL + 1000) beyondSecond++;
    }
  }
  const all = summary(steadyGaps);
  const minutes = Math.ceil((tEnd - t0) / 60_000);
  const byMinute: number[][] = Array.from({ length: minutes }, () => []);
  late.forEach((d, i) => byMinute[Math.min(minutes - 1, Math.max(0, Math.floor(lateAt[i]! / 60_000)))]!.push(d));

  const s = r.samples;
  const between = (a: number, b: number) => {
    const xs = s.filter((x) => x.at >= a && x.at <= b);
    if (xs.length < 2) return { gslbd: NaN, listeners: NaN, machine: NaN, softirq: NaN, fds: NaN };
    const [f, l] = [xs[0]!, xs.at(-1)!];
    const wallMs = l.at - f.at;
    const jiffies = l.machine.total - f.machine.total;
    return {
      gslbd: (100 * (l.cpuMs - f.cpuMs)) / wallMs,
      listeners: (100 * (l.listenerCpuMs - f.listenerCpuMs)) / wallMs,
      // Of both cores: 200 % is the whole machine.
      machine: (200 * (l.machine.busy - f.machine.busy)) / jiffies,
      softirq: (200 * (l.machine.softirq - f.machine.softirq)) / jiffies,
      fds: Math.max(...xs.map((x) => x.fds)),
    };
  };
  const steady = between(settled, tEnd);
  const rss = s.map((x) => x.rss);
  const dnsOk = r.dns.filter((q) => q.ms !== null);
  const dnsMs = summary(dnsOk.map((q) => q.ms!));
  const short = r.dns.filter((q) => q.ms !== null && q.addresses < PER_POOL).length;
  const downs = r.transitions.filter((l) => l.to === 'down');
  const reasons = [...new Set(downs.map((l) => String(l.reason)))].slice(0, 3);
  const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  const dumps = r.dumps;
  const pm = r.probeMetrics;
  const reachable = N - Math.min(BLACKHOLE, POOLS);
  const rate = (from: number, to: number) => {
    const xs = perSecond.slice(from, to);
    return xs.length
      ? `${f(xs.reduce((a, b) => a + b, 0) / xs.length, 0)} (${Math.min(...xs)}–${Math.max(...xs)})`
      : '–';
  };

  const lines = [
    `date: ${new Date().toISOString()}; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, ` +
      `Node ${process.version}; load average at the end ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    `${POOLS} pools × ${PER_POOL} targets = ${N} TCP checks (${BLACKHOLE} black-holed); interval ${INTERVAL_S} s, ` +
      `timeout ${TIMEOUT_S} s, rise 2, fall 2 (${Math.round(N / INTERVAL_S)} probes/s); ${MODE} mode, ` +
      `${dumps.length} listener process(es); probed for ${((tEnd - t0) / 1000).toFixed(0)} s after gslbd listened`,
    `gslbd start: listening ${((t0 - r.spawned) / 1000).toFixed(1)} s after spawn, ${r.startCpu} ms CPU; open-file limit ${r.limit}; ` +
      `TIME_WAIT sockets (machine) up to ${r.maxTw}; TCP keepalives sent (machine) ${f(r.keepalivesPerS, 0)}/s`,
    '',
    `| reachable checks | probes | never probed | fewer than expected | gaps from ${2 * INTERVAL_S} s | early (< −5 %) | late beyond jitter (> +5 %) | > +5 % + 1 s |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${reachable} | ${probes} | ${never} | ${fewer} | ${all.n} | ${early} | ${beyondJitter} | ${beyondSecond} |`,
    '',
    '| gap − interval (ms) | n | mean | p50 | p99 | p99.9 | max | probes/s mean (min–max) | gslbd CPU % | gslbd fds (max) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| from ${2 * INTERVAL_S} s | ${all.n} | ${f(all.mean)} | ${f(all.p50)} | ${f(all.p99)} | ${f(all.p999)} | ${f(all.max)} | ` +
      `${rate(2 * INTERVAL_S, perSecond.length)} | ${f(steady.gslbd)} | ${f(steady.fds, 0)} |`,
    ...byMinute.map((xs, i) => {
      const m = summary(xs);
      const u = between(t0 + i * 60_000, t0 + (i + 1) * 60_000);
      return (
        `| minute ${i + 1} | ${m.n} | ${f(m.mean)} | ${f(m.p50)} | ${f(m.p99)} | ${f(m.p999)} | ${f(m.max)} | ` +
        `${rate(i * 60, (i + 1) * 60)} | ${f(u.gslbd)} | ${f(u.fds, 0)} |`
      );
    }),
    '',
    `CPU from ${2 * INTERVAL_S} s to the end (100 = one core): gslbd ${f(steady.gslbd)} %, listeners ${f(steady.listeners)} %, ` +
      `whole machine ${f(steady.machine)} % of 200 (softirq ${f(steady.softirq)} %)`,
    `gslbd RSS: ${f(rss[0]!)} MiB at listening, ${f(Math.max(...rss))} MiB at most, ${f(rss.at(-1)!)} MiB at the end`,
    `DNS (one UDP query to a random pool per second): ${r.dns.length} sent, ${r.dns.length - dnsOk.length} unanswered within 1 s, ` +
      `latency p50 ${f(dnsMs.p50)} ms, p99 ${f(dnsMs.p99)} ms, max ${f(dnsMs.max)} ms; ` +
      `${short} answers with fewer than ${PER_POOL} addresses`,
    `gslbd's TCP probes (/metrics, from its start): ${
      typeof pm === 'string'
        ? pm
        : `${pm.pass} passed, ${pm.fail} failed; ${pm.over100ms} took over 0.1 s, ${pm.over1s} over 1 s`
    }`,
    `health transitions logged: ${r.transitions.length} (${downs.length} to down${reasons.length ? `: ${reasons.join('; ')}` : ''})`,
    `listeners: ${dumps.reduce((a, d) => a + d.accepted, 0)} accepted (${dumps.map((d) => d.accepted).join(' + ')}), ` +
      `${dumps.reduce((a, d) => a + d.foreign, 0)} not for a target, most open ${dumps.map((d) => d.maxOpen).join(' / ')}, ` +
      `accept errors ${dumps.reduce((a, d) => a + d.acceptErrors, 0)}, ` +
      `event-loop delay max ${dumps.map((d) => f(d.loopDelayMaxMs)).join(' / ')} ms`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
