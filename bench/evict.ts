// Time-to-evict and time-to-restore of a TCP-checked target, end to end: a real gslbd (interval 2 s,
// timeout 1 s, rise 1, fall 1, the settings the gdnsd and PowerDNS anchors were measured with)
// and a real listener in a child process on 127.0.0.20, broken and mended at random moments.
//
// Two ways a server goes away:
//   kill   SIGKILL the listener process (a crash: the kernel resets its connections)
//   close  the process closes its listening socket but stays (new connections are refused; the
//          connections it has stay open, so nothing tells the prober until it probes again)
//
// time-to-evict:   from the kill (or the close command) to the first answer without the target
// time-to-restore: from the listener listening again to the first answer with it
// Answers are polled every 20 ms over raw UDP from this process.
//
// Run: scripts/node24.sh node bench/evict.ts [--trials 10] [--mode kill|close|both] [--fast-fail]
// (--fast-fail: the checks say `fast-fail: true`, so a refused connection is confirmed at once and
// the TCP connection is watched between probes; by default a hard failure counts once.)
// (EVICT_DEBUG=1 also prints gslbd's health transitions.) Results: bench/RESULTS.md.

import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Type } from '../src/0-base/constants.ts';
import { startGslbd, type Gslbd } from '../test/helpers/gslbd.ts';
import { ORIGIN, zonesDir } from '../test/helpers/health.ts';
import { tcpListener } from '../test/helpers/listeners.ts';
import { readReply } from '../test/helpers/pool-queries.ts';
import { buildQuery, udpExchange } from '../test/helpers/raw.ts';

const VICTIM = '127.0.0.20';
const STEADY = '127.0.0.21';
const INTERVAL_MS = 2000;
const POLL_MS = 20;
/** A trial that sees no change within this is counted as failed (and the run goes on). */
const DEADLINE_MS = 10_000;

type Mode = 'kill' | 'close';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '10' },
    mode: { type: 'string', default: 'both' },
    'fast-fail': { type: 'boolean', default: false },
  },
});
const trials = Number(values.trials);
if (!Number.isInteger(trials) || trials < 1 || trials > 200) throw new Error('--trials: 1..200');
const modes: Mode[] = values.mode === 'both' ? ['kill', 'close'] : [values.mode as Mode];
if (!modes.every((m) => m === 'kill' || m === 'close')) throw new Error('--mode: kill | close | both');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The listener process: listens on argv host:port, prints "listening <port>" and "accepted" for each
// connection; on stdin "close" closes its listening socket (keeping its connections), on "listen"
// listens again.
const LISTENER = `
const net = require('node:net');
const [host, port0] = process.argv.slice(1);
let port = Number(port0);
const server = net.createServer((s) => {
  s.on('error', () => {});
  process.stdout.write('accepted\\n');
});
const listen = () => server.listen({ host, port }, () => {
  port = server.address().port;
  process.stdout.write('listening ' + port + '\\n');
});
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  for (const cmd of d.split('\\n')) {
    if (cmd === 'close') { server.close(); process.stdout.write('closed\\n'); }
    if (cmd === 'listen') listen();
  }
});
listen();
`;

class Victim {
  proc: ChildProcess | null = null;
  port = 0;
  accepted = 0;
  #waiters: { word: string; resolve: (at: number) => void }[] = [];

  /** Spawns the listener; resolves with the time it reported listening. */
  spawn(): Promise<number> {
    const proc = spawn(process.execPath, ['-e', LISTENER, VICTIM, String(this.port)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.proc = proc;
    proc.stdout!.setEncoding('utf8');
    proc.stdout!.on('data', (d: string) => {
      const at = performance.now();
      for (const line of d.split('\n').filter(Boolean)) {
        const [word, port] = line.split(' ');
        if (word === 'listening') this.port = Number(port);
        if (word === 'accepted') this.accepted++;
        for (const w of this.#waiters.filter((x) => x.word === word)) {
          this.#waiters.splice(this.#waiters.indexOf(w), 1);
          w.resolve(at);
        }
      }
    });
    return this.next('listening');
  }

  next(word: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`listener did not say "${word}"`)), 10_000);
      this.#waiters.push({
        word,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  send(cmd: string): void {
    this.proc!.stdin!.write(`${cmd}\n`);
  }

