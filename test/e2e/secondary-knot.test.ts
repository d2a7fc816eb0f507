// gslbd as a secondary of a real Knot DNS over loopback, transfers and NOTIFY signed with TSIG:
// gslbd serves Knot's zone with its own pools laid over it; a change reloaded on Knot reaches gslbd
// within 2 s (NOTIFY, then IXFR); a restart with Knot down serves the copy kept under `data`; with
// Knot gone past the SOA EXPIRE the zone answers SERVFAIL, and comes back when Knot does. NOTIFY
// from a stranger or without the key is refused; UPDATE of the transferred records too.

import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFromText, nameToText } from '../../src/0-base/name.ts';
import { notifyMessage } from '../../src/6-serve/notify.ts';
import { signRequest } from '../../src/1-codec/tsig.ts';
import { dig } from '../helpers/dig.ts';
import { until } from '../helpers/listeners.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { freePort, requireKnot, startKnot, type Knot } from '../helpers/knot.ts';
import { nsupdate, tsigKeyYaml, type Key } from '../helpers/nsupdate.ts';
import { makeKey } from '../update/helpers.ts';

requireKnot();

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-secondary-'));
const zones = path.join(work, 'zones');
const data = path.join(work, 'data');
const knotFile = path.join(work, 'sec.test.zone');
const key: Key = makeKey('sec-xfr.', 'hmac-sha256', ['sec.test.']);
/**
 * Refresh an hour: a change reaches gslbd by NOTIFY alone. The last test's serial has refresh 2 s,
 * retry 1 s, expire 6 s, so that the timers run within it.
 */
const zoneText = (serial: number, extra: string[] = [], timers = '1h 1h 2w') =>
  [
    '$TTL 300',
    `@ IN SOA ns1 hostmaster ( ${serial} ${timers} 30 )`,
    '  IN NS ns1',
    'ns1 IN A 192.0.2.1',
    'static IN A 192.0.2.10',
    'alias IN CNAME static',
    'txt IN TXT "from knot"',
    ...extra,
    '',
  ].join('\n');

let gslbd: Gslbd;
let knot: Knot;
let gslbdPort: number;
let knotPort: number;

const gslbdArgs = () => [
  '--config',
  path.join(work, 'gslbd.yaml'),
  '--listen',
  `127.0.0.1:${gslbdPort}`,
  '--data',
  data,
];

const answerOf = async (name: string, type = 'A') => {
  const r = await dig(gslbdPort, [name, type, '+timeout=1', '+tries=1']).catch(() => null);
  return r;
};

async function startKnotPrimary(): Promise<Knot> {
  return startKnot(path.join(work, 'knot'), [{ origin: 'sec.test.', file: knotFile }], 15_000, {
    transferKey: { name: nameToText(key.name), algorithm: key.algorithm, secret: key.base64 },
    primaryFor: { notifyPort: gslbdPort },
    ...(knotPort !== undefined && { port: knotPort }),
  });
}

beforeAll(async () => {
  mkdirSync(zones, { recursive: true });
  writeFileSync(knotFile, zoneText(1));
  gslbdPort = await freePort();
  knot = await startKnotPrimary();
  knotPort = knot.port;
  // The pools file is gslbd's own: it lays the pool `www` over the transferred zone.
  writeFileSync(
    path.join(zones, 'sec.test.pools.yaml'),
    [
      'www:',
      '  ttl: 20',
      '  answers: 2',
      '  targets:',
      '    - { address: 192.0.2.51 }',
      '    - { address: 192.0.2.52 }',
      '',
    ].join('\n'),
  );
  writeFileSync(
    path.join(work, 'gslbd.yaml'),
    [
      `zones: ${zones}`,
      'tsig:',
      tsigKeyYaml(key),
      'zones-options:',
      '  sec.test.:',
      `    primary: { address: "127.0.0.1:${knotPort}", key: sec-xfr. }`,
      '',
    ].join('\n'),
  );
  gslbd = await startGslbd(gslbdArgs());
  await gslbd.waitForLog((l) => l.msg === 'secondary: zone transferred', 10_000);
}, 60_000);

