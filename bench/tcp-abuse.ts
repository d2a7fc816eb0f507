// TCP abuse against a real gslbd with its default limits (--tcp-max-connections 512, 64 per
// client, --tcp-idle-timeout 10 s, --tcp-message-timeout 5 s; --workers 1): for each abuse, UDP
// latency (a prober in its own process asking every 2 ms), a legitimate TCP client (a new
// connection and one query every 100 ms), and the server's RSS, open fds and sockets, sampled
// every 500 ms. Every attacker reconnects as soon as the server closes it, so the pressure holds.
//
// baseline   nothing but the probes
// slowloris  1,000 connections each sending one byte of a query every 3 s (never a whole one)
// idle       5,000 connections held open, sending nothing (100 source addresses, 50 each)
// pipeline   16 clients writing queries as fast as the server reads, never reading a reply
// half-open  2,000 connections that send half a query and go silent (no FIN, no RST)
// all        all four at once
//
// Run: scripts/node24.sh node bench/tcp-abuse.ts [--seconds 15]

import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { fdsOf, framed, openConnection, rssMiB, socketsOf, type AbuseConn } from '../test/helpers/abuse.ts';
import { ROOT, startGslbd, type Gslbd } from '../test/helpers/gslbd.ts';
import { buildQuery, headerOf, tcpExchange } from '../test/helpers/raw.ts';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' } } });
const SECONDS = Number(values.seconds);
const QUERY = buildQuery('www.example.com', 1);
const FRAME = framed(QUERY);

/** Keeps `n` attacker connections open (reopening closed ones) until `stop`; `onOpen` starts each one's abuse. */
function attackers(
  port: number,
  n: number,
  subnet: number,
  onOpen: (c: AbuseConn) => void,
): { stop: () => void; opened: () => number; lifetimes: number[] } {
  let stopped = false;
  let opened = 0;
  const lifetimes: number[] = [];
  const keep = async (i: number) => {
    while (!stopped) {
      const c = await openConnection(port, `127.${subnet}.${Math.floor(i / 50)}.${1 + (i % 50)}`);
      opened++;
      onOpen(c);
      while (!c.closed && !stopped) await sleep(100);
      if (c.closed && !stopped) lifetimes.push((c.closedAt - c.openedAt) / 1000);
      c.sock.destroy();
    }
  };
  // Opened in waves of 100, as a real flood ramps up.
  void (async () => {
    for (let i = 0; i < n && !stopped; i++) {
      void keep(i);
      if (i % 100 === 99) await sleep(20);
    }
  })();
  return { stop: () => (stopped = true), opened: () => opened, lifetimes };
}

const ABUSES: Record<string, (port: number) => { stop: () => void; describe: () => string }> = {
  slowloris: (port) => {
    const a = attackers(port, 1000, 10, (c) => {
      void (async () => {
        for (let b = 0; !c.closed && b < FRAME.length - 1; b++) {
          c.sock.write(FRAME.subarray(b, b + 1));
          await sleep(3000);
        }
      })();
    });
    return { stop: a.stop, describe: () => `${a.opened()} opened, ${lifetimeText(a.lifetimes)}` };
  },
  idle: (port) => {
    const a = attackers(port, 5000, 20, () => {});
    return { stop: a.stop, describe: () => `${a.opened()} opened, ${lifetimeText(a.lifetimes)}` };
  },
  pipeline: (port) => {
    const chunk = Buffer.concat(Array.from({ length: 1000 }, () => FRAME));
    let written = 0;
    const a = attackers(port, 16, 30, (c) => {
      c.sock.pause();
      void (async () => {
        while (!c.closed) {
          written += chunk.length;
          if (c.sock.write(chunk)) continue;
          // Wait for a drain that never comes (nothing is read), a second at a time, one listener.
          let onDrain = () => {};
          await Promise.race([new Promise<void>((r) => c.sock.once('drain', (onDrain = r))), sleep(1000)]);
          c.sock.off('drain', onDrain);
        }
      })();
    });
    return { stop: a.stop, describe: () => `${(written / 1e6).toFixed(0)} MB written, ${a.opened()} opened` };
  },
  'half-open': (port) => {
    const a = attackers(port, 2000, 40, (c) => c.sock.write(FRAME.subarray(0, 7)));
    return { stop: a.stop, describe: () => `${a.opened()} opened, ${lifetimeText(a.lifetimes)}` };
  },
};

