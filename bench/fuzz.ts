// The long fuzz run (issue 14 §4): a million fuzzed packets against a real gslbd over UDP and TCP,
// then the parsers with many more inputs than the suite's fuzz tests give them.
//
// packets  --packets N (1,000,000) messages from test/helpers/fuzz.ts (random, structured, mutated
//          seeds), a --tcp share of them pipelined over TCP sessions of 2,000, the rest over UDP in
//          batches of 200 each followed by a check query (test/helpers/fuzz-net.ts). Every 10,000
//          packets a check over a new TCP connection and a pool query too. Every reply is checked
//          (checkReply). Coverage-guided on the response side: a reply of a shape not seen before
//          (rcode, flags, section counts, OPT, size class) puts its packet in a corpus, and 30 % of
//          later packets (--guided) are mutations of corpus entries. With --coverage, gslbd runs under
//          NODE_V8_COVERAGE and the share of source bytes executed per src/ folder is printed.
// zone     --zone N (20,000) mutated zone files through parseZone + buildZone: errors, the slowest
//          input and what it was.
// yaml     --yaml N (5,000) each of mutated pools files and gslbd.yaml.
// api      --api N (10,000) fuzzed API bodies over HTTP to a real gslbd (statuses, never a 5xx).
// update   --update N (50,000) fuzzed TSIG-signed UPDATEs over UDP to a real gslbd
//          (test/helpers/update-fuzz.ts), in batches of 100 each followed by a check query.
//
// io       --io batched|dgram (batched): the UDP I/O of the gslbd the packets go to.
//
// Run: scripts/node24.sh node bench/fuzz.ts [--packets 1000000] [--tcp 0.1] [--seed S] [--coverage]
//      [--zone 20000] [--yaml 5000] [--api 10000] [--update 50000] [--io batched|dgram]

import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { parsePoolsFile } from '../src/4-gslb/pools-file.ts';
import { ConfigError, parseConfig } from '../src/7-config/load.ts';
import { rssMiB, fdsOf } from '../test/helpers/abuse.ts';
import { answersA, mutateBytes, nextPacket, Rng, type Fuzzed } from '../test/helpers/fuzz.ts';
import {
  answersOverTcp,
  CHECK,
  CHECK_ADDRESS,
  expectsReply,
  frame,
  ID_SPACE,
  matchReplies,
  POOL_ADDRESSES,
  POOL_CHECK,
  tcpSession,
  udpBatch,
} from '../test/helpers/fuzz-net.ts';
import { ROOT, startGslbd } from '../test/helpers/gslbd.ts';
import { startOps, WRITE } from '../test/helpers/ops.ts';
import { buildQuery, tcpExchange } from '../test/helpers/raw.ts';
import {
  apiRequest,
  CONFIG_SEEDS,
  loadZoneText,
  mutated,
  POOLS_SEEDS,
  YAML_TOKENS,
  ZONE_SEEDS,
  ZONE_TOKENS,
} from '../test/helpers/text-fuzz.ts';
import {
  badUpdateReply,
  baseUpdates,
  fuzzedUpdate,
  KEY_FLAG,
  ZONE as UPDATE_ZONE,
} from '../test/helpers/update-fuzz.ts';

const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '1000000' },
    tcp: { type: 'string', default: '0.1' },
    seed: { type: 'string' },
    coverage: { type: 'boolean', default: false },
    zone: { type: 'string', default: '20000' },
    yaml: { type: 'string', default: '5000' },
    api: { type: 'string', default: '10000' },
    update: { type: 'string', default: '50000' },
    guided: { type: 'string', default: '0.3' },
    io: { type: 'string', default: 'batched' },
  },
});
const PACKETS = Number(values.packets);
const TCP_SHARE = Number(values.tcp);
const SEED = values.seed !== undefined ? Number(values.seed) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const UDP_BATCH = 200;
const TCP_SESSION = 2000;
const CHECK_EVERY = 10_000;
const CORPUS_MAX = 5000;
/** Share of packets that mutate a corpus entry instead of a seed (0: unguided). */
const GUIDED = Number(values.guided);

console.log(`bench/fuzz.ts seed ${SEED}, ${new Date().toISOString()}, ${os.cpus().length} cores`);

/** The shape of a reply, for coverage guidance: what about it differs between code paths. */
function shapeOf(reply: Buffer): string {
  if (reply.length < 12) return `short${reply.length}`;
  const flags = reply.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => Math.min(reply.readUInt16BE(o), 3));
  const size = reply.length <= 512 ? 's' : reply.length <= 1232 ? 'm' : 'l';
  // Opcode, AA, TC, RD, RA, rcode; capped counts; size class.
  return `${(flags >> 11) & 0xf}/${flags & 0x0780}/${flags & 0xf}/${counts.join('.')}/${size}`;
}

