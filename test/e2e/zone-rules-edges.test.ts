// The zone rules (2-zone/rules.ts) where a change reaches further than the name it writes: a name
// server's address that a delegation elsewhere in the zone needs, a wildcard that answers for a
// name server, a name that comes into existence above one, a DNAME over names the same change
// removes, a second DNAME, a zone served beside its child. A real gslbd (API on a loopback port,
// a TSIG key this test makes), real `nsupdate`, real HTTP and real `dig`, and a restart and a
// SIGHUP on the same data directory: what was accepted must load and serve again.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { nsupdate, type Run } from '../helpers/nsupdate.ts';
import { startRulesServer, type RulesServer } from '../helpers/rules-server.ts';
import { makeKey } from '../update/helpers.ts';

const ZONE = 'edges.example.net.';
const PARENT = 'dyn.example.net.';
const key = makeKey('edges-key.', 'hmac-sha256', [ZONE, PARENT]);

let server: RulesServer;
// dyn.example.net. (test/fixtures/update) is served beside its child zone child.dyn.example.net.
beforeAll(async () => {
  server = await startRulesServer(['edges', 'update'], key);
}, 30_000);
afterAll(() => server?.stop());

const fq = (label: string) => `${label}.${ZONE}`;

const api = (method: string, url: string, body?: unknown) => server.api(method, url, body);

const update = (lines: string[], zone = ZONE): Promise<Run> => nsupdate(server.port, zone, lines, { key });
const refused: Run = { code: 2, out: 'update failed: REFUSED' };
const ok: Run = { code: 0, out: '' };

/** Status and sorted answer data. */
async function look(name: string, type: string): Promise<[string, ...string[]]> {
  const r = await dig(server.port, [name, type]);
  return [r.status, ...r.answer.map((a) => `${a.type} ${a.data}`).sort()];
}

/** The referral for a name below `cut`: its NS targets and the glue addresses sent with them. */
async function referral(cut: string): Promise<string[]> {
  const r = await dig(server.port, [fq(`x.${cut}`), 'A']);
  return [...r.authority.map((a) => `${a.type} ${a.data}`), ...r.additional.map((a) => `${a.type} ${a.data}`)];
}

describe('a name server a delegation elsewhere in the zone needs keeps its address', () => {
  it('refuses to delete the address of a name server outside the delegation it serves (sibling glue)', async () => {
    expect(await update([`update delete ${fq('host')} A`])).toEqual(refused);
    expect(await update([`update delete ${fq('host')}`])).toEqual(refused);
    const r = await api('DELETE', `/v1/zones/${ZONE}/rrsets/host/A`);
    expect([r.status, r.body.error.message]).toEqual([409, expect.stringContaining('host.edges.example.net.')]);
    expect(await look(fq('host'), 'A')).toEqual(['NOERROR', 'A 192.0.2.9']);
    // Moving the address is fine: the name server still has one.
    expect(await update([`update delete ${fq('host')} A`, `update add ${fq('host')} 300 A 192.0.2.10`])).toEqual(ok);
    expect(await referral('sib')).toEqual([`NS ${fq('host')}`, 'A 192.0.2.10']);
  });

  it('refuses to delete, in a later update, the address of a name server a delegation added at run time names', async () => {
    expect(
      await update([`update add ${fq('late')} 300 NS ${fq('nslate')}`, `update add ${fq('nslate')} 300 A 192.0.2.12`]),
    ).toEqual(ok);
    expect(await update([`update delete ${fq('nslate')} A`])).toEqual(refused);
    expect((await api('DELETE', `/v1/zones/${ZONE}/rrsets/nslate/A`)).status).toBe(409);
    expect(await referral('late')).toEqual([`NS ${fq('nslate')}`, 'A 192.0.2.12']);
  });

  it('takes the removal of a delegation together with the address of its name server', async () => {
    expect(await update([`update delete ${fq('nsl')} A`])).toEqual(refused);
    expect(await update([`update delete ${fq('leave')} NS`, `update delete ${fq('nsl')} A`])).toEqual(ok);
    expect((await dig(server.port, [fq('x.leave'), 'A'])).status).toBe('NXDOMAIN');
  });

  it('refuses to delete the wildcard that answers for a name server (RFC 4592 §3.3.1)', async () => {
    expect(await update([`update delete *.${fq('w')} A`])).toEqual(refused);
    expect((await api('DELETE', `/v1/zones/${ZONE}/rrsets/*.w/A`)).status).toBe(409);
    expect(await look(fq('ns.w'), 'A')).toEqual(['NOERROR', 'A 192.0.2.7']);
  });

  it('refuses a name below a name server answered from a wildcard: the name server would exist without an address', async () => {
    expect(await update([`update add ${fq('x.ns.w')} 300 TXT "below"`])).toEqual(refused);
    expect((await api('PUT', `/v1/zones/${ZONE}/rrsets/x.ns.w/TXT`, { ttl: 300, records: ['"below"'] })).status).toBe(
      409,
    );
    expect(await look(fq('ns.w'), 'A')).toEqual(['NOERROR', 'A 192.0.2.7']);
  });
});

describe('a name server answered from a wildcard keeps its answer', () => {
  it('refuses a name that would become the closest encloser of a name server answered from a wildcard above it', async () => {
    // a.b.w2 is answered from *.w2 while b.w2 does not exist (RFC 4592 §3.3.1).
    expect(await update([`update add ${fq('x.b.w2')} 300 TXT "between"`])).toEqual(refused);
    expect(await update([`update add *.${fq('b.w2')} 300 TXT "closer"`])).toEqual(refused);
    expect((await api('PUT', `/v1/zones/${ZONE}/rrsets/x.b.w2/TXT`, { ttl: 300, records: ['"between"'] })).status).toBe(
      409,
    );
    expect(await look(fq('a.b.w2'), 'A')).toEqual(['NOERROR', 'A 192.0.2.8']);
    // A closer wildcard with an address answers in its place.
    expect(await update([`update add *.${fq('b.w2')} 300 A 192.0.2.18`])).toEqual(ok);
    expect(await look(fq('a.b.w2'), 'A')).toEqual(['NOERROR', 'A 192.0.2.18']);
  });
});