afterAll(async () => {
  await knot?.stop();
  await gslbd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('gslbd as a secondary of Knot', () => {
  it('serves the transferred zone with its own pool laid over it', async () => {
    await until(async () => (await answerOf('static.sec.test.'))?.status === 'NOERROR', 5000, 'static answered');
    const s = (await answerOf('static.sec.test.'))!;
    expect(s.flags).toContain('aa');
    expect(s.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
    const txt = await answerOf('txt.sec.test.', 'TXT');
    expect(txt!.answer.map((a) => a.data)).toEqual(['"from knot"']);
    const www = await answerOf('www.sec.test.');
    expect(www!.answer.map((a) => a.data).sort()).toEqual(['192.0.2.51', '192.0.2.52']);
    expect(www!.answer[0]!.ttl).toBeLessThanOrEqual(20);
    const soa = await answerOf('sec.test.', 'SOA');
    expect(soa!.answer[0]!.data).toMatch(/ 1 3600 3600 1209600 30$/);
  });

  it('has a change reloaded on Knot within 2 s, by NOTIFY and IXFR', async () => {
    writeFileSync(knotFile, zoneText(2, ['new IN A 192.0.2.77']));
    const t0 = Date.now();
    await knot.reload('sec.test.');
    await until(async () => ((await answerOf('new.sec.test.'))?.answer.length ?? 0) > 0, 2000, 'new name served');
    const r = (await answerOf('new.sec.test.'))!;
    expect(r.status).toBe('NOERROR');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.77']);
    expect(gslbd.logs.some((l) => l.msg === 'secondary: zone transferred' && l.kind === 'IXFR' && l.serial === 2)).toBe(
      true,
    );
    // The pool is still laid over the new copy.
    expect((await answerOf('www.sec.test.'))!.answer).toHaveLength(2);
  });

  it('refuses a NOTIFY from a stranger and an unsigned one from the primary address', async () => {
    const soa = { ttl: 300, rdata: Buffer.alloc(0) };
    const send = (from: string, msg: Buffer) =>
      new Promise<Buffer>((resolve, reject) => {
        const s = dgram.createSocket('udp4');
        const timer = setTimeout(() => (s.close(), reject(new Error('no answer'))), 2000);
        s.on('message', (m) => {
          clearTimeout(timer);
          s.close();
          resolve(m);
        });
        s.bind(0, from, () => s.send(msg, gslbdPort, '127.0.0.1'));
      });
    const bare = notifyMessage(keyFromText('sec.test.'), 7, { ...soa, rdata: Buffer.from('00', 'hex') }).subarray(
      0,
      12 + 10 + 4,
    );
    bare.writeUInt16BE(0, 6);
    const stranger = await send('127.0.0.2', signRequest(bare, key, Date.now()).message);
    expect(stranger.readUInt16BE(2) & 0xf).toBe(5); // REFUSED
    const unsigned = await send('127.0.0.1', bare);
    expect(unsigned.readUInt16BE(2) & 0xf).toBe(5);
    const good = await send('127.0.0.1', signRequest(bare, key, Date.now()).message);
    expect(good.readUInt16BE(2) & 0xf).toBe(0);
    // The log comes through a pipe: waited for, not read at once.
    for (const reason of ['not from the primary 127.0.0.1', 'not signed with sec-xfr.'])
      await gslbd.waitForLog((l) => l.msg === 'NOTIFY refused' && l.reason === reason, 2000);
    await gslbd.waitForLog((l) => l.msg === 'NOTIFY accepted: refreshing the zone' && l.from === '127.0.0.1', 2000);
  });

  it('refuses an UPDATE of the transferred records', async () => {
    const r = await nsupdate(gslbdPort, 'sec.test.', ['update add extra.sec.test. 60 A 192.0.2.99'], { key });
    expect(r.out).toMatch(/REFUSED/);
    expect((await answerOf('extra.sec.test.'))!.status).toBe('NXDOMAIN');
  });

  it('serves its copy after a restart with Knot down, SERVFAIL past EXPIRE, and again once Knot is back', async () => {
    writeFileSync(knotFile, zoneText(3, ['new IN A 192.0.2.77'], '2 1 6'));
    await knot.reload('sec.test.');
    await until(
      async () => (await answerOf('sec.test.', 'SOA'))?.answer[0]?.data.includes(' 3 2 1 6 30') === true,
      2000,
      'serial 3',
    );
    await knot.stop();
    await gslbd.stop();
    gslbd = await startGslbd(gslbdArgs());
    const r = await answerOf('new.sec.test.');
    expect(r!.status).toBe('NOERROR');
    expect(r!.answer.map((a) => a.data)).toEqual(['192.0.2.77']);
    // EXPIRE is 6 s after the last answer from Knot.
    await until(
      async () => (await answerOf('static.sec.test.'))?.status === 'SERVFAIL',
      12_000,
      'SERVFAIL after expire',
    );
    expect(gslbd.logs.some((l) => String(l.msg).startsWith('secondary: zone expired'))).toBe(true);
    knot = await startKnotPrimary();
    await until(async () => (await answerOf('static.sec.test.'))?.status === 'NOERROR', 5000, 'served again');
  }, 40_000);
});
