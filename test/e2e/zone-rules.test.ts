// The zone rules the loader, the HTTP API and RFC 2136 UPDATE share, end to end: a real gslbd
// (API on a loopback port, a TSIG key this test makes), real `nsupdate` and real HTTP for the
// changes, real `dig` for what is served, and a restart and a SIGHUP on the same data directory.
//
// Whatever way a change comes in, a zone must stay one the loader would accept: no data below a
// delegation or a DNAME, no NS at a pool name, glue for in-bailiwick name servers, a pool keeps a
// target, and a pool name is a name as long as its pool exists.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { nsupdate, type Run } from '../helpers/nsupdate.ts';
import { startRulesServer, type RulesServer } from '../helpers/rules-server.ts';
import { makeKey } from '../update/helpers.ts';

const ZONE = 'rules.example.net.';
const key = makeKey('rules-key.', 'hmac-sha256', [ZONE]);

let server: RulesServer;
beforeAll(async () => {
  server = await startRulesServer(['rules'], key);
}, 30_000);
afterAll(() => server?.stop());

const fq = (label: string) => `${label}.${ZONE}`;

const api = (method: string, url: string, body?: unknown) => server.api(method, url, body);

const update = (lines: string[], tcp = false): Promise<Run> => nsupdate(server.port, ZONE, lines, { key, tcp });
const refused: Run = { code: 2, out: 'update failed: REFUSED' };
const ok: Run = { code: 0, out: '' };

/** Status and sorted answer data. */
async function look(name: string, type: string): Promise<[string, ...string[]]> {
  const r = await dig(server.port, [name, type]);
  return [r.status, ...r.answer.map((a) => `${a.type} ${a.data}`).sort()];
}

const POOL = ['NOERROR', 'A 198.51.100.1', 'A 198.51.100.2'];

describe('a pool name stays a name while its pool exists', () => {
  it('answers from the pool after a TXT put there with the API is deleted again, also after a restart and a SIGHUP', async () => {
    expect(
      (await api('PUT', `/v1/zones/${ZONE}/rrsets/www/TXT`, { ttl: 60, records: ['"owner=external-dns"'] })).status,
    ).toBe(201);
    expect(await look(fq('www'), 'TXT')).toEqual(['NOERROR', 'TXT "owner=external-dns"']);
    expect((await api('DELETE', `/v1/zones/${ZONE}/rrsets/www/TXT`)).status).toBe(200);
    expect(await look(fq('www'), 'A')).toEqual(POOL);
    expect((await dig(server.port, [fq('www'), 'TXT'])).status).toBe('NOERROR');
    expect((await api('GET', `/v1/zones/${ZONE}/pools/www`)).status).toBe(200);

    await server.restart();
    expect(await look(fq('www'), 'A')).toEqual(POOL);
    await server.reload();
    expect(await look(fq('www'), 'A')).toEqual(POOL);
  });

  it('answers from the pool after a TXT added there by UPDATE is deleted again', async () => {
    expect(await update([`update add ${fq('www')} 60 TXT "owner=external-dns"`])).toEqual(ok);
    expect(await update([`update delete ${fq('www')} TXT`])).toEqual(ok);
    expect(await look(fq('www'), 'A')).toEqual(POOL);
  });
});

