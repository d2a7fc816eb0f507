// How much one request may change (`--max-changes`): one API request or one RFC 2136 UPDATE is
// checked and applied without yielding, so the cap bounds how long answering can stall. Over it:
// 413 ERR_TOO_LARGE from the API, REFUSED with a logged reason from UPDATE (for its changes or its
// prerequisites), and nothing changes.
// At the cap, the whole request is applied. A real gslbd, real HTTP, real nsupdate and dig.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { keyFlag, nsupdate } from '../helpers/nsupdate.ts';
import { makeKey } from '../update/helpers.ts';

const ZONE = 'rules.example.net.';
const TOKEN = 'limits-write-token-0123456789';
const MAX = 40;
const key = makeKey('limits-key.', 'hmac-sha256', [ZONE]);
const zones = mkdtempSync(path.join(os.tmpdir(), 'gslbd-limits-zones-'));
const config = path.join(zones, 'gslbd.yaml');
cpSync(path.join(ROOT, 'test/fixtures/rules'), zones, { recursive: true });
writeFileSync(
  config,
  [
    `zones: ${zones}`,
    `max-changes: ${MAX}`,
    'api:',
    '  listen: 127.0.0.1:0',
    '  tokens:',
    `    - { name: operator, token: ${TOKEN}, access: write }`,
    '',
  ].join('\n'),
);

let server: Gslbd;
let base = '';
beforeAll(async () => {
  server = await startGslbd(['--config', config, '--tsig-key', keyFlag(key)]);
  base = `http://127.0.0.1:${(await server.waitForLog((l) => l.msg === 'api listening')).port as number}`;
}, 30_000);
afterAll(async () => {
  await server?.stop();
  rmSync(zones, { recursive: true, force: true });
});

async function post(url: string, body: unknown, method = 'POST'): Promise<{ status: number; body: any }> {
  const res = await fetch(base + url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const addTargets = (from: number, n: number) => ({
  changes: Array.from({ length: n }, (_, i) => ({
    op: 'add-target',
    zone: ZONE,
    pool: 'www',
    address: `198.51.100.${from + i}`,
  })),
});
const targets = async () => (await dig(server.port, [`www.${ZONE}`, 'A'])).answer.length;

describe('the most changes one request may make', () => {
  it('answers 413 ERR_TOO_LARGE to a batch over the cap, and changes nothing', async () => {
    const r = await post('/v1/batch', addTargets(10, MAX + 1));
    expect(r.status).toBe(413);
    expect(r.body.error).toEqual({
      code: 'ERR_TOO_LARGE',
      field: 'changes',
      message: `${MAX + 1} changes in one request; at most ${MAX} (--max-changes): split it into several requests`,
    });
    expect(await targets()).toBe(2);
  });

  it('counts the records of an RRset written whole', async () => {
    const records = Array.from({ length: MAX + 1 }, (_, i) => `"${i}"`);
    const r = await post(`/v1/zones/${ZONE}/rrsets/many/TXT`, { ttl: 60, records }, 'PUT');
    expect([r.status, r.body.error.code]).toEqual([413, 'ERR_TOO_LARGE']);
    expect((await dig(server.port, [`many.${ZONE}`, 'TXT'])).status).toBe('NXDOMAIN');
  });

  it('applies a batch of exactly the cap', async () => {
    expect((await post('/v1/batch', addTargets(10, MAX))).status).toBe(200);
    expect(await targets()).toBe(MAX + 2);
  });

  it('refuses an UPDATE over the cap, saying why in the log, and takes one at the cap', async () => {
    const adds = (n: number) => Array.from({ length: n }, (_, i) => `update add big.${ZONE} 60 TXT "${i}"`);
    expect(await nsupdate(server.port, ZONE, adds(MAX + 1), { key })).toEqual({
      code: 2,
      out: 'update failed: REFUSED',
    });
    const line = await server.waitForLog((l) => l.msg === 'update refused');
    expect(line.reason).toBe(`${MAX + 1} changes in one update; at most ${MAX} (--max-changes)`);
    expect((await dig(server.port, [`big.${ZONE}`, 'TXT'])).status).toBe('NXDOMAIN');
    expect(await nsupdate(server.port, ZONE, adds(MAX), { key })).toEqual({ code: 0, out: '' });
    expect((await dig(server.port, [`big.${ZONE}`, 'TXT'])).answer).toHaveLength(MAX);
  });

  it('refuses an UPDATE with more prerequisites than the cap, and compares a whole RRset at the cap', async () => {
    const change = `update add checked.${ZONE} 60 TXT "done"`;
    const absent = Array.from({ length: MAX + 1 }, (_, i) => `prereq nxdomain absent${i}.${ZONE}`);
    expect(await nsupdate(server.port, ZONE, [...absent, change], { key })).toEqual({
      code: 2,
      out: 'update failed: REFUSED',
    });
    const line = await server.waitForLog(
      (l) => l.msg === 'update refused' && String(l.reason).includes('prerequisites'),
    );
    expect(line.reason).toBe(`${MAX + 1} prerequisites in one update; at most ${MAX} (--max-changes)`);
    expect((await dig(server.port, [`checked.${ZONE}`, 'TXT'])).status).toBe('NXDOMAIN');
    // RFC 2136 §3.2.3: the RRset big holds "0" .. "MAX-1" (the test before); named whole, in
    // another order, it matches; with one record different it does not.
    const whole = (last: string) =>
      Array.from({ length: MAX }, (_, i) => `prereq yxrrset big.${ZONE} TXT "${i === 0 ? last : MAX - 1 - i}"`);
    expect(await nsupdate(server.port, ZONE, [...whole('other'), change], { key })).toEqual({
      code: 2,
      out: 'update failed: NXRRSET',
    });
    expect(await nsupdate(server.port, ZONE, [...whole(String(MAX - 1)), change], { key })).toEqual({
      code: 0,
      out: '',
    });
    expect((await dig(server.port, [`checked.${ZONE}`, 'TXT'])).answer.map((a) => a.data)).toEqual(['"done"']);
  });
});
