// Static RRsets: create, replace and delete with RDATA in presentation form. Each change bumps the
// serial and reaches answers at once; what the zone data does not allow is 409, bad input 400.

import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { snapshot, startHarness, ZONE } from './helpers.ts';
import { forTests } from '../helpers/fixture.ts';

const h = forTests(
  () => startHarness(),
  (it) => it.stop(),
);

const rrset = (name: string, type: string) => `/v1/zones/${ZONE}/rrsets/${name}/${type}`;
const serial = async () => (await h.call('GET', `/v1/zones/${ZONE}`)).body.serial as number;

describe('creating, replacing and deleting', () => {
  it('creates an RRset (201), bumps the serial, and answers with it at once', async () => {
    const s0 = await serial();
    const r = await h.call('PUT', rrset('new', 'TXT'), {
      body: { ttl: 120, records: ['"hello world"', 'two words', '"hello world"'] },
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      name: `new.${ZONE}`,
      type: 'TXT',
      ttl: 120,
      records: ['"hello world"', '"two" "words"'],
      version: r.body.version,
      serial: s0 + 1,
    });
    expect(r.headers.etag).toBe(`"${r.body.version}"`);
    expect(await h.answers(`new.${ZONE}`, 'TXT')).toEqual(['"hello world"', '"two" "words"']);
    expect(h.lastChangeset().changes.map((c) => [c.kind, c.name, c.type])).toEqual([
      ['rrset', `new.${ZONE}`, 16],
      ['rrset', ZONE, 6],
    ]);
    const soa = await dig(h.service.listeners[0]!.port, [ZONE, 'SOA']);
    expect(soa.answer[0]!.data).toContain(` ${s0 + 1} `);
  });

  it('replaces an RRset whole (200), completing relative names with the zone origin', async () => {
    const r = await h.call('PUT', rrset('mail', 'MX'), {
      body: { ttl: 600, records: ['20 mx2', '10 mx1.api.example.net.'] },
    });
    expect(r.status).toBe(200);
    expect(r.body.records).toEqual(['20 mx2.api.example.net.', '10 mx1.api.example.net.']);
    expect(await h.answers(`mail.${ZONE}`, 'MX')).toEqual(['10 mx1.api.example.net.', '20 mx2.api.example.net.']);
  });

  it('accepts the RFC 3597 generic form and unknown types, and shows UTF-8 text as the zone file bytes', async () => {
    const a = await h.call('PUT', rrset('generic', 'A'), { body: { ttl: 60, records: ['\\# 4 C0000201'] } });
    expect(a.body.records).toEqual(['192.0.2.1']);
    const unknown = await h.call('PUT', rrset('generic', 'TYPE65280'), {
      body: { ttl: 60, records: ['\\# 3 abcdef'] },
    });
    expect(unknown.body).toMatchObject({ type: 'TYPE65280', records: ['\\# 3 abcdef'] });
    const utf8 = await h.call('PUT', rrset('generic', 'TXT'), { body: { ttl: 60, records: ['"café"'] } });
    expect(utf8.body.records).toEqual(['"caf\\195\\169"']);
    expect(await h.answers(`generic.${ZONE}`, 'TXT')).toEqual(['"caf\\195\\169"']);
  });

  it('adds glue below a delegation', async () => {
    const r = await h.call('PUT', rrset('ns2.sub', 'A'), { body: { ttl: 3600, records: ['192.0.2.55'] } });
    expect(r.status).toBe(201);
  });

  it('replaces the SOA when its serial is newer', async () => {
    const s0 = await serial();
    const r = await h.call('PUT', rrset('@', 'SOA'), {
      body: { ttl: 3600, records: [`ns1 hostmaster ${s0 + 10} 1h 15m 2w 60`] },
    });
    expect(r.status).toBe(200);
    expect(r.body.records).toEqual([`ns1.api.example.net. hostmaster.api.example.net. ${s0 + 10} 3600 900 1209600 60`]);
    expect(await serial()).toBe(s0 + 10);
  });

  it('deletes an RRset, bumps the serial, and the name is gone from answers at once', async () => {
    const s0 = await serial();
    const r = await h.call('DELETE', rrset('new', 'TXT'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ zone: ZONE, serial: s0 + 1, version: String(s0 + 1) });
    const d = await dig(h.service.listeners[0]!.port, [`new.${ZONE}`, 'TXT']);
    expect(d.status).toBe('NXDOMAIN');
    expect((await h.call('GET', rrset('new', 'TXT'))).status).toBe(404);
  });
});

