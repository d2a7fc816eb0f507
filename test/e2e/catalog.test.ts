// The catalog zone as gslbd serves it, over real sockets: queries and AXFR answer its RFC 9432
// content, a zone joins once its file loads, a restart with the same members keeps its serial (the
// data directory), and a change by UPDATE (real nsupdate, a key allowed every zone) or the HTTP API
// is refused, not kept and never served: the catalog is only what gslbd makes it.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { until } from '../helpers/listeners.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { serialNewer } from '../../src/0-base/serial.ts';
import { digTransfer } from '../helpers/axfr.ts';
import { dig } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { nsupdate } from '../helpers/nsupdate.ts';
import { makeKey } from '../update/helpers.ts';

const CATALOG = 'catalog.gslb.invalid.';
const TOKEN = 'catalog-write-token-0123456789';
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-catalog-e2e-'));
const zones = path.join(work, 'zones');
const data = path.join(work, 'data');
const config = path.join(work, 'gslbd.yaml');
/** May update every zone (no `zones:`). */
const key = makeKey('catalog-any.', 'hmac-sha256');

let server: Gslbd;
let base = '';

async function start(): Promise<void> {
  server = await startGslbd(['--config', config, '--data', data]);
  base = `http://127.0.0.1:${(await server.waitForLog((l) => l.msg === 'api listening')).port as number}`;
}

/** gslbd.yaml: the catalog, and a transfer for example.com., gslb.example.com. and `more`. */
function writeConfig(more: readonly string[] = []): void {
  writeFileSync(
    config,
    [
      `zones: ${zones}`,
      'tsig:',
      `  - { name: ${nameToText(key.name)}, algorithm: ${key.algorithm}, secret: "${key.base64}" }`,
      'api:',
      '  listen: 127.0.0.1:0',
      '  tokens:',
      `    - { name: operator, token: ${TOKEN}, access: write }`,
      'catalog:',
      `  zone: ${CATALOG}`,
      'zones-options:',
      `  ${CATALOG}:`,
      '    transfer: { allow: ["127.0.0.1"] }',
      '  example.com.:',
      '    transfer: { allow: ["127.0.0.1"] }',
      '  gslb.example.com.:',
      '    transfer: { allow: ["127.0.0.1"] }',
      ...more.flatMap((z) => [`  ${z}:`, '    transfer: { allow: ["127.0.0.1"] }']),
      '',
    ].join('\n'),
  );
}

/** SIGHUP, and the reading of zones-options that follows it (its `n`-th since the start). */
async function reload(n: number): Promise<void> {
  let seen = 0;
  const done = server.waitForLog((l) => l.msg === 'config reloaded: zones-options' && ++seen === n, 20_000);
  server.proc.kill('SIGHUP');
  await done;
}

beforeAll(async () => {
  cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
  rmSync(path.join(zones, 'README.md'), { force: true });
  writeConfig();
  await start();
}, 30_000);

afterAll(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

const ptrs = async () =>
  (await digTransfer(server.port, CATALOG)).records
    .filter((l) => l.split(' ')[3] === 'PTR')
    .map((l) => l.split(' ')[4]);
const serial = async () => Number((await dig(server.port, [CATALOG, 'SOA'])).answer[0]!.data.split(' ')[2]);

describe('the catalog zone served by gslbd', () => {
  it('answers queries and AXFR with its content: version "2", one PTR per zone with a transfer', async () => {
    const v = await dig(server.port, [`version.${CATALOG}`, 'TXT']);
    expect(v.status).toBe('NOERROR');
    expect(v.flags).toContain('aa');
    expect(v.answer.map((a) => a.data)).toEqual(['"2"']);
    const xfr = await digTransfer(server.port, CATALOG);
    expect(xfr.ok).toBe(true);
    // 2.0.192.in-addr.arpa. has a file but no transfer: not a member.
    expect((await ptrs()).sort()).toEqual(['example.com.', 'gslb.example.com.']);
  });

  it('refuses an UPDATE of the catalog, signed with a key allowed every zone, and keeps it as it was', async () => {
    const before = await serial();
    const r = await nsupdate(server.port, CATALOG, [`update add x.zones.${CATALOG} 0 PTR evil.test.`], { key });
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/REFUSED/);
    expect(await ptrs()).not.toContain('evil.test.');
    expect(await serial()).toBe(before);
  });

  it('answers 409 ERR_CONFLICT to an API change of the catalog', async () => {
    const res = await fetch(`${base}/v1/zones/${CATALOG}/rrsets/x.zones/PTR`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: 0, records: ['evil.test.'] }),
    });
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('ERR_CONFLICT');
    expect(await ptrs()).not.toContain('evil.test.');
  });

  it('lists a zone only once its file loads, with a new serial each time the list changes', async () => {
    const first = await serial();
    const file = path.join(zones, 'late.test.zone');
    writeFileSync(file, '$TTL 60\n@ IN NS ns1.late.test.\n'); // no SOA: the zone does not load
    writeConfig(['late.test.']);
    await reload(1);
    expect(await ptrs()).not.toContain('late.test.');
    expect(await serial()).toBe(first);
    writeFileSync(file, '$TTL 60\n@ IN SOA ns1 hostmaster 1 2h 15m 2w 30\n@ IN NS ns1\nns1 IN A 192.0.2.1\n');
    await reload(2);
    // The catalog is put in service after the zones-options the reload logs (a loaded machine shows it).
    await until(async () => (await ptrs()).includes('late.test.'), 10_000, 'late.test. in the catalog');
    expect((await ptrs()).sort()).toEqual(['example.com.', 'gslb.example.com.', 'late.test.']);
    expect(serialNewer(await serial(), first)).toBe(true);
  }, 30_000);

  it('keeps its serial across a restart with the same members (the data directory)', async () => {
    const before = await serial();
    await server.stop();
    await start();
    expect(await serial()).toBe(before);
  }, 30_000);
});
