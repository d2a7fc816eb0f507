// Outgoing zone transfers end to end: a real gslbd with zones-options in gslbd.yaml, the real
// `dig axfr` (which verifies the TSIG of every message of a multi-message transfer), `nsupdate`,
// and a raw TCP client whose messages our own TsigStreamVerifier checks. The ACL: address only,
// key only, both; the external-dns sequence (AXFR with key A, UPDATE with key B, AXFR again).

import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rcode, Type } from '../../src/0-base/constants.ts';
import { nameToText } from '../../src/0-base/name.ts';
import { signRequest, TsigStreamVerifier, type TsigAlgorithm } from '../../src/1-codec/tsig.ts';
import { digTransfer, ixfrQuery, rawTransfer } from '../helpers/axfr.ts';
import { dig } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { nsupdate, tsigKeyYaml, type Key } from '../helpers/nsupdate.ts';
import { buildQuery, headerOf, tcpExchange, udpExchange } from '../helpers/raw.ts';
import { decodeMessage } from '../helpers/message.ts';
import { makeKey } from '../update/helpers.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-xfr-'));
const zones = path.join(work, 'zones');

/** Key A: transfers only (it may update no zone). Key B: updates gslb.example.com. only. */
const keyA: Key = makeKey('xfr-a.', 'hmac-sha256', []);
const keyB: Key = makeKey('upd-b.', 'hmac-sha256', ['gslb.example.com.']);
const ALGORITHMS: TsigAlgorithm[] = ['hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'];
const byAlgorithm: Key[] = ALGORITHMS.map((a) => makeKey(`big-${a}.`, a, []));
/** Records in big.test.: enough for several 64 KB messages. */
const BIG = 6000;

let server: Gslbd;
const TOKEN = randomBytes(24).toString('base64url');
let serverW2: Gslbd | undefined;

function config(): string {
  return [
    `zones: ${zones}`,
    'api:',
    '  listen: 127.0.0.1:0',
    `  tokens: [{ token: "${TOKEN}", access: write }]`,
    'tsig:',
    ...[keyA, keyB, ...byAlgorithm].map(tsigKeyYaml),
    'zones-options:',
    '  example.com.:',
    '    transfer: { allow: ["127.0.0.1"] }',
    '  big.test.:',
    `    transfer: { keys: [${byAlgorithm.map((k) => nameToText(k.name)).join(', ')}] }`,
    '  gslb.example.com.:',
    '    transfer: { allow: ["127.0.0.1/32"], keys: [xfr-a.] }',
    '    pools-in-transfer: all',
    '',
  ].join('\n');
}

beforeAll(async () => {
  cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
  rmSync(path.join(zones, 'README.md'), { force: true });
  const big = ['$TTL 300', '@ IN SOA ns1 hostmaster ( 7 2h 15m 2w 30 )', '  IN NS ns1', 'ns1 IN A 192.0.2.1'];
  for (let i = 0; i < BIG; i++) big.push(`h${i} IN A 10.0.${(i >> 8) & 255}.${i & 255}`);
  writeFileSync(path.join(zones, 'big.test.zone'), big.join('\n') + '\n');
  writeFileSync(path.join(work, 'gslbd.yaml'), config());
  server = await startGslbd(['--config', path.join(work, 'gslbd.yaml')]);
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await serverW2?.stop();
  rmSync(work, { recursive: true, force: true });
});

const y = (k: Key, secret = k.base64) => ['-y', `${k.algorithm}:${nameToText(k.name)}:${secret}`];