describe('DNAME', () => {
  it('takes a DNAME at a name whose children the same UPDATE removes (RFC 6672 §2.3 holds afterwards)', async () => {
    expect(
      await update([`update delete ${fq('c.gone')} TXT`, `update add ${fq('gone')} 300 DNAME new.example.org.`]),
    ).toEqual(ok);
    expect(await look(fq('x.gone'), 'A')).toEqual(['NOERROR', 'CNAME x.new.example.org.', 'DNAME new.example.org.']);
  });

  it('takes a DNAME at a name whose children the same API batch removes', async () => {
    const r = await api('POST', '/v1/batch', {
      changes: [
        { op: 'delete-rrset', zone: ZONE, name: 'c.gone2', type: 'TXT' },
        { op: 'put-rrset', zone: ZONE, name: 'gone2', type: 'DNAME', ttl: 300, records: ['new.example.org.'] },
      ],
    });
    expect(r.status).toBe(200);
    expect(await look(fq('x.gone2'), 'A')).toEqual(['NOERROR', 'CNAME x.new.example.org.', 'DNAME new.example.org.']);
  });

  it('keeps one DNAME at a name: a second added by UPDATE replaces the first, as for a CNAME (RFC 6672 §2.4)', async () => {
    expect(await update([`update add ${fq('d2')} 300 DNAME a.example.org.`])).toEqual(ok);
    expect(await update([`update add ${fq('d2')} 300 DNAME b.example.org.`])).toEqual(ok);
    expect(
      await update([
        `update add ${fq('d3')} 300 DNAME a.example.org.`,
        `update add ${fq('d3')} 300 DNAME b.example.org.`,
      ]),
    ).toEqual(ok);
    expect(await look(fq('d2'), 'DNAME')).toEqual(['NOERROR', 'DNAME b.example.org.']);
    expect(await look(fq('d3'), 'DNAME')).toEqual(['NOERROR', 'DNAME b.example.org.']);
  });
});

describe('a pool below a name', () => {
  it('is not hidden by a delegation or a DNAME above it, nor turned into one', async () => {
    expect(await update([`update add ${fq('deep')} 300 NS ns1.example.org.`])).toEqual(refused);
    expect(await update([`update add ${fq('a.deep')} 300 NS ns1.example.org.`])).toEqual(refused);
    const r = await api('PUT', `/v1/zones/${ZONE}/rrsets/deep/DNAME`, { ttl: 300, records: ['new.example.org.'] });
    expect([r.status, r.body.error.message]).toEqual([
      409,
      `a DNAME at ${fq('deep')} would hide the pool ${fq('a.deep')}`,
    ]);
    expect(await look(fq('a.deep'), 'A')).toEqual(['NOERROR', 'A 198.51.100.9']);
  });
});

describe('a zone served beside its child zone', () => {
  it('refuses an API write to a name of the child zone, as UPDATE answers NOTZONE (it would never be served)', async () => {
    const r = await api('PUT', `/v1/zones/${PARENT}/rrsets/x.child/TXT`, { ttl: 60, records: ['"hidden"'] });
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, 'ERR_VALIDATION', 'name']);
    expect(await update([`update add x.child.${PARENT} 60 TXT "hidden"`], PARENT)).toEqual({
      code: 2,
      out: 'update failed: NOTZONE',
    });
    expect((await api('GET', `/v1/zones/${PARENT}/rrsets/x.child/TXT`)).status).toBe(404);
    expect((await api('PUT', `/v1/zones/${PARENT}/rrsets/child/TXT`, { ttl: 60, records: ['"hidden"'] })).status).toBe(
      400,
    );
  });

  it('takes the DS of the child zone in the parent, where it is answered from (RFC 4035 §3.1.4.1)', async () => {
    const ds = `12345 13 2 ${'ab'.repeat(32)}`;
    expect((await api('PUT', `/v1/zones/${PARENT}/rrsets/child/DS`, { ttl: 60, records: [ds] })).status).toBe(201);
    const r = await dig(server.port, [`child.${PARENT}`, 'DS']);
    // dig writes the digest in upper case, in groups.
    expect([r.status, ...r.answer.map((a) => a.data.replace(/\s/g, '').toLowerCase())]).toEqual([
      'NOERROR',
      ds.replace(/\s/g, ''),
    ]);
  });
});

describe('what was accepted loads again', () => {
  it('serves the same after a restart and a SIGHUP (the journal replayed over the zone files)', async () => {
    const expected = async () => {
      expect(await referral('sib')).toEqual([`NS ${fq('host')}`, 'A 192.0.2.10']);
      expect(await look(fq('x.gone'), 'A')).toEqual(['NOERROR', 'CNAME x.new.example.org.', 'DNAME new.example.org.']);
      expect(await look(fq('x.gone2'), 'A')).toEqual(['NOERROR', 'CNAME x.new.example.org.', 'DNAME new.example.org.']);
      expect(await look(fq('d2'), 'DNAME')).toEqual(['NOERROR', 'DNAME b.example.org.']);
      expect(await look(fq('ns.w'), 'A')).toEqual(['NOERROR', 'A 192.0.2.7']);
    };
    await expected();
    await server.restart();
    await expected();
    await server.reload();
    await expected();
  });
});