describe('refused', () => {
  const cases: [string, string, string, unknown, number, string, string | undefined, string][] = [
    [
      'TTL above 2^31-1',
      'PUT',
      rrset('x', 'TXT'),
      { ttl: 2147483648, records: ['"x"'] },
      400,
      'ERR_VALIDATION',
      'ttl',
      'ttl: must be <= 2147483647',
    ],
    [
      'negative TTL',
      'PUT',
      rrset('x', 'TXT'),
      { ttl: -1, records: ['"x"'] },
      400,
      'ERR_VALIDATION',
      'ttl',
      'ttl: must be >= 0',
    ],
    [
      'no records',
      'PUT',
      rrset('x', 'TXT'),
      { ttl: 60, records: [] },
      400,
      'ERR_VALIDATION',
      'records',
      'records: must NOT have fewer than 1 items',
    ],
    [
      'records not a list',
      'PUT',
      rrset('x', 'TXT'),
      { ttl: 60, records: '"x"' },
      400,
      'ERR_VALIDATION',
      'records',
      'records: must be array',
    ],
    [
      'an unknown field',
      'PUT',
      rrset('x', 'TXT'),
      { ttl: 60, records: ['"x"'], class: 'IN' },
      400,
      'ERR_VALIDATION',
      'class',
      'class: unknown field',
    ],
    [
      'a bad address',
      'PUT',
      rrset('x', 'A'),
      { ttl: 60, records: ['192.0.2.1', '192.0.2.300'] },
      400,
      'ERR_VALIDATION',
      'records[1]',
      'records[1]: A: "192.0.2.300" is not a dotted-quad IPv4 address',
    ],
    [
      'a bad IPv6 address',
      'PUT',
      rrset('x', 'AAAA'),
      { ttl: 60, records: ['2001:db8::g'] },
      400,
      'ERR_VALIDATION',
      'records[0]',
      'records[0]: AAAA: "2001:db8::g" is not an IPv6 address',
    ],
    [
      'two records in one string',
      'PUT',
      rrset('x', 'A'),
      { ttl: 60, records: ['192.0.2.1\n192.0.2.2'] },
      400,
      'ERR_VALIDATION',
      'records[0]',
      'records[0]: one record per string (a line break starts another)',
    ],
    [
      'an MX without exchange',
      'PUT',
      rrset('x', 'MX'),
      { ttl: 60, records: ['10'] },
      400,
      'ERR_VALIDATION',
      'records[0]',
      'records[0]: MX: missing exchange',
    ],
    [
      'an unknown type',
      'PUT',
      rrset('x', 'FOO'),
      { ttl: 60, records: ['x'] },
      400,
      'ERR_VALIDATION',
      'type',
      'type: unknown type "FOO" (a mnemonic such as TXT, or TYPEnnn)',
    ],
    [
      'a meta-type',
      'PUT',
      rrset('x', 'ANY'),
      { ttl: 60, records: ['x'] },
      400,
      'ERR_VALIDATION',
      'type',
      'type: ANY is a meta-type: it cannot be stored in a zone (RFC 6895 §3.1)',
    ],
    [
      'a name outside the zone',
      'PUT',
      rrset('www.example.com.', 'TXT'),
      { ttl: 60, records: ['"x"'] },
      400,
      'ERR_VALIDATION',
      'name',
      'name: www.example.com. is outside zone api.example.net.',
    ],
    [
      'two CNAME records',
      'PUT',
      rrset('alias', 'CNAME'),
      { ttl: 60, records: ['a', 'b'] },
      400,
      'ERR_VALIDATION',
      'records',
      'records: a CNAME RRset holds exactly one record (RFC 2181 §10.1)',
    ],
    [
      'a CNAME beside other data',
      'PUT',
      rrset('www', 'CNAME'),
      { ttl: 60, records: ['mail'] },
      409,
      'ERR_CONFLICT',
      undefined,
      'www.api.example.net.: CNAME and other data cannot share a name (RFC 2181 §10.1)',
    ],
    [
      'data beside a CNAME',
      'PUT',
      rrset('alias', 'TXT'),
      { ttl: 60, records: ['"x"'] },
      409,
      'ERR_CONFLICT',
      undefined,
      'alias.api.example.net.: CNAME and other data cannot share a name (RFC 2181 §10.1)',
    ],
    [
      'a CNAME at a pool',
      'PUT',
      rrset('web', 'CNAME'),
      { ttl: 60, records: ['www'] },
      409,
      'ERR_CONFLICT',
      undefined,
      'web.api.example.net.: CNAME and other data cannot share a name (RFC 2181 §10.1)',
    ],
    [
      'an address at a pool',
      'PUT',
      rrset('web', 'A'),
      { ttl: 60, records: ['192.0.2.9'] },
      409,
      'ERR_CONFLICT',
      'name',
      "web.api.example.net. is a pool: its addresses are its targets (use the pool's targets endpoints)",
    ],
    [
      'data below a delegation',
      'PUT',
      rrset('x.sub', 'TXT'),
      { ttl: 60, records: ['"x"'] },
      409,
      'ERR_CONFLICT',
      'name',
      'x.sub.api.example.net. is at or below the delegation sub.api.example.net.: only NS, DS and glue addresses belong there',
    ],
    [
      'an older SOA serial',
      'PUT',
      rrset('@', 'SOA'),
      { ttl: 60, records: ['ns1 hostmaster 1 1h 15m 2w 60'] },
      409,
      'ERR_CONFLICT',
      'records[0]',
      '',
    ],
    [
      'an SOA away from the apex',
      'PUT',
      rrset('www', 'SOA'),
      { ttl: 60, records: ['ns1 hostmaster 4000000000 1h 15m 2w 60'] },
      409,
      'ERR_CONFLICT',
      'name',
      'an SOA record belongs at the zone apex only',
    ],
    [
      'deleting the apex NS',
      'DELETE',
      rrset('@', 'NS'),
      undefined,
      409,
      'ERR_CONFLICT',
      undefined,
      'the zone apex keeps at least one NS record',
    ],
    [
      'deleting the SOA',
      'DELETE',
      rrset('@', 'SOA'),
      undefined,
      409,
      'ERR_CONFLICT',
      undefined,
      'the SOA RRset holds exactly one record',
    ],
    [
      'deleting what is not there',
      'DELETE',
      rrset('www', 'TXT'),
      undefined,
      404,
      'ERR_NOT_FOUND',
      'name',
      'zone api.example.net. has no RRset www.api.example.net. TXT',
    ],
    [
      'a zone not served',
      'PUT',
      '/v1/zones/example.org/rrsets/x/TXT',
      { ttl: 60, records: ['"x"'] },
      404,
      'ERR_NOT_FOUND',
      'zone',
      'zone example.org. is not served here',
    ],
  ];
  it.each(cases)(
    '%s: %s answers %i and changes nothing',
    async (_what, method, url, body, status, code, field, message) => {
      const before = await snapshot(h);
      const r = await h.call(method, url, body === undefined ? {} : { body });
      expect(r.status).toBe(status);
      expect(r.body.error).toMatchObject({ code, ...(field !== undefined && { field }) });
      if (field === undefined) expect(r.body.error.field).toBeUndefined();
      if (message) expect(r.body.error.message).toBe(message);
      expect(await snapshot(h)).toEqual(before);
    },
  );
});
