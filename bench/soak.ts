// The soak (issue 14 §4): a real gslbd (--workers 1, a --data directory on the temp file system)
// for --minutes at half the maximum qps measured first, with everything that changes state
// running at once, then kill -9 in the middle of it all and a restart on the same directory.
//
// load      dnsperf (-c 4 -q 100 -v) at 50 % of the qps it reached in a 10 s run beforehand, one
//           process per minute so each minute has its own p99, SERVFAIL and lost count; the mix is
//           static answers, NXDOMAIN, pools of zones/ and the flapping and API-driven pools below
// flapping  pool flap.soak.example.net: 4 targets, TCP-checked every 1 s (rise 1, fall 1), each a
//           real TCP listener (127.0.0.51-54) that stops and starts again every 2-5 s
// API       100 writes/s: PUT weight on the 8 targets of pool api.soak.example.net, in turn
// UPDATE    20 TSIG-signed RFC 2136 UPDATEs/s over UDP, each adding uN and deleting u(N-500)
// nsupdate  one `nsupdate -y` process, one `send` a second (add nsuN, delete nsu(N-60))
// reload    SIGHUP every minute
// sampled   gslbd's RSS and open fds every 10 s; at the end, the --data directory's files
// crash     kill -9 while all of that runs; the time from spawning gslbd again to its first UDP
//           answer; then every acknowledged API weight and UPDATE is checked on the restarted
//           server (and a minute of the load again)
//
// Run: scripts/node24.sh node bench/soak.ts [--minutes 10] [--qps N (default: half the maximum)]

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { signRequest, tsigKeyFromConfig } from '../src/1-codec/tsig.ts';
import { fdsOf, rssMiB } from '../test/helpers/abuse.ts';
import { ROOT, startGslbd } from '../test/helpers/gslbd.ts';
import { tcpListener, type Listener } from '../test/helpers/listeners.ts';
import { decodeMessage } from '../test/helpers/message.ts';
import { buildQuery } from '../test/helpers/raw.ts';
import { add, deleteName, updateMessage } from '../test/update/helpers.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    qps: { type: 'string' },
    'after-minutes': { type: 'string', default: '1' },
  },
});
const MINUTES = Number(values.minutes);
const ZONE = 'soak.example.net.';
const TOKEN = randomBytes(24).toString('base64url');
const SECRET = randomBytes(32).toString('base64');
const key = tsigKeyFromConfig({ name: 'soak-key', algorithm: 'hmac-sha256', secret: SECRET, zones: [ZONE] });
const FLAP_HOSTS = ['127.0.0.51', '127.0.0.52', '127.0.0.53', '127.0.0.54'];
const API_TARGETS = Array.from({ length: 8 }, (_, i) => `198.51.100.${i + 1}`);

console.log(
  `bench/soak.ts ${new Date().toISOString()}, ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

/** A port free on 127.0.0.1 for both UDP and TCP, so a restart can listen where clients send. */
async function freePort(): Promise<number> {
  for (;;) {
    const srv = net.createServer();
    const port = await new Promise<number>((r) =>
      srv.listen(0, '127.0.0.1', () => r((srv.address() as net.AddressInfo).port)),
    );
    const udp = dgram.createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      udp.once('error', () => r(false));
      udp.bind(port, '127.0.0.1', () => r(true));
    });
    await new Promise((r) => srv.close(r));
    if (ok) {
      await new Promise<void>((r) => udp.close(() => r()));
      return port;
    }
  }
}

// The work directory: zones/ (the repository's zones and a soak zone), data/, gslbd.yaml.
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-soak-'));
const zones = path.join(work, 'zones');
const data = path.join(work, 'data');
cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
const flapPort = await freePort();
writeFileSync(
  path.join(zones, `${ZONE}zone`),
  `$TTL 300\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n  NS ns1\nns1 A 192.0.2.1\nstatic A 192.0.2.2\n`,
);
writeFileSync(
  path.join(zones, `${ZONE}pools.yaml`),
  [
    'flap:',
    '  policy: round-robin',
    '  ttl: 10',
    `  check: { type: tcp, port: ${flapPort}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }`,
    '  targets:',
    ...FLAP_HOSTS.map((h) => `    - { address: ${h} }`),
    'api:',
    '  policy: weighted',
    '  ttl: 30',
    '  targets:',
    ...API_TARGETS.map((a) => `    - { address: ${a}, weight: 1 }`),
    '',
  ].join('\n'),
);
const config = path.join(work, 'gslbd.yaml');
writeFileSync(
  config,
  [
    `zones: ${zones}`,
    'api:',
    '  listen: 127.0.0.1:0',
    '  tokens:',
    `    - { name: soak, token: "${TOKEN}", access: write }`,
    'tsig:',
    `  - { name: soak-key., algorithm: hmac-sha256, secret: "${SECRET}", zones: [${ZONE}] }`,
    '',
  ].join('\n'),
);
const queries = path.join(work, 'queries.txt');
writeFileSync(
  queries,
  [
    'www.example.com A',
    'www.example.com AAAA',
    'example.com MX',
    'nothing.example.com A',
    'www.gslb.example.com A',
    'rr.gslb.example.com A',
    'flap.soak.example.net A',
    'flap.soak.example.net A',
    'api.soak.example.net A',
    'static.soak.example.net A',
    'u1.soak.example.net A',
    '',
  ].join('\n'),
);

const PORT = await freePort();
const start = async () => {
  const s = await startGslbd(['--config', config, '--listen', `127.0.0.1:${PORT}`, '--data', data, '--workers', '1'], {
    GSLBD_LOG_LEVEL: 'info',
  });
  const api = (await s.waitForLog((l) => l.msg === 'api listening')).port as number;
  return { s, api: `http://127.0.0.1:${api}` };
};
let { s: server, api: apiBase } = await start();