describe('the ACL', () => {
  it('transfers a zone allowed by address to a client at that address, and refuses one from another', async () => {
    const ok = await digTransfer(server.port, 'example.com.');
    expect(ok.ok).toBe(true);
    expect(ok.records[0]).toMatch(/^example\.com\. 3600 IN SOA /);
    expect(ok.records.at(-1)).toBe(ok.records[0]);
    expect(ok.records).toContain('www.example.com. 300 IN A 192.0.2.10');
    const other = await digTransfer(server.port, 'example.com.', ['-b', '127.0.0.2']);
    expect(other.ok).toBe(false);
    expect(other.records).toEqual([]);
  });

  it('needs both the address and a listed key when both are given', async () => {
    expect((await digTransfer(server.port, 'gslb.example.com.', y(keyA))).ok).toBe(true);
    expect((await digTransfer(server.port, 'gslb.example.com.')).ok).toBe(false);
    expect((await digTransfer(server.port, 'gslb.example.com.', ['-b', '127.0.0.2', ...y(keyA)])).ok).toBe(false);
  });

  it('refuses no key, a key not listed for transfer (the UPDATE key), an unknown key and a wrong secret', async () => {
    const wrong = makeKey('xfr-a.', 'hmac-sha256').base64;
    for (const args of [[], y(keyB), y(makeKey('stranger.')), y(keyA, wrong)]) {
      const r = await digTransfer(server.port, 'gslb.example.com.', args);
      expect(r.ok, args.join(' ')).toBe(false);
      expect(r.records.some((l) => / SOA /.test(l))).toBe(false);
    }
    // The refusal as it is on the wire: REFUSED, signed with key B (the request verified).
    const q = buildQuery('gslb.example.com.', Type.AXFR, { id: 0x4242 });
    const signed = signRequest(q, keyB, Date.now());
    const [reply] = await tcpExchange(server.port, [signed.message]);
    expect(headerOf(reply!)).toMatchObject({ id: 0x4242, rcode: Rcode.REFUSED, ancount: 0 });
    const v = new TsigStreamVerifier(keyB, signed.mac).verify(reply!, Date.now());
    expect(v.kind).toBe('ok');
  });

  it('counts transfers given and refused in gslbd_queries_total', async () => {
    const port = (await server.waitForLog((l) => l.msg === 'api listening')).port as number;
    const text = await (
      await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).text();
    const count = (labels: string) =>
      Number(new RegExp(`^gslbd_queries_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(count('zone="example.com.",qtype="AXFR",rcode="NOERROR",transport="tcp"')).toBeGreaterThanOrEqual(1);
    expect(count('zone="gslb.example.com.",qtype="AXFR",rcode="NOERROR",transport="tcp"')).toBeGreaterThanOrEqual(1);
    expect(count('zone="",qtype="AXFR",rcode="REFUSED",transport="tcp"')).toBeGreaterThanOrEqual(3);
  });

  it('logs a refusal with its reason', async () => {
    const line = server.logs.find((l) => l.msg === 'zone transfer refused');
    expect(line).toMatchObject({ zone: expect.any(String), reason: expect.any(String) });
  });
});

describe('TSIG on a transfer of many messages (RFC 8945 §5.3.1)', () => {
  it.each(ALGORITHMS.map((a, i) => [a, i] as const))('dig verifies every message signed with %s', async (_a, i) => {
    const r = await digTransfer(server.port, 'big.test.', y(byAlgorithm[i]!));
    expect(r.ok).toBe(true);
    expect(r.tsigFailed).toBe(false);
    expect(r.messages).toBeGreaterThan(1);
    expect(r.records.length).toBe(BIG + 4);
  });

  it('our stream verifier accepts every message, and rejects one altered', async () => {
    const key = byAlgorithm[2]!;
    const q = signRequest(buildQuery('big.test.', Type.AXFR, { id: 0x5151 }), key, Date.now());
    const messages = await rawTransfer(server.port, q.message);
    expect(messages.length).toBeGreaterThan(1);
    const v = new TsigStreamVerifier(key, q.mac);
    for (const m of messages) expect(v.verify(m, Date.now()).kind).toBe('ok');
    expect(v.pending).toBe(0);
    // Every message at most 64 KB, the question only in the first, the records all there once.
    const answers = messages.flatMap((m) => decodeMessage(m).answer.filter((r) => !/ TSIG /.test(r)));
    expect(answers.length).toBe(BIG + 4);
    expect(messages.slice(1).every((m) => m.readUInt16BE(4) === 0)).toBe(true);
    const tampered = messages.map((m) => Buffer.from(m));
    const second = tampered[1]!;
    second[second.length - 60] = second[second.length - 60]! ^ 1;
    const again = new TsigStreamVerifier(key, q.mac);
    expect(again.verify(tampered[0]!, Date.now()).kind).toBe('ok');
    expect(again.verify(tampered[1]!, Date.now()).kind).toBe('error');
  });
});

describe('pools-in-transfer: all', () => {
  it('leaves out a target drained by an override, and takes it back when the override is cleared', async () => {
    const port = (await server.waitForLog((l) => l.msg === 'api listening')).port as number;
    const url = `http://127.0.0.1:${port}/v1/zones/gslb.example.com./pools/www/targets/192.0.2.20/override`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const www = async () =>
      (await digTransfer(server.port, 'gslb.example.com.', y(keyA))).records.filter((l) => l.startsWith('www.')).sort();
    expect(await www()).toEqual([
      'www.gslb.example.com. 20 IN A 192.0.2.10',
      'www.gslb.example.com. 20 IN A 192.0.2.20',
      'www.gslb.example.com. 20 IN AAAA 2001:db8::10',
    ]);
    const serial = async () =>
      Number((await dig(server.port, ['gslb.example.com.', 'SOA'])).answer[0]!.data.split(' ')[2]);
    const before = await serial();
    const put = await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ state: 'drain', reason: 'test' }) });
    expect(put.status).toBeLessThan(300);
    // A drain is no zone data, but it changes what a transfer sends: the serial follows (checked every second).
    for (const deadline = Date.now() + 5000; (await serial()) === before && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 100));
    expect(await serial()).toBe(before + 1);
    expect(await www()).toEqual([
      'www.gslb.example.com. 20 IN A 192.0.2.10',
      'www.gslb.example.com. 20 IN AAAA 2001:db8::10',
    ]);
    // IXFR (RFC 1995): the bump's difference is the drained target's record deleted.
    const soa = (n: number) => new RegExp(`^gslb\\.example\\.com\\. \\d+ IN SOA \\S+ \\S+ ${n} `);
    const drained = (await digTransfer(server.port, 'gslb.example.com.', y(keyA), `IXFR=${before}`)).records;
    expect(drained).toHaveLength(5);
    expect(drained[1]).toMatch(soa(before));
    expect(drained[2]).toBe('www.gslb.example.com. 20 IN A 192.0.2.20');
    expect(drained[3]).toMatch(soa(before + 1));
    const del = await fetch(url, { method: 'DELETE', headers: { authorization: headers.authorization } });
    expect(del.status).toBeLessThan(300);
    // Sent at once, under the drain's serial, before the bump that follows.
    expect(await www()).toHaveLength(3);
    for (const deadline = Date.now() + 5000; (await serial()) === before + 1 && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 100));
    expect(await serial()).toBe(before + 2);
    // From the first serial: both steps, the record deleted then added again.
    const both = (await digTransfer(server.port, 'gslb.example.com.', y(keyA), `IXFR=${before}`)).records;
    expect(both.filter((l) => l.startsWith('www.'))).toEqual([
      'www.gslb.example.com. 20 IN A 192.0.2.20',
      'www.gslb.example.com. 20 IN A 192.0.2.20',
    ]);
    expect(both).toHaveLength(8);
    // From the drain's serial: the whole zone, since the AXFR above sent that serial with the target
    // back (a secondary holding it could not apply a step that adds it).
    const whole = (await digTransfer(server.port, 'gslb.example.com.', y(keyA), `IXFR=${before + 1}`)).records;
    expect(whole[1]).not.toMatch(/ SOA /);
    expect(whole.filter((l) => l.startsWith('www.'))).toHaveLength(3);
  });
});

