// UDP bursts: how many of K queries fired back to back a server answers, and how many the kernel
// dropped because the server's socket receive buffer (SO_RCVBUF) was full, for gslbd with several
// `--udp-receive-buffer` sizes and for Knot DNS on the same queries.
//
// Run: scripts/node24.sh node bench/udp-burst.ts [--bursts 1000,5000,20000] [--rounds 5]
//        [--rates 20000] [--seconds 5] [--buffers 0,212992,1048576,4194304] [--senders 8]
//        [--workers 1] [--knot true] [--outstanding 1000]
//
// Each round sends K queries (static questions about zones/example.com, cycled) as fast as one
// synchronous loop can, spread over `senders` connected sockets, then waits until every answer is
// in or none came for 300 ms (at most 15 s). Then, for each of `rates`, one steady run: that many
// queries a second for `seconds` (sent each turn of the event loop as they fall due), which is
// where a pause of the server (garbage collection) overflows a small buffer. Last, with dnsperf
// installed (Debian package dnsperf) and `outstanding` > 0: `dnsperf -c 4 -q OUTSTANDING -l
// SECONDS`, dnsperf's own count of lost queries, as the issue measured them. Drops are read per socket from `ss -uamn` (skmem `d`:
// datagrams the kernel dropped at that socket, RcvbufErrors among them), for the server's sockets
// and ours apart, so drops of answers at our end are not counted against the server; the
// namespace-wide `Udp: RcvbufErrors` of /proc/net/snmp is shown beside them (other processes on
// the machine count there too). The server is pinned to CPU 0 and this process to CPU 1 when there
// are two CPUs and taskset. Everything is on 127.0.0.1; only processes started here are stopped,
// by PID.

import { execFileSync, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startGslbd } from '../test/helpers/gslbd.ts';
import { startKnot } from '../test/helpers/knot.ts';
import { buildQuery } from '../test/helpers/raw.ts';

const { values } = parseArgs({
  options: {
    bursts: { type: 'string', default: '1000,5000,20000' },
    rounds: { type: 'string', default: '5' },
    rates: { type: 'string', default: '20000' },
    seconds: { type: 'string', default: '5' },
    buffers: { type: 'string', default: '0,212992,1048576,4194304' },
    senders: { type: 'string', default: '8' },
    workers: { type: 'string', default: '1' },
    knot: { type: 'string', default: 'true' },
    outstanding: { type: 'string', default: '1000' },
  },
});
const BURSTS = values.bursts.split(',').filter(Boolean).map(Number);
const RATES = values.rates.split(',').filter(Boolean).map(Number);
const SECONDS = Number(values.seconds);
const CPUS = os.availableParallelism();
const ROUNDS = Number(values.rounds);
const SENDERS = Number(values.senders);
const QUIET_MS = 300;
const ROUND_MAX_MS = 15_000;
const QUESTIONS: [string, number][] = [
  ['www.example.com', 1],
  ['www.example.com', 28],
  ['example.com', 15],
  ['nothing.example.com', 1],
  ['missing.example.com', 28],
];
const PIN = CPUS >= 2 && spawnSync('taskset', ['-V']).status === 0;

/** Pins every thread of `pid` to `cpu`. */
const pin = (pid: number, cpu: number) =>
  PIN && execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });

interface Skmem {
  readonly sockets: number;
  readonly rb: number[];
  readonly drops: number;
}

/** Receive buffers and drop counts of the UDP sockets matching an `ss` filter. */
function skmem(filter: string): Skmem {
  const out = execFileSync('ss', ['-uamnH', filter], { encoding: 'utf8' });
  const rb: number[] = [];
  let drops = 0;
  for (const m of out.matchAll(/skmem:\(([^)]*)\)/g)) {
    rb.push(Number(/\brb(\d+)/.exec(m[1]!)?.[1]));
    drops += Number(/\bd(\d+)/.exec(m[1]!)?.[1] ?? 0);
  }
  return { sockets: rb.length, rb, drops };
}

function rcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp: '));
  const names = lines[0]!.split(/\s+/);
  return Number(lines[1]!.split(/\s+/)[names.indexOf('RcvbufErrors')]);
}

interface Round {
  sent: number;
  answered: number;
  serverDrops: number;
  ourDrops: number;
  snmp: number;
  sendMs: number;
  drainMs: number;
}