  /** SIGKILL to our own child, by its PID; resolves once it has exited. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid!, 'SIGKILL');
    await exited;
    this.proc = null;
  }
}

/** Polls the pool every POLL_MS until `want(victimServed)` holds; returns when, or null at the deadline. */
async function pollUntil(server: Gslbd, want: (served: boolean) => boolean): Promise<number | null> {
  const query = buildQuery(`www.${ORIGIN}`, Type.A);
  const deadline = performance.now() + DEADLINE_MS;
  while (performance.now() < deadline) {
    const reply = await udpExchange(server.port, query, 500);
    const at = performance.now();
    if (reply) {
      const served = readReply(reply).answer.some((a) => a.type === Type.A && a.data === VICTIM);
      if (want(served)) return at;
    }
    await sleep(Math.max(0, POLL_MS - (performance.now() - at)));
  }
  return null;
}

interface Stats {
  readonly n: number;
  readonly failed: number;
  readonly mean: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

function stats(ms: (number | null)[]): Stats {
  const ok = ms.filter((x): x is number => x !== null).sort((a, b) => a - b);
  const mid = ok.length >> 1;
  return {
    n: ok.length,
    failed: ms.length - ok.length,
    mean: ok.reduce((s, x) => s + x, 0) / (ok.length || 1),
    median: ok.length % 2 ? ok[mid]! : (ok[mid - 1]! + ok[mid]!) / 2,
    min: ok[0] ?? NaN,
    max: ok.at(-1) ?? NaN,
  };
}

/**
 * One trial on a fresh gslbd: flap damping (6 changes in 120 s hold a check down for 60 s) would
 * otherwise hold the target down after three quick trials, and no trial should inherit another's.
 */
async function trial(
  mode: Mode,
  victim: Victim,
  start: () => Promise<Gslbd>,
): Promise<{ evict: number | null; restore: number | null }> {
  const server = await start();
  try {
    const accepted = victim.accepted;
    if ((await pollUntil(server, (served) => served)) === null) throw new Error('the target is not served');
    // The check has probed (and passed) at least once: the probe loop is in its steady rhythm.
    const deadline = performance.now() + 3 * INTERVAL_MS;
    while (victim.accepted === accepted && performance.now() < deadline) await sleep(POLL_MS);
    // Then a random moment within the probe cycle.
    await sleep(Math.random() * INTERVAL_MS);
    const broken = performance.now();
    if (mode === 'kill') await victim.kill();
    else victim.send('close');
    const gone = await pollUntil(server, (served) => !served);

    await sleep(500 + Math.random() * INTERVAL_MS);
    let mended: number;
    if (mode === 'kill') {
      mended = await victim.spawn();
    } else {
      const listening = victim.next('listening');
      victim.send('listen');
      mended = await listening;
    }
    const back = await pollUntil(server, (served) => served);
    return { evict: gone === null ? null : gone - broken, restore: back === null ? null : back - mended };
  } finally {
    await server.stop();
  }
}

async function runMode(
  mode: Mode,
  victim: Victim,
  start: () => Promise<Gslbd>,
): Promise<{ evict: (number | null)[]; restore: (number | null)[] }> {
  const evict: (number | null)[] = [];
  const restore: (number | null)[] = [];
  const fmt = (x: number | null) => (x === null ? 'timeout' : `${Math.round(x)} ms`);
  for (let i = 0; i < trials; i++) {
    const r = await trial(mode, victim, start);
    evict.push(r.evict);
    restore.push(r.restore);
    process.stderr.write(`${mode} trial ${i + 1}/${trials}: evict ${fmt(r.evict)}, restore ${fmt(r.restore)}\n`);
  }
  return { evict, restore };
}

async function main(): Promise<void> {
  const victim = new Victim();
  await victim.spawn();
  const steady = await tcpListener(STEADY);
  const check = {
    type: 'tcp',
    interval: '2s',
    timeout: '1s',
    rise: 1,
    fall: 1,
    ...(values['fast-fail'] && { 'fast-fail': true }),
  };
  const zones = zonesDir({
    www: {
      policy: 'round-robin',
      answers: 2,
      targets: [
        { address: VICTIM, check: { ...check, port: victim.port } },
        { address: STEADY, check: { ...check, port: steady.port } },
      ],
    },
  });
  const start = async () => {
    const server = await startGslbd(['--zones', zones]);
    if (process.env.EVICT_DEBUG) {
      server.proc.stderr!.on('data', (d: Buffer) => {
        for (const l of d.toString().split('\n'))
          if (l.includes('health:')) process.stderr.write(`${l.slice(0, 200)}\n`);
      });
    }
    return server;
  };
  const results: Record<string, { evict: Stats; restore: Stats }> = {};
  try {
    for (const mode of modes) {
      const r = await runMode(mode, victim, start);
      results[mode] = { evict: stats(r.evict), restore: stats(r.restore) };
    }
  } finally {
    await victim.kill();
    await steady.stop();
  }
  const s = (x: number) => (x / 1000).toFixed(3);
  const lines = [
    `date: ${new Date().toISOString()}; machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Linux ${os.release()}, Node ${process.version}`,
    `trials per mode: ${trials}; interval 2 s, timeout 1 s, rise 1, fall 1${values['fast-fail'] ? ', fast-fail' : ''}; polled every ${POLL_MS} ms`,
    '',
    '| mode | measure | n | mean s | median s | min s | max s | failed |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const [mode, r] of Object.entries(results)) {
    for (const [what, st] of Object.entries(r)) {
      lines.push(
        `| ${mode} | time-to-${what} | ${st.n} | ${s(st.mean)} | ${s(st.median)} | ${s(st.min)} | ${s(st.max)} | ${st.failed} |`,
      );
    }
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