/** One dnsperf run: summary and per-query latencies (µs buckets) and rcodes from -v. */
async function dnsperf(seconds: number, qps?: number) {
  const args = [
    '-s',
    '127.0.0.1',
    '-p',
    String(PORT),
    '-d',
    queries,
    '-l',
    String(seconds),
    '-c',
    '4',
    '-q',
    '100',
    '-t',
    '2',
    '-v',
  ];
  if (qps) args.push('-Q', String(qps));
  const p = spawn('dnsperf', args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const buckets = new Map<number, number>();
  const rcodes = new Map<string, number>();
  let summary = '';
  for await (const line of readline.createInterface({ input: p.stdout })) {
    if (line.startsWith('> ')) {
      const parts = line.split(' ');
      rcodes.set(parts[1]!, (rcodes.get(parts[1]!) ?? 0) + 1);
      const us = Math.round(Number(parts.at(-1)) * 1e6);
      buckets.set(us, (buckets.get(us) ?? 0) + 1);
    } else summary += `${line}\n`;
  }
  const num = (re: RegExp) => Number(re.exec(summary)?.[1] ?? NaN);
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted.reduce((s, [, c]) => s + c, 0);
  const q = (x: number) => {
    let acc = 0;
    for (const [us, c] of sorted) if ((acc += c) >= x * total) return us / 1000;
    return NaN;
  };
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    p50: q(0.5),
    p99: q(0.99),
    p999: q(0.999),
    servfail: rcodes.get('SERVFAIL') ?? 0,
    rcodes,
  };
}

// --- the flapping targets ---
const flappers: { listener: Listener | null; host: string }[] = FLAP_HOSTS.map((host) => ({ listener: null, host }));
let flapping = true;
let flaps = 0;
for (const f of flappers) f.listener = await tcpListener(f.host, flapPort);
const flapLoops = flappers.map(async (f) => {
  while (flapping) {
    await sleep(2000 + Math.random() * 3000);
    if (!flapping) break;
    if (f.listener) {
      await f.listener.stop();
      f.listener = null;
    } else f.listener = await tcpListener(f.host, flapPort).catch(() => null);
    flaps++;
  }
});

// --- API writes, 100/s ---
/** Per target: the last acknowledged weight, and weights sent after it (in flight at a crash). */
const apiState = new Map(API_TARGETS.map((t) => [t, { acked: 1, since: [] as number[] }]));
const apiStats = { sent: 0, acked: 0, failed: 0, statuses: new Map<number, number>() };
let apiOn = true;
const apiLoop = (async () => {
  let n = 0;
  const inFlight = new Set<Promise<void>>();
  while (apiOn) {
    const target = API_TARGETS[n % API_TARGETS.length]!;
    const weight = 1 + (n % 100);
    n++;
    const st = apiState.get(target)!;
    st.since.push(weight);
    apiStats.sent++;
    const p = fetch(`${apiBase}/v1/zones/${ZONE}/pools/api/targets/${target}/weight`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ weight }),
      signal: AbortSignal.timeout(5000),
    })
      .then(async (res) => {
        await res.text();
        apiStats.statuses.set(res.status, (apiStats.statuses.get(res.status) ?? 0) + 1);
        if (res.status !== 200) return void apiStats.failed++;
        apiStats.acked++;
        // Acknowledged: it and everything sent before it to this target are settled.
        st.acked = weight;
        st.since = st.since.slice(st.since.indexOf(weight) + 1);
      })
      .catch(() => void apiStats.failed++)
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
    await sleep(10);
  }
  await Promise.allSettled([...inFlight]);
})();