/** `k` queries at 127.0.0.1:`port` from `socks`: back to back, or `rate` a second. */
async function burst(
  port: number,
  socks: dgram.Socket[],
  counter: { n: number },
  k: number,
  rate?: number,
): Promise<Round> {
  const before = {
    server: skmem(`sport = :${port}`).drops,
    ours: skmem(`dport = :${port}`).drops,
    snmp: rcvbufErrors(),
  };
  const queries = QUESTIONS.map(([name, type]) => buildQuery(name, type));
  counter.n = 0;
  const t0 = performance.now();
  let i = 0;
  const send = (upTo: number) => {
    for (; i < upTo; i++) {
      const q = queries[i % queries.length]!;
      q.writeUInt16BE(i & 0xffff, 0);
      socks[i % socks.length]!.send(q);
    }
  };
  if (rate === undefined) send(k);
  // Each turn of the loop sends what fell due since the last; answers are read in between.
  else
    while (i < k) {
      send(Math.min(k, Math.floor(((performance.now() - t0) * rate) / 1000)));
      await new Promise((r) => setImmediate(r));
    }
  const sendMs = performance.now() - t0;
  let last = counter.n;
  let lastChange = performance.now();
  while (counter.n < k && performance.now() - lastChange < QUIET_MS && performance.now() - t0 < ROUND_MAX_MS) {
    await new Promise((r) => setTimeout(r, 10));
    if (counter.n !== last) {
      last = counter.n;
      lastChange = performance.now();
    }
  }
  const drainMs = lastChange - t0;
  const after = {
    server: skmem(`sport = :${port}`).drops,
    ours: skmem(`dport = :${port}`).drops,
    snmp: rcvbufErrors(),
  };
  return {
    sent: k,
    answered: counter.n,
    serverDrops: after.server - before.server,
    ourDrops: after.ours - before.ours,
    snmp: after.snmp - before.snmp,
    sendMs,
    drainMs,
  };
}

/** Connected sockets to the server, with the largest receive buffer we may have (answers must not drop here). */
async function senders(port: number, counter: { n: number }): Promise<dgram.Socket[]> {
  return Promise.all(
    Array.from(
      { length: SENDERS },
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 64 << 20, sendBufferSize: 4 << 20 });
          s.on('message', () => counter.n++);
          s.connect(port, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
}

/** One dnsperf run against the server, pinned to CPU 1: its completed and lost counts and qps. */
function dnsperf(port: number, outstanding: number): { completed: number; lost: number; qps: number } {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'udp-burst-dnsperf-')), 'queries.txt');
  writeFileSync(
    file,
    QUESTIONS.map(([name, type]) => `${name} ${type === 1 ? 'A' : type === 28 ? 'AAAA' : 'MX'}\n`).join(''),
  );
  const args = [
    '-s',
    '127.0.0.1',
    '-p',
    String(port),
    '-d',
    file,
    '-l',
    String(SECONDS),
    '-c',
    '4',
    '-q',
    String(outstanding),
  ];
  const out = PIN
    ? spawnSync('taskset', ['-c', '1', 'dnsperf', ...args], { encoding: 'utf8' })
    : spawnSync('dnsperf', args, { encoding: 'utf8' });
  rmSync(path.dirname(file), { recursive: true, force: true });
  const num = (re: RegExp) => Number(re.exec(out.stdout)?.[1] ?? NaN);
  return {
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: Math.round(num(/Queries per second:\s+([\d.]+)/)),
  };
}

const pct = (lost: number, sent: number) => `${((100 * lost) / sent).toFixed(2)} %`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function row(label: string, server: Skmem, load: string, rounds: Round[], lost: string): void {
  const sum = (f: (r: Round) => number) => rounds.reduce((a, r) => a + f(r), 0);
  const ms = (f: (r: Round) => number) => median(rounds.map(f)).toFixed(0);
  console.log(
    `| ${label} | ${server.sockets} × ${server.rb[0]} | ${load} | ${sum((r) => r.answered)} / ${sum((r) => r.sent)} | ${lost} | ` +
      `${sum((r) => r.serverDrops)} | ${sum((r) => r.ourDrops)} | ${sum((r) => r.snmp)} | ${ms((r) => r.sendMs)} / ${ms((r) => r.drainMs)} | ${os.loadavg()[0]!.toFixed(1)} |`,
  );
}

/**
 * How many queries the server's sockets hold: with the server stopped (SIGSTOP), more queries than
 * could fit are sent; once it runs again (SIGCONT) it answers exactly those that were held. This
 * does not depend on how fast the server or this machine is, only on the buffer.
 */
