// Outgoing AXFR of a large zone: time, messages and bytes from a real gslbd (--workers 1), plain and
// TSIG-signed (hmac-sha256, every message signed), against Knot DNS serving the same zone file as
// the reference; and how long UDP queries wait while a transfer runs (one every 5 ms).
// With --ixfr: instead, the IXFR after one change to the zone (time, messages, bytes against the
// zone's AXFR), and what keeping the IXFR history costs an UPDATE and a reload of the changed file
// (ixfr-history 100 against 0).
//
// Run: scripts/node24.sh node bench/axfr.ts [--records 1000000] [--runs 3] [--ixfr]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Type } from '../src/0-base/constants.ts';
import { signRequest, TsigStreamVerifier, tsigKeyFromConfig } from '../src/1-codec/tsig.ts';
import { ixfrQuery } from '../test/helpers/axfr.ts';
import { startGslbd } from '../test/helpers/gslbd.ts';
import { startKnot } from '../test/helpers/knot.ts';
import { decodeMessage } from '../test/helpers/message.ts';
import { buildQuery, udpExchange } from '../test/helpers/raw.ts';
import { add, updateMessage } from '../test/update/helpers.ts';

const { values } = parseArgs({
  options: { records: { type: 'string' }, runs: { type: 'string' }, ixfr: { type: 'boolean' } },
});
const N = Number(values.records ?? 100_000);
const RUNS = Number(values.runs ?? 3);
const ZONE = 'big.test.';
/** SOA, NS, ns1 A, the N records, SOA again. */
const EXPECTED = N + 4;

const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-bench-axfr-'));
const zones = path.join(dir, 'zones');
const secret = randomBytes(32).toString('base64');
const key = tsigKeyFromConfig({ name: 'bench-xfr.', algorithm: 'hmac-sha256', secret });
const updateSecret = randomBytes(32).toString('base64');
const updateKey = tsigKeyFromConfig({
  name: 'bench-upd.',
  algorithm: 'hmac-sha256',
  secret: updateSecret,
  zones: [ZONE],
});

/** The zone file; `serial` and `first` (the address of h0) changed for the reload of a changed file. */
function writeZone(serial = 1, first = '10.0.0.0'): string {
  const lines = ['$TTL 300', `@ IN SOA ns1 hostmaster ${serial} 2h 15m 2w 30`, '  IN NS ns1', 'ns1 IN A 192.0.2.1'];
  // Under 1,000 parents, like bench/load.ts: names of realistic depth.
  for (let i = 0; i < N; i++)
    lines.push(`h${i}.p${i % 1000} IN A ${i === 0 ? first : `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`}`);
  const file = path.join(zones, `${ZONE.slice(0, -1)}.zone`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

interface Result {
  readonly ms: number;
  readonly messages: number;
  readonly bytes: number;
  readonly records: number;
  readonly verified: boolean | null;
}

/** One AXFR over TCP: until the records counted reach EXPECTED; each message TSIG-checked when signed. */
function axfr(port: number, signed: boolean): Promise<Result> {
  const q = buildQuery(ZONE, Type.AXFR, { id: 0x2222 });
  const req = signed ? signRequest(q, key, Date.now()) : { message: q, mac: Buffer.alloc(0) };
  const verifier = signed ? new TsigStreamVerifier(key, req.mac) : null;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const sock = net.connect({ port, host: '127.0.0.1' });
    let pending: Buffer = Buffer.alloc(0);
    let messages = 0;
    let bytes = 0;
    let records = 0;
    let verified: boolean | null = signed ? true : null;
    sock.on('connect', () => {
      const f = Buffer.alloc(2);
      f.writeUInt16BE(req.message.length);
      sock.write(Buffer.concat([f, req.message]));
    });
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const m = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + m.length);
        messages++;
        bytes += m.length;
        records += m.readUInt16BE(6);
        if (verifier && verifier.verify(m, Date.now()).kind === 'error') verified = false;
        if ((m.readUInt16BE(2) & 0xf) !== 0) return reject(new Error(`rcode ${m.readUInt16BE(2) & 0xf}`));
      }
      if (records >= EXPECTED) {
        sock.destroy();
        resolve({ ms: performance.now() - start, messages, bytes, records, verified });
      }
    });
    sock.on('error', reject);
  });
}

/**
 * A separate process (so the client's own work in this one does not count) sends a UDP SOA query
 * every 5 ms while `during` runs; the slowest answer's wait and the 99th percentile.
 */