async function packets() {
  const env: Record<string, string> = { GSLBD_LOG_LEVEL: 'info' };
  const coverageDir = values.coverage ? mkdtempSync(path.join(os.tmpdir(), 'gslbd-cov-')) : null;
  if (coverageDir) env.NODE_V8_COVERAGE = coverageDir;
  const server = await startGslbd(['--zones', path.join(ROOT, 'zones'), '--io', values.io], env);
  console.log(`UDP through ${String(server.logs.find((l) => l.msg === 'listening')?.io)}`);
  const pid = server.proc.pid!;
  const start = { rss: rssMiB(pid), fds: fdsOf(pid) };
  const rng = new Rng(SEED);
  const shapes = new Map<string, number>();
  const corpus: Buffer[] = [];
  let fromCorpusNew = 0;
  const next = (): Fuzzed & { fromCorpus: boolean } => {
    if (corpus.length && rng.chance(GUIDED)) return { ...mutateBytes(rng, rng.pick(corpus)), fromCorpus: true };
    return { ...nextPacket(rng), fromCorpus: false };
  };
  const see = (p: Fuzzed & { fromCorpus?: boolean }, reply: Buffer) => {
    const s = shapeOf(reply);
    const n = shapes.get(s) ?? 0;
    shapes.set(s, n + 1);
    if (n === 0) {
      if (p.fromCorpus) fromCorpusNew++;
      if (corpus.length < CORPUS_MAX) corpus.push(Buffer.from(p.msg));
    }
  };
  const problems: string[] = [];
  let sent = 0;
  let udpSent = 0;
  let tcpSent = 0;
  let replies = 0;
  let expected = 0;
  let checks = 0;
  let nextCheck = CHECK_EVERY;
  let maxRss = start.rss;
  const started = performance.now();
  for (let batch = 0; sent < PACKETS && problems.length < 20; batch++) {
    if (tcpSent < TCP_SHARE * sent) {
      // A pipelined TCP session: every message that must be answered is, and matches its query.
      const n = Math.min(TCP_SESSION, PACKETS - sent);
      const queries = Array.from({ length: n }, (_, i) => {
        const p = next();
        const msg = Buffer.from(p.msg);
        if (msg.length >= 2) msg.writeUInt16BE(i, 0);
        return { ...p, msg };
      });
      const want = queries.filter((q) => expectsReply(q.msg)).length;
      const got = await tcpSession(server.port, Buffer.concat(queries.map((q) => frame(q.msg))), rng, {
        done: (r) => r.length >= want,
      });
      try {
        matchReplies(queries, got, SEED);
      } catch (err) {
        problems.push(`TCP: ${(err as Error).message}`);
      }
      if (got.length !== want) problems.push(`TCP session: ${got.length} replies of ${want}`);
      replies += got.length;
      expected += want;
      sent += n;
      tcpSent += n;
    } else {
      const packetsOf = Array.from({ length: Math.min(UDP_BATCH, PACKETS - sent) }, next);
      const pool = batch % 10 === 9;
      const r = await udpBatch(
        server.port,
        packetsOf,
        sent % ID_SPACE,
        pool ? POOL_CHECK : CHECK,
        pool ? POOL_ADDRESSES : CHECK_ADDRESS,
        SEED,
        see,
      );
      problems.push(...r.problems.map((p) => `UDP batch ${batch}: ${p}`));
      replies += r.replies;
      expected += r.expected;
      sent += packetsOf.length;
      udpSent += packetsOf.length;
    }
    if (sent >= nextCheck) {
      // The valid answer every 10k, over a new TCP connection, on top of the one after every batch.
      nextCheck += CHECK_EVERY;
      checks++;
      if (!(await answersOverTcp(server.port))) problems.push(`no valid TCP answer after ${sent} packets`);
      const [pool] = await tcpExchange(server.port, [buildQuery('rr.gslb.example.com', 1, { id: 7 })]);
      if (!pool || !answersA(pool, POOL_ADDRESSES)) problems.push(`no valid pool answer after ${sent} packets`);
      maxRss = Math.max(maxRss, rssMiB(pid));
      if (server.proc.exitCode !== null) problems.push(`gslbd exited (${server.proc.exitCode})`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const end = { rss: rssMiB(pid), fds: fdsOf(pid) };
  const servfails = server.logs.filter((l) => l.msg === 'query failed: answered SERVFAIL').length;
  const alive = server.proc.exitCode === null && server.proc.signalCode === null;
  await server.stop();
  console.log(`\n## packets (seed ${SEED})`);
  console.log(
    `${sent} packets in ${seconds.toFixed(0)} s (${Math.round(sent / seconds)}/s): ${udpSent} UDP, ${tcpSent} TCP; ` +
      `${replies} replies of ${expected} expected (${expected - replies} UDP lost); ${checks} checks every ${CHECK_EVERY} ` +
      `(plus one after each UDP batch of ${UDP_BATCH}); alive at the end: ${alive}; SERVFAIL logged: ${servfails}; ` +
      `problems: ${problems.length}`,
  );
  for (const p of problems.slice(0, 5)) console.log(`  problem: ${p.slice(0, 600)}`);
  console.log(
    `gslbd RSS ${start.rss.toFixed(0)} → ${end.rss.toFixed(0)} MiB (peak seen ${maxRss.toFixed(0)}), fds ${start.fds} → ${end.fds}`,
  );
  console.log(
    `coverage guidance: ${shapes.size} reply shapes; corpus ${corpus.length}; ${fromCorpusNew} shapes first reached by a corpus mutation`,
  );
  if (coverageDir) {
    console.log(coverageByFolder(coverageDir));
    rmSync(coverageDir, { recursive: true, force: true });
  }
}

/** Share of source bytes of each src/ folder that ran, from the V8 coverage files in `dir`. */
function coverageByFolder(dir: string): string {
  const byFolder = new Map<string, { ran: number; total: number }>();
  for (const f of readdirSync(dir)) {
    const data = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
      result: { url: string; functions: { ranges: { startOffset: number; endOffset: number; count: number }[] }[] }[];
    };
    for (const script of data.result) {
      if (!script.url.startsWith(`file://${ROOT}/src/`)) continue;
      const file = script.url.slice('file://'.length);
      const text = readFileSync(file, 'utf8');
      // Ranges nest (a function, then its blocks): the innermost count of a byte is its own.
      const counts = new Int32Array(text.length).fill(-1);
      for (const fn of script.functions)
        for (const r of fn.ranges) counts.fill(r.count, r.startOffset, Math.min(r.endOffset, text.length));
      const folder = path.relative(path.join(ROOT, 'src'), file).split('/')[0]!;
      const acc = byFolder.get(folder) ?? { ran: 0, total: 0 };
      for (const c of counts) {
        if (c < 0) continue;
        acc.total++;
        if (c > 0) acc.ran++;
      }
      byFolder.set(folder, acc);
    }
  }
  return [...byFolder]
    .sort()
    .map(([folder, a]) => `  ${folder}: ${((100 * a.ran) / a.total).toFixed(0)} % of ${a.total} bytes ran`)
    .join('\n');
}

async function zone() {
  const n = Number(values.zone);
  const rng = new Rng(SEED ^ 0x20ae);
  let rejected = 0;
  const unclearOnes: string[] = [];
  let slowest = { ms: 0, text: '' };
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const text = mutated(rng, ZONE_SEEDS, ZONE_TOKENS);
    const t = performance.now();
    const r = await loadZoneText(text);
    const ms = performance.now() - t;
    if (ms > slowest.ms) slowest = { ms, text };
    if (r.errors.length) rejected++;
    unclearOnes.push(...r.unclear);
  }
  const lines = slowest.text.split('\n');
  console.log(`\n## zone files (seed ${(SEED ^ 0x20ae) >>> 0})`);
  console.log(
    `${n} mutated zone files in ${((performance.now() - started) / 1000).toFixed(0)} s: ${rejected} rejected, ` +
      `${unclearOnes.length} unclear errors, 0 exceptions (an exception ends the run)`,
  );
  console.log(
    `slowest: ${slowest.ms.toFixed(0)} ms for ${slowest.text.length} bytes, ${lines.length} lines, longest line ` +
      `${Math.max(...lines.map((l) => l.length))} chars; its most repeated line: ${JSON.stringify(mostRepeated(lines).slice(0, 80))}`,
  );
  for (const u of unclearOnes.slice(0, 5)) console.log(`  unclear: ${u.slice(0, 300)}`);
}

const mostRepeated = (lines: readonly string[]): string => {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
};

function yaml() {
  const n = Number(values.yaml);
  const rng = new Rng(SEED ^ 0x9a41);
  let pools = { rejected: 0, slowest: 0 };
  for (let i = 0; i < n; i++) {
    const seed = rng.pick(POOLS_SEEDS);
    const text = mutated(rng, [seed.text], YAML_TOKENS);
    const t = performance.now();
    const r = parsePoolsFile(text, 'fuzz.pools.yaml', seed.wire);
    pools = {
      rejected: pools.rejected + (r.errors.length ? 1 : 0),
      slowest: Math.max(pools.slowest, performance.now() - t),
    };
  }
  let config = { rejected: 0, slowest: 0 };
  for (let i = 0; i < n; i++) {
    const text = mutated(rng, CONFIG_SEEDS, YAML_TOKENS);
    const t = performance.now();
    let bad = 0;
    try {
      parseConfig(text, 'gslbd.yaml', { GSLBD_API_TOKEN: 'an-api-token-of-32-characters-xx', GSLBD_FUZZ: 'x' });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      bad = 1;
    }
    config = { rejected: config.rejected + bad, slowest: Math.max(config.slowest, performance.now() - t) };
  }
  console.log(`\n## YAML (seed ${(SEED ^ 0x9a41) >>> 0})`);
  console.log(`pools files: ${n}, ${pools.rejected} rejected, slowest ${pools.slowest.toFixed(0)} ms; 0 exceptions`);
  console.log(
    `gslbd.yaml: ${n}, ${config.rejected} rejected (ConfigError), slowest ${config.slowest.toFixed(0)} ms; 0 other exceptions`,
  );
}

async function api() {
  const n = Number(values.api);
  const s = await startOps();
  const rng = new Rng(SEED ^ 0xa91);
  const statuses = new Map<number, number>();
  const started = performance.now();
  let i = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (i < n) {
        i++;
        const r = apiRequest(rng);
        const res = await fetch(s.base + r.url, {
          method: r.method,
          headers: { authorization: `Bearer ${WRITE}`, ...(r.type && { 'content-type': r.type }) },
          body: r.body,
        });
        await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    }),
  );
  const alive = s.gslbd.proc.exitCode === null;
  await s.stop();
  console.log(`\n## API bodies (seed ${(SEED ^ 0xa91) >>> 0})`);
  console.log(
    `${n} requests in ${((performance.now() - started) / 1000).toFixed(0)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; alive: ${alive}`,
  );
}