// --- signed UPDATEs, 20/s ---
const KEEP = 500;
const updateAcked = new Set<number>();
const updateStats = { sent: 0, acked: 0, other: 0 };
const upd = dgram.createSocket('udp4');
const updWaiting = new Map<number, number>();
upd.on('message', (m) => {
  const i = updWaiting.get(m.readUInt16BE(0));
  if (i === undefined) return;
  updWaiting.delete(m.readUInt16BE(0));
  if ((m[3]! & 0xf) === 0) {
    updateAcked.add(i);
    updateStats.acked++;
  } else updateStats.other++;
});
let updOn = true;
const updLoop = (async () => {
  for (let i = 1; updOn; i++) {
    const msg = updateMessage(ZONE, {
      id: i & 0xffff,
      update: [
        await add(`u${i}.${ZONE} 60 IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
        ...(i > KEEP ? [deleteName(`u${i - KEEP}.${ZONE}`)] : []),
      ],
    });
    updWaiting.set(i & 0xffff, i);
    updateStats.sent++;
    upd.send(signRequest(msg, key, Date.now()).message, PORT, '127.0.0.1');
    await sleep(50);
  }
})();

// --- nsupdate, one send a second ---
const nsErrors: string[] = [];
const nsupdate: ChildProcess = spawn('nsupdate', ['-y', `hmac-sha256:soak-key:${SECRET}`], {
  stdio: ['pipe', 'ignore', 'pipe'],
});
nsupdate.stderr!.on('data', (d: Buffer) => nsErrors.push(d.toString()));
let nsOn = true;
const nsLoop = (async () => {
  for (let i = 1; nsOn; i++) {
    const lines = [`server 127.0.0.1 ${PORT}`, `zone ${ZONE}`, `update add nsu${i}.${ZONE} 60 A 192.0.2.${i % 250}`];
    if (i > 60) lines.push(`update delete nsu${i - 60}.${ZONE}`);
    nsupdate.stdin!.write(`${lines.join('\n')}\nsend\n`);
    await sleep(1000);
  }
})();

// --- samples every 10 s ---
const samples: { t: number; rss: number; fds: number }[] = [];
const t0 = performance.now();
const sampler = setInterval(() => {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  try {
    samples.push({ t: (performance.now() - t0) / 1000, rss: rssMiB(server.proc.pid!), fds: fdsOf(server.proc.pid!) });
  } catch {
    // between kill and restart
  }
}, 10_000);

// --- the maximum, then the soak minute by minute ---
await sleep(3000);
const max = await dnsperf(10);
const rate = values.qps ? Number(values.qps) : Math.round(max.qps / 2);
console.log(
  `maximum (10 s, -c 4 -q 100, with flapping, API, UPDATE and nsupdate running): ${Math.round(max.qps)} qps, p99 ${max.p99} ms; soak rate ${rate} qps`,
);
console.log('\n| minute | qps | p50 ms | p99 ms | p99.9 ms | SERVFAIL | lost | RSS MiB (end) | fds min-max | reload |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const minutes: { rss: number }[] = [];
for (let m = 1; m <= MINUTES; m++) {
  const from = samples.length;
  const r = await dnsperf(60, rate);
  const reloadAt = performance.now();
  server.proc.kill('SIGHUP');
  const reloaded = await server
    .waitForLog(
      (l) =>
        typeof l.time === 'string' && l.msg === 'SIGHUP: reloading zones' && Date.parse(l.time) >= Date.now() - 5000,
      5000,
    )
    .then(() => `${(performance.now() - reloadAt).toFixed(0)} ms to log`)
    .catch(() => 'not logged');
  const window = samples.slice(from);
  const rss = rssMiB(server.proc.pid!);
  minutes.push({ rss });
  console.log(
    `| ${m} | ${Math.round(r.qps)} | ${r.p50} | ${r.p99} | ${r.p999} | ${r.servfail} | ${r.lost} of ${r.sent} | ${rss.toFixed(0)} | ` +
      `${Math.min(...window.map((w) => w.fds))}-${Math.max(...window.map((w) => w.fds))} | ${reloaded} |`,
  );
}

// --- the data directory before the crash ---
const files = readdirSync(data).map((f) => `${f} ${(statSync(path.join(data, f)).size / 1024).toFixed(0)} KiB`);
console.log(`\n--data after ${MINUTES} min: ${files.join(', ')}`);
console.log(
  `API: ${apiStats.sent} sent, ${apiStats.acked} acknowledged, ${apiStats.failed} failed (${JSON.stringify(Object.fromEntries(apiStats.statuses))}); ` +
    `UPDATE: ${updateStats.sent} sent, ${updateStats.acked} NOERROR, ${updateStats.other} other; nsupdate errors: ${nsErrors.length}; target flaps: ${flaps}`,
);
const last = minutes.at(-1)!.rss;
// Warm-up: RSS climbs for the first minute or two under load, then settles ("RSS under the fuzz
// load"); growth is given from the end of minute 1 and of minute 2.
const growth = (from: number) =>
  `${minutes[from]!.rss.toFixed(0)} MiB after minute ${from + 1} → ${last.toFixed(0)}: ${(((last - minutes[from]!.rss) / minutes[from]!.rss) * 100).toFixed(1)} %`;
console.log(
  `RSS ${growth(0)}${minutes.length > 2 ? `; ${growth(1)}` : ''}; ` +
    `fds over the run ${Math.min(...samples.map((s) => s.fds))}-${Math.max(...samples.map((s) => s.fds))}`,
);

// --- crash: kill -9 with everything running, restart on the same directory ---
await sleep(2000 + Math.random() * 3000);
const killedAt = performance.now();
server.proc.kill('SIGKILL');
await new Promise((r) => server.proc.once('exit', r));
const spawnAt = performance.now();
const answered = (async () => {
  const sock = dgram.createSocket('udp4');
  sock.bind(0, '127.0.0.1');
  const got = new Promise<void>((r) => sock.once('message', () => r()));
  let done = false;
  void got.then(() => (done = true));
  while (!done) {
    sock.send(buildQuery('www.example.com', 1), PORT, '127.0.0.1');
    await Promise.race([got, sleep(10)]);
  }
  sock.close();
  return performance.now();
})();
({ s: server, api: apiBase } = await start());
const firstAnswer = await answered;
console.log(
  `\nkill -9 after the soak's last minute, writes in flight: first UDP answer ${(firstAnswer - spawnAt).toFixed(0)} ms after spawning gslbd again ` +
    `(${(firstAnswer - killedAt).toFixed(0)} ms after the kill)`,
);
// A minute more of everything on the restarted server, then stop the writers and check.
const after = await dnsperf(60 * Number(values['after-minutes']), rate);
console.log(
  `after the restart: ${Math.round(after.qps)} qps, p99 ${after.p99} ms, SERVFAIL ${after.servfail}, lost ${after.lost} of ${after.sent}`,
);
apiOn = false;
updOn = false;
nsOn = false;
await Promise.all([apiLoop, updLoop, nsLoop]);
await sleep(1000);

// Every acknowledged write is there: each target's weight is its last acknowledged one, or one
// sent after it; every acknowledged uN not deleted by a later acknowledged UPDATE answers.
const apiMissing: string[] = [];
for (const [target, st] of apiState) {
  const res = await fetch(`${apiBase}/v1/zones/${ZONE}/pools/api/targets/${target}`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const weight = ((await res.json()) as { weight?: { current?: number } }).weight?.current;
  if (weight !== st.acked && !st.since.includes(weight!))
    apiMissing.push(`${target}: weight ${weight}, acknowledged ${st.acked}`);
}
const check = dgram.createSocket('udp4');
check.bind(0, '127.0.0.1');
const pendingQ = new Map<number, (b: Buffer | null) => void>();
check.on('message', (m) => pendingQ.get(m.readUInt16BE(0))?.(m));
const ask = (name: string, id: number) =>
  new Promise<Buffer | null>((resolve) => {
    const t = setTimeout(() => resolve(null), 2000);
    pendingQ.set(id, (b) => {
      clearTimeout(t);
      resolve(b);
    });
    check.send(buildQuery(name, 1, { id }), PORT, '127.0.0.1');
  });
const mustHave = [...updateAcked].filter((i) => !updateAcked.has(i + KEEP));
let updMissing = 0;
for (let k = 0; k < mustHave.length; k++) {
  const r = await ask(`u${mustHave[k]}.${ZONE}`, k & 0xffff);
  if (!r || decodeMessage(r).answer.length !== 1) updMissing++;
}
check.close();
console.log(
  `acknowledged and present after kill -9: API weights ${API_TARGETS.length - apiMissing.length}/${API_TARGETS.length} ` +
    `(${apiStats.acked} acknowledged writes in all)${apiMissing.length ? ` MISSING ${apiMissing.join('; ')}` : ''}; ` +
    `UPDATE names ${mustHave.length - updMissing}/${mustHave.length} that no later acknowledged UPDATE deleted`,
);

clearInterval(sampler);
flapping = false;
await Promise.all(flapLoops);
for (const f of flappers) await f.listener?.stop();
nsupdate.stdin!.end();
nsupdate.kill();
upd.close();
await server.stop();
rmSync(work, { recursive: true, force: true });
process.exit(0);
