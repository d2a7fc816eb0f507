// Resolver-visible query load (issue 14): how often a resolver that honours TTLs asks gslbd about a
// health-checked pool, which is what the TTL of its answers decides.
//
// A real unbound (Debian `unbound`) on loopback resolves `www.gslb.test` through a stub zone that
// points at a real gslbd; a client asks unbound for it every 100 ms. The pool is the issue's
// reproduction: `ttl: 30`, `check: { type: tcp, interval: 5s, fall: 3, rise: 2 }`, two targets that
// are real TCP listeners, steady and up. Reported: the queries gslbd saw per minute (its query log
// counter), and the TTLs unbound was given.
//
// Run: scripts/node24.sh node bench/resolver-load.ts [--seconds 120] [--fast-fail]
// (needs unbound on PATH; it is started and stopped by this script.) Results: bench/RESULTS.md.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Flag, Type } from '../src/0-base/constants.ts';
import { startGslbd } from '../test/helpers/gslbd.ts';
import { readReply } from '../test/helpers/pool-queries.ts';
import { buildQuery, udpExchange } from '../test/helpers/raw.ts';
import { tcpListener } from '../test/helpers/listeners.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '120' }, 'fast-fail': { type: 'boolean', default: false } },
});
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 10 || seconds > 3600) throw new Error('--seconds: 10..3600');
const ASK_EVERY_MS = 100;

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-resolver-load-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const targets = [await tcpListener('127.0.0.2'), await tcpListener('127.0.0.3')];
const zones = path.join(work, 'zones');
const { mkdirSync } = await import('node:fs');
mkdirSync(zones);
writeFileSync(
  path.join(zones, 'gslb.test.zone'),
  '$TTL 300\n@ IN SOA ns1 hostmaster ( 1 3600 600 86400 60 )\n  IN NS ns1\nns1 IN A 127.0.0.1\n',
);
const check = (port: number) =>
  `{ type: tcp, port: ${port}, interval: 5s, timeout: 1s, fall: 3, rise: 2${values['fast-fail'] ? ', fast-fail: true' : ''} }`;
writeFileSync(
  path.join(zones, 'gslb.test.pools.yaml'),
  `www:\n  ttl: 30\n  answers: 2\n  targets:\n` +
    targets.map((t) => `    - { address: ${t.host}, check: ${check(t.port)} }\n`).join(''),
);
const gslbd = await startGslbd(['--zones', zones, '--query-log-sample', '1']);

const unboundPort = await freeUdpPort();
writeFileSync(
  path.join(work, 'unbound.conf'),
  `server:
  interface: 127.0.0.1@${unboundPort}
  port: ${unboundPort}
  do-ip6: no
  do-daemonize: no
  use-syslog: no
  logfile: ""
  verbosity: ${process.env.UNBOUND_VERBOSITY ?? 0}
  chroot: ""
  username: ""
  directory: "${work}"
  pidfile: "${work}/unbound.pid"
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  prefetch: no
  serve-expired: no
  cache-min-ttl: 0
  domain-insecure: "gslb.test"
  # test. is one of unbound's default local zones (RFC 6761): let the stub zone answer it.
  local-zone: "test." nodefault
stub-zone:
  name: "gslb.test"
  stub-addr: 127.0.0.1@${gslbd.port}
`,
);
const unbound = spawn('unbound', ['-d', '-c', path.join(work, 'unbound.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
let unboundErr = '';
unbound.stderr.on('data', (d: Buffer) => (unboundErr += d.toString()));

/** The A queries for the pool gslbd has answered so far (its query log, every query). */
const served = (): number =>
  gslbd.logs.filter((l) => l.msg === 'query' && l.qname === 'www.gslb.test.' && l.qtype === 'A').length;

/** The client's question to the resolver: recursion desired. */
const recursive = () => buildQuery('www.gslb.test', Type.A, { flags: Flag.RD, id: Math.floor(Math.random() * 65536) });

const ttls = new Map<number, number>();
let asked = 0;
let answered = 0;
try {
  // Wait for unbound to answer at all.
  for (let i = 0; i < 50; i++) {
    if (await udpExchange(unboundPort, recursive(), 200)) break;
    await sleep(100);
  }
  const start = Date.now();
  const baseline = served();
  let nextTtlAt = 0;
  let samples = 0;
  while (Date.now() - start < seconds * 1000) {
    // Every 5 s, the TTL gslbd gives at that moment (asked directly, not counted above: a PTR-free A query).
    if (Date.now() >= nextTtlAt) {
      nextTtlAt = Date.now() + 5000;
      samples++;
      const direct = await udpExchange(gslbd.port, buildQuery('www.gslb.test', Type.A), 1000);
      const ttl = direct ? readReply(direct).answer[0]?.ttl : undefined;
      if (ttl !== undefined) ttls.set(ttl, (ttls.get(ttl) ?? 0) + 1);
    }
    asked++;
    const reply = await udpExchange(unboundPort, recursive(), 1000);
    if (reply) {
      const r = readReply(reply);
      if (r.rcode === 0 && r.answer.length > 0) answered++;
    }
    await sleep(ASK_EVERY_MS);
  }
  const minutes = (Date.now() - start) / 60_000;
  // Less the direct TTL samples.
  const seen = served() - baseline - samples;
  console.log(
    `| ${values['fast-fail'] ? 'fast-fail: true' : 'default'} | ${seconds} | ${asked} | ${answered} | ${seen} | ${(seen / minutes).toFixed(1)} | ${[
      ...ttls,
    ]
      .sort((a, b) => a[0] - b[0])
      .map(([t, n]) => `${t}×${n}`)
      .join(' ')} |`,
  );
} finally {
  unbound.kill('SIGTERM');
  await gslbd.stop();
  for (const t of targets) await t.stop();
  rmSync(work, { recursive: true, force: true });
  if (process.env.UNBOUND_VERBOSITY) console.error(unboundErr);
}
/** A UDP port free on 127.0.0.1 at this moment. */
async function freeUdpPort(): Promise<number> {
  const dgram = await import('node:dgram');
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  await new Promise<void>((r) => sock.close(() => r()));
  return port;
}