async function update() {
  const n = Number(values.update);
  const server = await startGslbd(['--zones', path.join(ROOT, 'test/fixtures/update'), '--tsig-key', KEY_FLAG], {
    GSLBD_LOG_LEVEL: 'info',
  });
  const bases = await baseUpdates();
  const rng = new Rng((SEED ^ 0x2136) >>> 0);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const sent = new Map<number, Fuzzed>();
  const rcodes = new Map<number, number>();
  const problems: string[] = [];
  let onCheck: (() => void) | null = null;
  let replies = 0;
  let expected = 0;
  let failedChecks = 0;
  sock.on('message', (reply) => {
    const id = reply.readUInt16BE(0);
    if (id === 0xfffe) return onCheck?.();
    const q = sent.get(id);
    if (!q) return;
    sent.delete(id);
    replies++;
    rcodes.set(reply[3]! & 0xf, (rcodes.get(reply[3]! & 0xf) ?? 0) + 1);
    const why = badUpdateReply(q.msg, reply);
    if (why) problems.push(`${why}: ${q.kind} ${q.msg.toString('hex')}`);
  });
  const started = performance.now();
  for (let i = 0; i < n; i += 100) {
    for (let j = i; j < Math.min(n, i + 100); j++) {
      const f = fuzzedUpdate(rng, bases, j % 0xff00);
      if (expectsReply(f.msg)) {
        expected++;
        sent.set(j % 0xff00, f);
      }
      sock.send(f.msg, server.port, '127.0.0.1');
    }
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 3000);
      onCheck = () => {
        clearTimeout(t);
        resolve(true);
      };
      sock.send(buildQuery(`static.${UPDATE_ZONE}`, 1, { id: 0xfffe }), server.port, '127.0.0.1');
    });
    if (!ok) failedChecks++;
  }
  await sleep(1000);
  sock.close();
  const servfails = server.logs.filter((l) => l.msg === 'query failed: answered SERVFAIL').length;
  const alive = server.proc.exitCode === null;
  await server.stop();
  console.log(`\n## TSIG-signed UPDATE (seed ${(SEED ^ 0x2136) >>> 0})`);
  console.log(
    `${n} UPDATEs over UDP in ${((performance.now() - started) / 1000).toFixed(0)} s: ${replies} replies of ${expected} expected; ` +
      `rcodes ${JSON.stringify(Object.fromEntries([...rcodes].sort((a, b) => a[0] - b[0])))}; unanswered checks ${failedChecks}; ` +
      `bad replies ${problems.length}; SERVFAIL logged ${servfails}; alive: ${alive}`,
  );
  for (const p of problems.slice(0, 3)) console.log(`  problem: ${p.slice(0, 400)}`);
}

await packets();
await zone();
yaml();
await api();
await update();
