// TSIG on ordinary queries (RFC 8945 §5.2, §5.3): the real `dig -y` with keys this test generates
// checks that a signed query gets a signed answer it can verify; unknown keys and bad MACs get
// NOTAUTH with BADKEY/BADSIG; hand-signed messages for what dig cannot send (a clock far off with
// a fudge of 65535, which the server's own maximum fudge caps), for QUERY and UPDATE alike.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rcode } from '../../src/0-base/constants.ts';
import { nameToText } from '../../src/0-base/name.ts';
import { signRequest, TsigError, verifyResponse, type TsigKey } from '../../src/1-codec/tsig.ts';
import { forTests } from '../helpers/fixture.ts';
import { gslbdForTests, ROOT } from '../helpers/gslbd.ts';
import { startKnot } from '../helpers/knot.ts';
import { buildQuery, headerOf, tcpExchange, udpExchange } from '../helpers/raw.ts';
import { add, makeKey, updateMessage } from '../update/helpers.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const A = 1;

type Key = TsigKey & { readonly base64: string };
const reader: Key = makeKey('reader-key.', 'hmac-sha256');
const keyText = (k: TsigKey) => nameToText(k.name).replace(/\.$/, '');
const flag = (k: Key) => `${keyText(k)}:${k.algorithm}:${k.base64}`;

const served = gslbdForTests(['--zones', ZONES, '--tsig-key', flag(reader)]);
const tight = gslbdForTests(['--zones', ZONES, '--tsig-key', flag(reader), '--tsig-max-fudge', '60']);
const knot = forTests(
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gslbd-tsig-knot-'));
    const server = await startKnot(dir, [{ origin: 'example.net.', file: path.join(ZONES, 'example.net.zone') }]);
    return { server, dir };
  },
  async ({ server, dir }) => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  },
);
const workers = gslbdForTests(['--zones', ZONES, '--tsig-key', flag(reader), '--workers', '2']);

interface DigText {
  readonly status: string;
  readonly out: string;
}

/** Plain `dig` (not +yaml: its TSIG messages are the point) with `-y ALG:NAME:SECRET`. */
function digSigned(port: number, y: string, args: string[]): Promise<DigText> {
  return new Promise((resolve) => {
    execFile(
      'dig',
      ['@127.0.0.1', '-p', String(port), '+norecurse', '+tries=1', '+timeout=3', '-y', y, ...args],
      { timeout: 15_000 },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        resolve({ status: /status: (\w+)/.exec(out)?.[1] ?? `no answer (${err?.message ?? ''})`, out });
      },
    );
  });
}

const y = (k: Key, secret = k.base64, name = keyText(k)) => `${k.algorithm}:${name}:${secret}`;

/** A signed answer's TSIG verdict as the client sees it, for a request signed at `clientNow`. */
function clientVerdict(reply: Buffer, key: Key, requestMac: Buffer, clientNow: number) {
  const v = verifyResponse(reply, key, requestMac, clientNow);
  return v.kind === 'error' ? { kind: v.kind, rcode: v.rcode, tsigError: v.tsigError } : { kind: v.kind };
}