describe('over UDP, and IXFR', () => {
  it('refuses AXFR over UDP (RFC 5936 §4.2), answers IXFR over UDP with the SOA only (RFC 1995 §2)', async () => {
    const axfr = await udpExchange(server.port, buildQuery('example.com.', Type.AXFR));
    expect(headerOf(axfr!)).toMatchObject({ rcode: Rcode.REFUSED, ancount: 0 });
    const ixfr = await udpExchange(server.port, ixfrQuery('example.com.', 1));
    const d = decodeMessage(ixfr!);
    expect(d.rcode).toBe(0);
    expect(d.answer).toHaveLength(1);
    expect(d.answer[0]).toMatch(/^example\.com\. 3600 IN SOA .* 2024060101 /);
  });

  it('answers an IXFR over TCP with the whole zone, or the SOA alone when the client has our serial', async () => {
    const old = await digTransfer(server.port, 'example.com.', [], 'IXFR=1');
    expect(old.ok).toBe(true);
    expect(old.records).toEqual((await digTransfer(server.port, 'example.com.')).records);
    const current = await rawTransfer(server.port, ixfrQuery('example.com.', 2024060101));
    expect(current).toHaveLength(1);
    expect(decodeMessage(current[0]!).answer).toHaveLength(1);
  });
});

describe('external-dns: AXFR with key A, UPDATE with key B, AXFR again', () => {
  it('shows the change and the new serial in the second transfer', async () => {
    const before = await digTransfer(server.port, 'gslb.example.com.', y(keyA));
    expect(before.ok).toBe(true);
    expect(before.records.some((l) => l.startsWith('edns.gslb.example.com.'))).toBe(false);
    const up = await nsupdate(
      server.port,
      'gslb.example.com.',
      ['update add edns.gslb.example.com. 60 TXT "owner=external-dns"'],
      {
        key: keyB,
      },
    );
    expect(up.code, up.out).toBe(0);
    // Key A may transfer but not update.
    const refused = await nsupdate(server.port, 'gslb.example.com.', ['update add x.gslb.example.com. 60 TXT "no"'], {
      key: keyA,
    });
    expect(refused.code).not.toBe(0);
    const after = await digTransfer(server.port, 'gslb.example.com.', y(keyA));
    expect(after.ok).toBe(true);
    expect(after.records).toContain('edns.gslb.example.com. 60 IN TXT "owner=external-dns"');
    expect(after.records.some((l) => l.startsWith('x.gslb.example.com.'))).toBe(false);
    const serial = (r: string) => Number(r.split(' ')[6]);
    expect(serial(after.records[0]!)).toBeGreaterThan(serial(before.records[0]!));
  });
});