const PINGER = `
const dgram = require('node:dgram');
const [port, qhex] = process.argv.slice(1);
const q = Buffer.from(qhex, 'hex');
const sock = dgram.createSocket('udp4');
const sent = new Map(); const waits = []; let id = 0;
sock.on('message', (m) => { const at = sent.get(m.readUInt16BE(0)); if (at !== undefined) waits.push(performance.now() - at); });
const timer = setInterval(() => { id = (id + 1) & 0xffff; q.writeUInt16BE(id, 0); sent.set(id, performance.now()); sock.send(q, Number(port), '127.0.0.1'); }, 5);
process.stdout.write('ready\\n');
process.stdin.on('data', () => {}).on('end', () => { clearInterval(timer); setTimeout(() => {
  waits.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ n: waits.length, p99: waits[Math.floor(waits.length * 0.99)], max: waits.at(-1) }) + '\\n');
  process.exit(0); }, 200); });
`;

async function queriesDuring<T>(
  port: number,
  during: () => Promise<T>,
): Promise<{ result: T; max: number; p99: number; n: number }> {
  const child = spawn(process.execPath, ['-e', PINGER, String(port), buildQuery(ZONE, Type.SOA).toString('hex')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  while (!out.includes('ready')) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  const result = await during();
  child.stdin!.end();
  await new Promise<void>((r) => child.once('exit', () => r()));
  const stats = JSON.parse(out.split('\n').filter(Boolean).at(-1)!) as { n: number; p99: number; max: number };
  return { result, ...stats };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** An IXFR from `serial`, one step behind: read to its 4th SOA (RFC 1995 §4, incremental) or its 2nd (AXFR form). */
function ixfr(port: number, serial: number): Promise<Result & { incremental: boolean }> {
  const q = ixfrQuery(ZONE, serial);
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const sock = net.connect({ port, host: '127.0.0.1' });
    let pending: Buffer = Buffer.alloc(0);
    let messages = 0;
    let bytes = 0;
    const records: string[] = [];
    sock.on('connect', () => {
      const f = Buffer.alloc(2);
      f.writeUInt16BE(q.length);
      sock.write(Buffer.concat([f, q]));
    });
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const m = Buffer.from(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + m.length);
        messages++;
        bytes += m.length;
        records.push(...decodeMessage(m).answer);
      }
      const incremental = records.length > 1 && / SOA /.test(records[1]!);
      if (records.filter((r) => / SOA /.test(r)).length >= (incremental ? 4 : 2)) {
        sock.destroy();
        resolve({
          ms: performance.now() - start,
          messages,
          bytes,
          records: records.length,
          verified: null,
          incremental,
        });
      }
    });
    sock.on('error', reject);
  });
}

const serialOf = async (port: number): Promise<number> =>
  Number(decodeMessage((await udpExchange(port, buildQuery(ZONE, Type.SOA)))!).answer[0]!.split(' ')[6]);

/** A signed UPDATE adding one A record; its round trip in ms. */
async function update(port: number, i: number): Promise<number> {
  const msg = updateMessage(ZONE, { update: [await add(`u${i}.${ZONE} 60 IN A 192.0.2.${i & 255}`)] });
  const start = performance.now();
  const reply = await udpExchange(port, signRequest(msg, updateKey, Date.now()).message, 30_000);
  const ms = performance.now() - start;
  if (!reply || (reply.readUInt16BE(2) & 0xf) !== 0) throw new Error('UPDATE not accepted');
  return ms;
}

/** gslbd.yaml for the zone: transfers from loopback, updates with `updateKey`, `history` IXFR steps. */
function config(history: number): string {
  return [
    `zones: ${zones}`,
    'tsig:',
    `  - { name: bench-xfr., algorithm: hmac-sha256, secret: "${secret}", zones: [] }`,
    `  - { name: bench-upd., algorithm: hmac-sha256, secret: "${updateSecret}", zones: [${ZONE}] }`,
    'zones-options:',
    `  ${ZONE}:`,
    '    transfer: { allow: ["127.0.0.1"] }',
    `    ixfr-history: ${history}`,
    '',
  ].join('\n');
}