describe('a signed query', () => {
  it('gets a signed answer that dig -y verifies, over UDP and TCP', async () => {
    for (const transport of ['+notcp', '+tcp']) {
      const r = await digSigned(served.server.port, y(reader), ['www.example.net', 'A', transport]);
      expect(r.status).toBe('NOERROR');
      expect(r.out).toMatch(/^www\.example\.net\.\s+3600\s+IN\s+A\s+192\.0\.2\.10$/m);
      expect(r.out).toContain(';; TSIG PSEUDOSECTION:');
      expect(r.out).toMatch(/reader-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/);
      expect(r.out).not.toMatch(/tsig verify failure|Couldn't verify|expected a TSIG/i);
    }
  });

  it('is never answered from a cached unsigned answer, nor its signed answer cached for unsigned queries', async () => {
    const query = buildQuery('mail.example.net', A, { id: 0x5151, edns: {} });
    const unsigned = (await udpExchange(served.server.port, query))!;
    expect(headerOf(unsigned)).toMatchObject({ rcode: 0, ancount: 1, arcount: 1 });
    for (let i = 0; i < 2; i++) {
      const req = signRequest(query, reader, Date.now());
      const reply = (await udpExchange(served.server.port, req.message))!;
      expect(headerOf(reply)).toMatchObject({ rcode: 0, ancount: 1, arcount: 2 });
      expect(clientVerdict(reply, reader, req.mac, Date.now())).toEqual({ kind: 'ok' });
    }
    // The same wire as the first answer: no TSIG slipped into what unsigned queries are given.
    expect((await udpExchange(served.server.port, query))!.equals(unsigned)).toBe(true);
  });

  it('gets a signed answer from worker processes too (they are given the keys)', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await digSigned(workers.server.port, y(reader), ['www.example.net', 'A', i % 2 ? '+tcp' : '+notcp']);
      expect(r.status).toBe('NOERROR');
      expect(r.out).toContain(';; TSIG PSEUDOSECTION:');
      expect(r.out).not.toMatch(/tsig verify failure|Couldn't verify|expected a TSIG/i);
    }
  });

  it('with an unknown key gets NOTAUTH, BADKEY in an unsigned TSIG', async () => {
    const stranger = makeKey('stranger-key.');
    const r = await digSigned(served.server.port, y(stranger), ['www.example.net', 'A']);
    expect(r.status).toBe('NOTAUTH');
    expect(r.out).toMatch(/stranger-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 +\d+ BADKEY 0/);
    expect(r.out).not.toMatch(/^www\.example\.net\.\s+\d+\s+IN\s+A/m);
  });

  it('with a wrong secret gets NOTAUTH, BADSIG in an unsigned TSIG', async () => {
    const r = await digSigned(served.server.port, y(reader, randomBytes(32).toString('base64')), [
      'www.example.net',
      'A',
    ]);
    expect(r.status).toBe('NOTAUTH');
    expect(r.out).toMatch(/reader-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 +\d+ BADSIG 0/);
  });

  it('signed an hour off with a fudge of 65535 gets BADTIME, signed: the server caps the fudge at 300 s', async () => {
    const clientNow = Date.now() - 3_600_000;
    const req = signRequest(buildQuery('www.example.net', A, { id: 0x7e57 }), reader, clientNow, 65535);
    for (const reply of [
      (await udpExchange(served.server.port, req.message))!,
      (await tcpExchange(served.server.port, [req.message]))[0]!,
    ]) {
      expect(headerOf(reply)).toMatchObject({ id: 0x7e57, rcode: Rcode.NOTAUTH, ancount: 0 });
      expect(clientVerdict(reply, reader, req.mac, clientNow)).toEqual({
        kind: 'error',
        rcode: Rcode.NOTAUTH,
        tsigError: TsigError.BADTIME,
      });
    }
  });

  it('signed 100 s off is answered with the default cap, and BADTIME under --tsig-max-fudge 60', async () => {
    const clientNow = Date.now() - 100_000;
    const req = signRequest(buildQuery('www.example.net', A), reader, clientNow, 65535);
    const ok = (await udpExchange(served.server.port, req.message))!;
    expect(headerOf(ok)).toMatchObject({ rcode: 0, ancount: 1 });
    expect(clientVerdict(ok, reader, req.mac, Date.now())).toEqual({ kind: 'ok' });
    const late = (await udpExchange(tight.server.port, req.message))!;
    expect(clientVerdict(late, reader, req.mac, clientNow)).toEqual({
      kind: 'error',
      rcode: Rcode.NOTAUTH,
      tsigError: TsigError.BADTIME,
    });
  });

  it('that is not a QUERY is answered NOTIMP, signed', async () => {
    const req = signRequest(buildQuery('www.example.net', A, { flags: 2 << 11 }), reader, Date.now());
    const reply = (await udpExchange(served.server.port, req.message))!;
    expect(headerOf(reply)).toMatchObject({ opcode: 2, rcode: Rcode.NOTIMP });
    expect(clientVerdict(reply, reader, req.mac, Date.now())).toEqual({ kind: 'ok' });
  });
});

describe('a signed UPDATE', () => {
  it('signed an hour off with a fudge of 65535 gets BADTIME: the cap applies to UPDATE too', async () => {
    const clientNow = Date.now() - 3_600_000;
    const msg = updateMessage('example.net.', { update: [await add('never.example.net. 60 IN A 192.0.2.99')] });
    const req = signRequest(msg, reader, clientNow, 65535);
    const reply = (await udpExchange(served.server.port, req.message))!;
    expect(reply.readUInt16BE(2) & 0xf).toBe(Rcode.NOTAUTH);
    expect(clientVerdict(reply, reader, req.mac, clientNow)).toEqual({
      kind: 'error',
      rcode: Rcode.NOTAUTH,
      tsigError: TsigError.BADTIME,
    });
  });
});

describe('compared with Knot DNS', () => {
  it('answers a query signed with a key it does not have as Knot does: NOTAUTH, BADKEY, no answer', async () => {
    const stranger = makeKey('stranger-key.');
    const summary = (r: DigText) => ({
      status: r.status,
      tsig: /stranger-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ \d+ 0 +\d+ (\w+) 0/.exec(r.out)?.[1] ?? null,
      answered: /^www\.example\.net\.\s+\d+\s+IN\s+A/m.test(r.out),
    });
    const theirs = summary(await digSigned(knot.server.port, y(stranger), ['www.example.net', 'A']));
    const ours = summary(await digSigned(served.server.port, y(stranger), ['www.example.net', 'A']));
    expect(theirs).toEqual({ status: 'NOTAUTH', tsig: 'BADKEY', answered: false });
    expect(ours).toEqual(theirs);
  });
});