async function capacity(port: number, pid: number, socks: dgram.Socket[], counter: { n: number }): Promise<number> {
  const rb = skmem(`sport = :${port}`).rb.reduce((a, b) => a + b, 0);
  process.kill(pid, 'SIGSTOP');
  try {
    // A small query takes at least a few hundred bytes of buffer (its skb's truesize).
    await burst(port, socks, counter, Math.ceil(rb / 256) + 1000);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  // The answers to what was held come now.
  let last = -1;
  for (let t = 0; t < ROUND_MAX_MS / 100 && counter.n !== last; t++) {
    last = counter.n;
    await new Promise((res) => setTimeout(res, 300));
  }
  return counter.n;
}

const capacities: string[] = [];

/** Every burst size against one running server; prints one table row per size. */
async function measure(label: string, port: number, pid: number): Promise<void> {
  pin(pid, 0);
  const counter = { n: 0 };
  const socks = await senders(port, counter);
  const server0 = skmem(`sport = :${port}`);
  const held = await capacity(port, pid, socks, counter);
  const rb = server0.rb.reduce((a, b) => a + b, 0);
  capacities.push(`| ${label} | ${server0.sockets} × ${server0.rb[0]} | ${held} | ${Math.round(rb / held)} |`);
  // Warm-up: the JIT and caches of the server, not the buffer, are not what is measured.
  for (let i = 0; i < 3; i++) await burst(port, socks, counter, 200);
  const server = skmem(`sport = :${port}`);
  for (const k of BURSTS) {
    const rounds: Round[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await burst(port, socks, counter, k));
    const sent = rounds.reduce((a, r) => a + r.sent, 0);
    const lost = rounds.reduce((a, r) => a + r.sent - r.answered, 0);
    const worst = Math.max(...rounds.map((r) => r.sent - r.answered));
    row(label, server, `burst ${k} × ${ROUNDS}`, rounds, `${pct(lost, sent)} (worst round ${pct(worst, k)})`);
  }
  for (const rate of RATES) {
    const r = await burst(port, socks, counter, rate * SECONDS, rate);
    row(label, server, `${rate} qps × ${SECONDS} s`, [r], pct(r.sent - r.answered, r.sent));
  }
  const outstanding = Number(values.outstanding);
  if (outstanding > 0 && spawnSync('dnsperf', ['-h']).error === undefined) {
    const before = { server: skmem(`sport = :${port}`).drops, snmp: rcvbufErrors() };
    const t0 = performance.now();
    const r = dnsperf(port, outstanding);
    const ms = performance.now() - t0;
    const after = { server: skmem(`sport = :${port}`).drops, snmp: rcvbufErrors() };
    const sent = r.completed + r.lost;
    console.log(
      `| ${label} | ${server.sockets} × ${server.rb[0]} | dnsperf -c 4 -q ${outstanding} -l ${SECONDS} (${r.qps} qps) | ${r.completed} / ${sent} | ${pct(r.lost, sent)} | ` +
        `${after.server - before.server} | (dnsperf's) | ${after.snmp - before.snmp} | ${ms.toFixed(0)} / | ${os.loadavg()[0]!.toFixed(1)} |`,
    );
  }
  for (const s of socks) s.close();
}

async function main(): Promise<void> {
  pin(process.pid, 1);
  const rmemMax = readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim();
  const rmemDefault = readFileSync('/proc/sys/net/core/rmem_default', 'utf8').trim();
  console.log(
    `${new Date().toISOString()}; ${CPUS} CPUs, ${os.cpus()[0]?.model}, kernel ${os.release()}, node ${process.version}; ` +
      `net.core.rmem_max ${rmemMax}, rmem_default ${rmemDefault}; pinned: ${PIN ? 'server CPU 0, sender CPU 1' : 'no'}; ${SENDERS} sender sockets\n`,
  );
  console.log(
    '| server | sockets × SO_RCVBUF granted | load | answered / sent | lost | dropped at server socket | dropped at ours | snmp RcvbufErrors | send / drain ms (median) | load avg |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const b of values.buffers.split(',')) {
    const s = await startGslbd(
      ['--zones', path.join(ROOT, 'zones'), '--udp-receive-buffer', b, '--workers', values.workers],
      { GSLBD_LOG_LEVEL: 'info' },
    );
    try {
      await measure(`gslbd --workers ${values.workers} --udp-receive-buffer ${b}`, s.port, s.proc.pid!);
    } finally {
      await s.stop();
    }
  }
  if (values.knot !== 'false') {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'udp-burst-knot-'));
    const knot = await startKnot(dir, [{ origin: 'example.com.', file: path.join(ROOT, 'zones/example.com.zone') }]);
    try {
      await measure(
        `Knot DNS ${spawnSync('knotd', ['-V'], { encoding: 'utf8' }).stdout.trim().split(/\s+/).at(-1)}`,
        knot.port,
        knot.proc.pid!,
      );
    } finally {
      await knot.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log("\nQueries held by the server's sockets while it was stopped (SIGSTOP):\n");
  console.log('| server | sockets × SO_RCVBUF granted | queries held | buffer bytes per query |\n|---|---|---:|---:|');
  for (const c of capacities) console.log(c);
}

await main();