/** --ixfr: per ixfr-history 100 and 0, UPDATE round trips, the IXFR after the last, a reload of the file changed in one RR. */
async function ixfrMain(): Promise<void> {
  console.log(`IXFR after one change to a zone of ${N.toLocaleString('en')} A records, node ${process.version}\n`);
  console.log(
    '| ixfr-history | UPDATE round trip (median of 5) | IXFR after one UPDATE: form, records, messages, bytes, time | reload of the file with one RR changed | UDP query wait during the reload and its difference: p99 / max | IXFR after the reload: form, records, bytes | the difference made in (UPDATE median / reload) |',
  );
  console.log('|---|---:|---|---:|---|---|---|');
  for (const history of [100, 0]) {
    writeZone();
    writeFileSync(path.join(dir, 'gslbd.yaml'), config(history));
    const data = path.join(dir, `data-${history}`);
    // debug: the history's line for each step it keeps says how long the difference took.
    const gslbd = await startGslbd(['--config', path.join(dir, 'gslbd.yaml'), '--data', data], {
      GSLBD_LOG_LEVEL: 'debug',
    });
    try {
      const rtts: number[] = [];
      let before = 0;
      for (let i = 1; i <= 5; i++) {
        before = await serialOf(gslbd.port);
        rtts.push(await update(gslbd.port, i));
      }
      const x = await ixfr(gslbd.port, before);
      // The file's serial above the journal's bumps, so the reload is a new serial.
      const fileSerial = (await serialOf(gslbd.port)) + 1000;
      const beforeReload = await serialOf(gslbd.port);
      writeZone(fileSerial, '10.255.255.255');
      const loaded = gslbd.logs.filter((l) => l.msg === 'zone loaded').length;
      const kept = (l: Record<string, unknown>) => l.msg === 'IXFR history: a serial step kept';
      const start = performance.now();
      // Queries during the reload and, with a history, until its difference is made (in slices).
      const during = await queriesDuring(gslbd.port, async () => {
        gslbd.proc.kill('SIGHUP');
        let n = 0;
        await gslbd.waitForLog((l) => l.msg === 'zone loaded' && ++n > loaded, 300_000);
        const ms = performance.now() - start;
        let k = 0;
        if (history > 0) await gslbd.waitForLog((l) => kept(l) && ++k > 5, 300_000);
        return ms;
      });
      const reloadMs = during.result;
      const r = await ixfr(gslbd.port, beforeReload);
      const steps = gslbd.logs.filter(kept).map((l) => Number(l.ms));
      const diffMs = steps.length
        ? `${median(steps.slice(0, -1)).toFixed(2)} ms / ${steps.at(-1)!.toFixed(0)} ms`
        : 'none kept';
      console.log(
        `| ${history} | ${median(rtts).toFixed(1)} ms | ${x.incremental ? 'incremental' : 'whole zone'}, ${x.records.toLocaleString('en')}, ${x.messages}, ${x.bytes.toLocaleString('en')}, ${x.ms.toFixed(1)} ms | ${(reloadMs / 1000).toFixed(2)} s | ${during.p99.toFixed(1)} / ${during.max.toFixed(1)} ms | ${r.incremental ? 'incremental' : 'whole zone'}, ${r.records.toLocaleString('en')}, ${r.bytes.toLocaleString('en')} | ${diffMs} |`,
      );
    } finally {
      await gslbd.stop();
    }
  }
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  await import('node:fs/promises').then((fs) => fs.mkdir(zones, { recursive: true }));
  const file = writeZone();
  writeFileSync(
    path.join(dir, 'gslbd.yaml'),
    [
      `zones: ${zones}`,
      'tsig:',
      `  - { name: bench-xfr., algorithm: hmac-sha256, secret: "${secret}", zones: [] }`,
      'zones-options:',
      `  ${ZONE}:`,
      '    transfer: { allow: ["127.0.0.1"] }',
      '',
    ].join('\n'),
  );
  const gslbd = await startGslbd(['--config', path.join(dir, 'gslbd.yaml'), '--data', path.join(dir, 'data')], {
    GSLBD_LOG_LEVEL: 'info',
  });
  // Knot's zone file: the same records, transfers allowed with the key from loopback.
  const knot = await startKnot(path.join(dir, 'knot'), [{ origin: ZONE, file }], 120_000, {
    transferKey: { name: 'bench-xfr.', algorithm: 'hmac-sha256', secret },
  });
  console.log(
    `AXFR of ${N.toLocaleString('en')} A records (${EXPECTED.toLocaleString('en')} RRs), node ${process.version}, median of ${RUNS}\n`,
  );
  console.log('| server | TSIG | time | messages | bytes | bytes/RR | UDP query wait during it: p99 / max |');
  console.log('|---|---|---:|---:|---:|---:|---|');
  try {
    for (const [name, port] of [
      ['gslbd', gslbd.port],
      ['knot', knot.port],
    ] as const) {
      for (const signed of [false, true]) {
        const runs: { r: Result; p99: number; max: number }[] = [];
        for (let i = 0; i < RUNS; i++) {
          const d = await queriesDuring(port, () => axfr(port, signed));
          if (d.result.records !== EXPECTED) throw new Error(`${name}: ${d.result.records} records`);
          if (d.result.verified === false) throw new Error(`${name}: a TSIG did not verify`);
          runs.push({ r: d.result, p99: d.p99, max: d.max });
        }
        const r = runs[0]!.r;
        const ms = median(runs.map((x) => x.r.ms));
        console.log(
          `| ${name} | ${signed ? 'hmac-sha256, every message verified' : 'none'} | ${(ms / 1000).toFixed(2)} s | ${r.messages} | ${r.bytes.toLocaleString('en')} | ${(r.bytes / r.records).toFixed(1)} | ${median(runs.map((x) => x.p99)).toFixed(1)} / ${median(runs.map((x) => x.max)).toFixed(1)} ms |`,
        );
      }
    }
  } finally {
    await knot.stop();
    await gslbd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await import('node:fs/promises').then((fs) => fs.mkdir(zones, { recursive: true }));
await (values.ixfr ? ixfrMain() : main());