describe('--workers 2', () => {
  it('transfers whichever worker accepts the connection', async () => {
    serverW2 = await startGslbd(
      ['--config', path.join(work, 'gslbd.yaml'), '--listen', '127.0.0.1:0', '--workers', '2'],
      {},
      {},
    );
    for (let i = 0; i < 6; i++) {
      const r = await digTransfer(serverW2.port, 'big.test.', y(byAlgorithm[4]!));
      expect(r.ok).toBe(true);
      expect(r.tsigFailed).toBe(false);
      expect(r.records.length).toBe(BIG + 4);
    }
    expect((await digTransfer(serverW2.port, 'example.com.', ['-b', '127.0.0.2'])).ok).toBe(false);
  }, 60_000);

  it('takes a new zones-options on SIGHUP in every worker, and keeps the old one when the new one is wrong', async () => {
    const file = path.join(work, 'gslbd.yaml');
    const fromTwo = async () => (await digTransfer(serverW2!.port, 'example.com.', ['-b', '127.0.0.2'])).ok;
    const fromOne = async () => (await digTransfer(serverW2!.port, 'example.com.')).ok;
    // A key that is no TSIG key: refused as a whole, the old settings stay.
    writeFileSync(file, config().replace('allow: ["127.0.0.1"] }', 'allow: ["127.0.0.2"], keys: [nope.] }'));
    serverW2!.proc.kill('SIGHUP');
    await serverW2!.waitForLog(
      (l) => l.msg === 'config: zones-options not reloaded: the transfer settings in service are kept',
    );
    for (let i = 0; i < 4; i++) expect([await fromOne(), await fromTwo()]).toEqual([true, false]);
    writeFileSync(file, config().replace('allow: ["127.0.0.1"] }', 'allow: ["127.0.0.2"] }'));
    serverW2!.proc.kill('SIGHUP');
    await serverW2!.waitForLog((l) => l.msg === 'config reloaded: zones-options');
    // The workers are told after the primary: wait (bounded) for the change to show, then check it holds.
    for (const deadline = Date.now() + 5000; !(await fromTwo()) && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 4; i++) expect([await fromOne(), await fromTwo()]).toEqual([false, true]);
    writeFileSync(file, config());
  }, 60_000);
});

describe('a client that stops reading in the middle of a transfer', () => {
  it('is disconnected after the idle timeout, the transfer given up', async () => {
    // Larger than what loopback's socket buffers hold (some MB), so the server has to wait for it.
    const dir = path.join(work, 'huge');
    const lines = ['$TTL 300', '@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 30 )', '  IN NS ns1', 'ns1 IN A 192.0.2.1'];
    for (let i = 0; i < 500_000; i++) lines.push(`h${i} IN A 10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'huge.test.zone'), lines.join('\n') + '\n');
    const file = path.join(work, 'huge.yaml');
    writeFileSync(file, `zones: ${dir}\nzones-options:\n  huge.test.:\n    transfer: { allow: ["127.0.0.1"] }\n`);
    const huge = await startGslbd(['--config', file, '--tcp-idle-timeout', '1']);
    try {
      const sock = net.connect({ port: huge.port, host: '127.0.0.1' });
      await new Promise<void>((r) => sock.once('connect', () => r()));
      const q = buildQuery('huge.test.', Type.AXFR);
      const f = Buffer.alloc(2);
      f.writeUInt16BE(q.length);
      sock.write(Buffer.concat([f, q]));
      // Read the first bytes, then nothing for 3 s (three idle timeouts), then all there is.
      let pending: Buffer = Buffer.alloc(0);
      let records = 0;
      sock.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          records += pending.readUInt16BE(2 + 6);
          pending = pending.subarray(2 + pending.readUInt16BE(0));
        }
      });
      await new Promise<void>((r) => sock.once('data', () => r()));
      sock.pause();
      await new Promise((r) => setTimeout(r, 3000));
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000);
        sock.once('close', () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      sock.resume();
      expect(await closed).toBe(true);
      // What was in the socket buffers arrived; the rest was never sent.
      expect(records).toBeGreaterThan(0);
      expect(records).toBeLessThan(500_004);
      // Still answering.
      expect((await dig(huge.port, ['huge.test.', 'SOA'])).status).toBe('NOERROR');
    } finally {
      await huge.stop();
    }
  }, 60_000);
});
