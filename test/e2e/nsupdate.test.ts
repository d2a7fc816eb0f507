// RFC 2136 UPDATE end to end: the real `nsupdate` (bind9-dnsutils) against a real gslbd started
// with keys this test generates, `dig` confirming each effect, over UDP and TCP; a hand-signed
// message for BADTIME (nsupdate cannot lie about its clock); and every change still there after a
// restart on the same --data directory.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rcode } from '../../src/0-base/constants.ts';
import { signRequest, TsigError, verifyResponse } from '../../src/1-codec/tsig.ts';
import { dig } from '../helpers/dig.ts';
import { ROOT, runCli, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { udpExchange } from '../helpers/raw.ts';
import { add, makeKey, updateMessage } from '../update/helpers.ts';
import { keyFlag, nsupdate as runNsupdate, type Key, type NsupdateOptions, type Run } from '../helpers/nsupdate.ts';

const ZONES = path.join(ROOT, 'test/fixtures/update');
const ZONE = 'dyn.example.net.';

const monitor: Key = makeKey('monitor-key.', 'hmac-sha256', [ZONE]);
const sha512: Key = makeKey('sha512-key.', 'hmac-sha512', [ZONE]);
const otherZone: Key = makeKey('other-key.', 'hmac-sha1', ['other.example.net.']);

const flag = keyFlag;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-nsupdate-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-nsupdate-keys-'));
let server: Gslbd;

const start = () =>
  startGslbd([
    '--zones',
    ZONES,
    '--data',
    dataDir,
    ...[monitor, sha512, otherZone].flatMap((k) => ['--tsig-key', flag(k)]),
  ]);

beforeAll(async () => {
  server = await start();
}, 30_000);

afterAll(async () => {
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

/** nsupdate against this file's server and zone; `key` defaults to the monitor key. */
function nsupdate(lines: string[], opts: Partial<NsupdateOptions> & { zone?: string } = {}): Promise<Run> {
  return runNsupdate(server.port, opts.zone ?? ZONE, lines, {
    ...opts,
    key: opts.key === undefined ? monitor : opts.key,
    work,
  });
}

/** Data of the answer RRs, sorted. */
async function look(name: string, type: string, tcp = false): Promise<string[]> {
  const r = await dig(server.port, [name, type, ...(tcp ? ['+tcp'] : [])]);
  return r.answer.map((a) => a.data).sort();
}

async function serial(zone = ZONE): Promise<number> {
  const [soa] = await look(zone, 'SOA');
  return Number(soa!.split(/\s+/)[2]);
}

const ok: Run = { code: 0, out: '' };

describe('nsupdate against gslbd', () => {
  let base = 0;

  it('adds an RR over UDP; dig sees it and a serial one higher', async () => {
    base = await serial();
    expect(await nsupdate(['update add new.dyn.example.net. 300 A 192.0.2.77'])).toEqual(ok);
    expect(await look('new.dyn.example.net.', 'A')).toEqual(['192.0.2.77']);
    expect(await serial()).toBe(base + 1);
  });

  it('adds over TCP (nsupdate -v) with an hmac-sha512 key from a key file', async () => {
    expect(
      await nsupdate(['update add tcp.dyn.example.net. 300 TXT "over tcp"'], { key: sha512, keyFile: true, tcp: true }),
    ).toEqual(ok);
    expect(await look('tcp.dyn.example.net.', 'TXT', true)).toEqual(['"over tcp"']);
    expect(await serial()).toBe(base + 2);
  });

  it('deletes an RRset, every RRset at a name, and one RR', async () => {
    expect(await nsupdate(['update delete multi.dyn.example.net. A'])).toEqual(ok);
    expect(await look('multi.dyn.example.net.', 'A')).toEqual([]);
    expect(await look('multi.dyn.example.net.', 'AAAA')).toEqual(['2001:db8::11']);
    expect(await nsupdate(['update delete static.dyn.example.net.'], { tcp: true })).toEqual(ok);
    expect((await dig(server.port, ['static.dyn.example.net.', 'TXT'])).status).toBe('NXDOMAIN');
    expect(
      await nsupdate([
        'update add new.dyn.example.net. 300 A 192.0.2.78',
        'update delete new.dyn.example.net. A 192.0.2.77',
      ]),
    ).toEqual(ok);
    expect(await look('new.dyn.example.net.', 'A')).toEqual(['192.0.2.78']);
    expect(await serial()).toBe(base + 5);
  });

  it('applies an update whose prerequisites hold', async () => {
    const r = await nsupdate([
      'prereq yxdomain new.dyn.example.net.',
      'prereq nxdomain fresh.dyn.example.net.',
      'prereq yxrrset new.dyn.example.net. A',
      'prereq nxrrset new.dyn.example.net. MX',
      'prereq yxrrset mail.dyn.example.net. MX 10 mx1.dyn.example.net.',
      'update add fresh.dyn.example.net. 60 A 192.0.2.79',
    ]);
    expect(r).toEqual(ok);
    expect(await look('fresh.dyn.example.net.', 'A')).toEqual(['192.0.2.79']);
    base = await serial();
  });

  it('fails each kind of prerequisite with the rcode RFC 2136 §3.2 gives, changing nothing', async () => {
    const change = 'update add never.dyn.example.net. 60 A 192.0.2.99';
    const cases: [string, string][] = [
      ['prereq nxdomain new.dyn.example.net.', 'YXDOMAIN'],
      ['prereq yxdomain nothing.dyn.example.net.', 'NXDOMAIN'],
      ['prereq nxrrset new.dyn.example.net. A', 'YXRRSET'],
      ['prereq yxrrset new.dyn.example.net. MX', 'NXRRSET'],
      ['prereq yxrrset new.dyn.example.net. A 192.0.2.1', 'NXRRSET'],
      ['prereq yxdomain host.other.example.net.', 'NOTZONE'],
    ];
    for (const [prereq, rcode] of cases) {
      expect([prereq, await nsupdate([prereq, change])]).toEqual([prereq, { code: 2, out: `update failed: ${rcode}` }]);
    }
    expect(await look('never.dyn.example.net.', 'A')).toEqual([]);
    expect(await serial()).toBe(base);
  });

  it('answers NOTAUTH(BADKEY) to an unknown key and NOTAUTH(BADSIG) to a wrong secret', async () => {
    const change = 'update add never.dyn.example.net. 60 A 192.0.2.99';
    const unknown = await nsupdate([change], { name: 'no-such-key' });
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/update failed: NOTAUTH\(BADKEY\)/);
    const forged = await nsupdate([change], { secret: makeKey('x.').base64 });
    expect(forged.code).toBe(2);
    expect(forged.out).toMatch(/update failed: NOTAUTH\(BADSIG\)/);
    expect(await look('never.dyn.example.net.', 'A')).toEqual([]);
    expect(await serial()).toBe(base);
  });

  it('refuses unsigned updates and keys not listed for the zone', async () => {
    const unsigned = await nsupdate(['update add never.dyn.example.net. 60 A 192.0.2.99'], { key: null });
    expect(unsigned).toEqual({ code: 2, out: 'update failed: REFUSED' });
    const other = await nsupdate(['update add never.dyn.example.net. 60 A 192.0.2.99'], { key: otherZone });
    expect(other).toEqual({ code: 2, out: 'update failed: REFUSED' });
    expect(
      await nsupdate(['update add new.other.example.net. 60 A 192.0.2.98'], {
        key: otherZone,
        zone: 'other.example.net.',
      }),
    ).toEqual(ok);
    expect(await look('new.other.example.net.', 'A')).toEqual(['192.0.2.98']);
    expect(await look('never.dyn.example.net.', 'A')).toEqual([]);
  });

  it('answers BADTIME, signed, with the server clock, to a request signed 10 minutes off', async () => {
    const clientNow = Date.now() - 600_000;
    const req = signRequest(
      updateMessage(ZONE, { update: [await add('never.dyn.example.net. 60 IN A 192.0.2.99')] }),
      monitor,
      clientNow,
    );
    const before = Math.floor(Date.now() / 1000);
    const reply = (await udpExchange(server.port, req.message, 5000))!;
    const after = Math.ceil(Date.now() / 1000);
    expect(reply.readUInt16BE(2) & 0xf).toBe(Rcode.NOTAUTH);
    const v = verifyResponse(reply, monitor, req.mac, clientNow);
    expect(v.kind === 'error' && v.tsigError).toBe(TsigError.BADTIME);
    const serverTime = v.kind === 'error' ? v.record!.other.readUIntBE(0, 6) : 0;
    expect(serverTime).toBeGreaterThanOrEqual(before);
    expect(serverTime).toBeLessThanOrEqual(after);
    expect(await look('never.dyn.example.net.', 'A')).toEqual([]);
  });

  it('adds and removes pool targets with A and AAAA at a pool name', async () => {
    expect(await look('www.dyn.example.net.', 'A')).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(
      await nsupdate([
        'update add www.dyn.example.net. 300 A 198.51.100.9',
        'update add www.dyn.example.net. 300 AAAA 2001:db8::9',
      ]),
    ).toEqual(ok);
    expect(await look('www.dyn.example.net.', 'A')).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.9']);
    expect(await look('www.dyn.example.net.', 'AAAA')).toEqual(['2001:db8::1', '2001:db8::9']);
    expect(await nsupdate(['update delete www.dyn.example.net. A 198.51.100.1'], { tcp: true })).toEqual(ok);
    expect(await look('www.dyn.example.net.', 'A')).toEqual(['198.51.100.2', '198.51.100.9']);
    expect(await serial()).toBe(base + 2);
  });

  it('keeps every acknowledged change across a restart on the same --data', async () => {
    const soa = await serial();
    await server.stop();
    server = await start();
    expect(await serial()).toBe(soa);
    expect(await look('new.dyn.example.net.', 'A')).toEqual(['192.0.2.78']);
    expect(await look('tcp.dyn.example.net.', 'TXT')).toEqual(['"over tcp"']);
    expect(await look('fresh.dyn.example.net.', 'A')).toEqual(['192.0.2.79']);
    expect(await look('multi.dyn.example.net.', 'A')).toEqual([]);
    expect((await dig(server.port, ['static.dyn.example.net.', 'A'])).status).toBe('NXDOMAIN');
    expect(await look('www.dyn.example.net.', 'A')).toEqual(['198.51.100.2', '198.51.100.9']);
    expect(await look('www.dyn.example.net.', 'AAAA')).toEqual(['2001:db8::1', '2001:db8::9']);
    expect(await look('new.other.example.net.', 'A')).toEqual(['192.0.2.98']);
    // And updates go on from there.
    expect(await nsupdate(['update add after.dyn.example.net. 60 A 192.0.2.80'])).toEqual(ok);
    expect(await serial()).toBe(soa + 1);
  }, 30_000);
});

describe('--tsig-key', () => {
  it('fails the start with the key and the reason when a key is bad', async () => {
    const bad = async (...flags: string[]) => {
      const r = await runCli(
        ['serve', '--zones', ZONES, '--listen', '127.0.0.1:0', '--data', work, '--tsig-key', ...flags],
        20_000,
      );
      return { code: r.code, message: r.stderr.split('\n').find((l) => l.startsWith('gslbd:')) };
    };
    expect(await bad('k:hmac-md5:AAAA')).toEqual({
      code: 1,
      message: expect.stringContaining('tsig key "k": algorithm "hmac-md5" is not one of hmac-sha1'),
    });
    expect(await bad('k:hmac-sha256:not*base64')).toEqual({
      code: 1,
      message: 'gslbd: tsig key "k": secret is not base64',
    });
    const k = makeKey('k.').base64;
    expect(await bad(`k:hmac-sha256:${k}`, `--tsig-key`, `K.:hmac-sha1:${k}`)).toEqual({
      code: 1,
      message: 'gslbd: tsig key "k." is defined twice',
    });
    expect(await bad('k:hmac-sha256')).toEqual({
      code: 1,
      message: expect.stringContaining('expected NAME:ALGORITHM:BASE64SECRET[:ZONE,ZONE...]'),
    });
  }, 30_000); // four process starts: slow on a loaded machine
});