describe('UPDATE is held to the rules the API and the loader enforce', () => {
  it('refuses data below a delegation (the API answers 409)', async () => {
    expect(await update([`update add ${fq('x.sub')} 300 TXT "hidden"`])).toEqual(refused);
    expect((await api('PUT', `/v1/zones/${ZONE}/rrsets/x.sub/TXT`, { ttl: 300, records: ['"hidden"'] })).status).toBe(
      409,
    );
    // Glue below the delegation is allowed.
    expect(await update([`update add ${fq('ns2.sub')} 300 A 192.0.2.61`])).toEqual(ok);
  });

  it('refuses an NS at a pool name, which would turn the pool into a referral', async () => {
    expect(await update([`update add ${fq('www')} 300 NS ${fq('ns1')}`])).toEqual(refused);
    expect((await api('PUT', `/v1/zones/${ZONE}/rrsets/www/NS`, { ttl: 300, records: [fq('ns1')] })).status).toBe(409);
    const r = await dig(server.port, [fq('www'), 'A']);
    expect(r.flags).toContain('aa');
    expect(r.answer.map((a) => a.data).sort()).toEqual(['198.51.100.1', '198.51.100.2']);
  });

  it('refuses a delegation to an in-bailiwick name server without glue, and takes it with glue', async () => {
    expect(await update([`update add ${fq('new')} 300 NS ns.${fq('new')}`])).toEqual(refused);
    expect(
      (await api('PUT', `/v1/zones/${ZONE}/rrsets/new/NS`, { ttl: 300, records: [`ns.${fq('new')}`] })).status,
    ).toBe(409);
    expect((await dig(server.port, [fq('x.new'), 'A'])).status).toBe('NXDOMAIN');
    expect(
      await update([`update add ${fq('new')} 300 NS ns.${fq('new')}`, `update add ns.${fq('new')} 300 A 192.0.2.70`]),
    ).toEqual(ok);
    expect((await dig(server.port, [fq('x.new'), 'A'])).authority.map((a) => a.data)).toEqual([`ns.${fq('new')}`]);
  });

  it('refuses to remove the glue a delegation needs', async () => {
    expect(await update([`update delete ${fq('ns.sub')} A`])).toEqual(refused);
    expect((await api('DELETE', `/v1/zones/${ZONE}/rrsets/ns.sub/A`)).status).toBe(409);
    expect(await look(fq('ns.sub'), 'A')).toEqual(['NOERROR']); // below the cut: a referral, glue kept
    expect((await dig(server.port, [fq('sub'), 'NS'])).additional.map((a) => a.data)).toContain('192.0.2.60');
  });

  it('refuses to delete every address of a pool (the API refuses to remove its last target)', async () => {
    expect(await update([`update delete ${fq('www')} A`])).toEqual(refused);
    expect(
      await update([`update delete ${fq('www')} A 198.51.100.1`, `update delete ${fq('www')} A 198.51.100.2`]),
    ).toEqual(refused);
    expect(await look(fq('www'), 'A')).toEqual(POOL);
  });

  it('refuses data below a DNAME, through UPDATE and the API (RFC 6672 §2.3)', async () => {
    expect(await update([`update add ${fq('x.old')} 300 TXT "hidden"`])).toEqual(refused);
    expect((await api('PUT', `/v1/zones/${ZONE}/rrsets/x.old/TXT`, { ttl: 300, records: ['"hidden"'] })).status).toBe(
      409,
    );
    // A DNAME above names that exist is refused too: they could never be answered again.
    expect(await update([`update add ${fq('static')} 300 DNAME new.example.org.`])).toEqual(ok);
    expect(await update([`update add x.${fq('static')} 300 TXT "below"`])).toEqual(refused);
    expect(await update([`update add ${fq('sub')} 300 DNAME new.example.org.`])).toEqual(refused);
  });

  it('refuses an RRset too large for any DNS message (RFC 1035 §4.2.2), through UPDATE and the API', async () => {
    const text = `"${'x'.repeat(250)}`;
    const records = Array.from({ length: 300 }, (_, i) => `${text}${i}"`);
    const r = await api('PUT', `/v1/zones/${ZONE}/rrsets/big/TXT`, { ttl: 300, records });
    expect([r.status, r.body.error.message]).toEqual([409, expect.stringContaining('65535')]);
    expect((await dig(server.port, [fq('big'), 'TXT'])).status).toBe('NXDOMAIN');
    // 200 such records fit (about 52 KB) and are answered whole over TCP; 100 more would not.
    // (One UPDATE message cannot carry 300 of them: it is itself a DNS message.)
    const add = (rs: string[]) =>
      update(
        rs.map((x) => `update add ${fq('big')} 300 TXT ${x}`),
        true,
      );
    expect(await add(records.slice(0, 200))).toEqual(ok);
    expect(await add(records.slice(200))).toEqual(refused);
    expect((await dig(server.port, [fq('big'), 'TXT', '+tcp'])).answer).toHaveLength(200);
  });

  it('logs why an update was refused', async () => {
    await update([`update add ${fq('y.old')} 300 TXT "hidden"`]);
    const line = await server.gslbd.waitForLog(
      (l) => typeof l.reason === 'string' && (l.reason as string).includes('y.old'),
    );
    expect(line.reason).toMatch(/DNAME/);
  });
});