const lifetimeText = (l: readonly number[]) => {
  if (!l.length) return 'none closed by the server';
  const s = [...l].sort((x, y) => x - y);
  return `${l.length} closed by the server after ${s[0]!.toFixed(1)}-${s.at(-1)!.toFixed(1)} s (median ${s[Math.floor(s.length / 2)]!.toFixed(1)})`;
};

/** The prober process's JSON once it has run `seconds`. */
function udpProbe(port: number, seconds: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        path.join(ROOT, 'bench/udp-probe.ts'),
        String(port),
        'www.example.com',
        String(seconds),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', () => {
      try {
        resolve(JSON.parse(out) as Record<string, number>);
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** One TCP query on a new connection every 100 ms: answered fraction and p99 latency. */
function tcpClient(port: number) {
  let stopped = false;
  const lat: number[] = [];
  let tried = 0;
  const done = (async () => {
    while (!stopped) {
      tried++;
      const t = performance.now();
      const [reply] = await Promise.race([tcpExchange(port, [QUERY]).catch(() => []), sleep(3000).then(() => [])]);
      if (reply && headerOf(reply).ancount === 1) lat.push(performance.now() - t);
      await sleep(100);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      lat.sort((a, b) => a - b);
      return { tried, answered: lat.length, p99: lat[Math.floor(lat.length * 0.99)] ?? NaN };
    },
  };
}

async function phase(server: Gslbd, name: string, abuses: string[]) {
  const pid = server.proc.pid!;
  const running = abuses.map((a) => ABUSES[a]!(server.port));
  await sleep(1000); // ramp up before measuring
  const samples: { rss: number; fds: number; sockets: number }[] = [];
  const sampler = setInterval(() => samples.push({ rss: rssMiB(pid), fds: fdsOf(pid), sockets: socketsOf(pid) }), 500);
  const tcp = tcpClient(server.port);
  const udp = await udpProbe(server.port, SECONDS);
  const legit = await tcp.stop();
  clearInterval(sampler);
  const described = running.map((r, i) => `${abuses[i]}: ${r.describe()}`).join('; ');
  for (const r of running) r.stop();
  const max = (k: 'rss' | 'fds' | 'sockets') => Math.max(...samples.map((s) => s[k]));
  console.log(
    `| ${name} | ${udp.answered}/${udp.sent} | ${udp.p50} | ${udp.p99} | ${udp.p999} | ${udp.max} | ` +
      `${legit.answered}/${legit.tried} | ${legit.p99.toFixed(1)} | ${max('rss').toFixed(0)} | ${max('fds')} | ${max('sockets')} |`,
  );
  if (described) console.log(`|   | ${described} |`);
  // Let the server drop what the attackers left before the next phase.
  await sleep(12_000);
}

console.log(`bench/tcp-abuse.ts ${new Date().toISOString()}, ${os.cpus().length} cores, ${SECONDS} s per phase`);
const server = await startGslbd(['--zones', path.join(ROOT, 'zones')], { GSLBD_LOG_LEVEL: 'info' });
console.log(
  '| abuse | UDP answered | UDP p50 ms | p99 ms | p99.9 ms | max ms | TCP client answered | TCP p99 ms | RSS MiB max | fds max | sockets max |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [name, abuses] of [
  ['baseline', []],
  ['slowloris', ['slowloris']],
  ['idle', ['idle']],
  ['pipeline', ['pipeline']],
  ['half-open', ['half-open']],
  ['all', ['slowloris', 'idle', 'pipeline', 'half-open']],
  ['baseline again', []],
] as const)
  await phase(server, name, [...abuses]);
console.log(`gslbd alive at the end: ${server.proc.exitCode === null}`);
await server.stop();
process.exit(0);
