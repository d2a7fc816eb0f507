// Reading through the API: zones, RRsets in presentation form, pools, targets with their state.

import { describe, expect, it } from 'vitest';
import { READ, startHarness, targetUrl, ZONE } from './helpers.ts';
import { forTests } from '../helpers/fixture.ts';

const h = forTests(
  () => startHarness(),
  (it) => it.stop(),
);

describe('zones', () => {
  it('lists the zones served with their serial as version', async () => {
    const r = await h.call('GET', '/v1/zones', { token: READ });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ zones: [{ zone: ZONE, serial: 2024060101, version: '2024060101' }] });
  });

  it('shows one zone with its RRsets in presentation form and its serial as ETag', async () => {
    const r = await h.call('GET', '/v1/zones/api.example.net', { token: READ });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe('"2024060101"');
    expect(r.body.serial).toBe(2024060101);
    expect(r.body.pools).toEqual([
      'web.api.example.net.',
      'dc.api.example.net.',
      'solo.api.example.net.',
      'checked.api.example.net.',
    ]);
    const text = r.body.rrsets.map(
      (s: { name: string; type: string; ttl: number; records: string[] }) =>
        `${s.name} ${s.ttl} ${s.type} ${s.records.join(' | ')}`,
    );
    expect(text).toEqual([
      'api.example.net. 3600 SOA ns1.api.example.net. hostmaster.api.example.net. 2024060101 7200 900 1209600 300',
      'api.example.net. 3600 NS ns1.api.example.net.',
      'ns1.api.example.net. 3600 A 192.0.2.53',
      'www.api.example.net. 3600 A 192.0.2.80 | 192.0.2.81',
      'alias.api.example.net. 3600 CNAME www.api.example.net.',
      'txt.api.example.net. 3600 TXT "hello" "world"',
      'mail.api.example.net. 3600 MX 10 mx1.api.example.net.',
      'mx1.api.example.net. 3600 A 192.0.2.25',
      'sub.api.example.net. 3600 NS ns.sub.api.example.net.',
      'ns.sub.api.example.net. 3600 A 192.0.2.54',
    ]);
    for (const s of r.body.rrsets) expect(s.version).toMatch(/^[\w-]{16}$/);
  });

  it('accepts the zone name with its final dot too', async () => {
    expect((await h.call('GET', `/v1/zones/${ZONE}`)).status).toBe(200);
  });

  it('shows one RRset, relative or absolute owner, with its version as ETag', async () => {
    const rel = await h.call('GET', '/v1/zones/api.example.net/rrsets/mail/MX', { token: READ });
    expect(rel.status).toBe(200);
    expect(rel.body).toMatchObject({
      name: 'mail.api.example.net.',
      type: 'MX',
      ttl: 3600,
      records: ['10 mx1.api.example.net.'],
      serial: 2024060101,
    });
    expect(rel.headers.etag).toBe(`"${rel.body.version}"`);
    const abs = await h.call('GET', '/v1/zones/api.example.net/rrsets/mail.api.example.net./mx');
    expect(abs.body).toEqual(rel.body);
    const apex = await h.call('GET', '/v1/zones/api.example.net/rrsets/@/NS');
    expect(apex.body.records).toEqual(['ns1.api.example.net.']);
  });

  it('answers 404 naming the field for a zone, RRset or endpoint that does not exist', async () => {
    const zone = await h.call('GET', '/v1/zones/nowhere.example');
    expect(zone.status).toBe(404);
    expect(zone.body).toEqual({
      error: { code: 'ERR_NOT_FOUND', message: 'zone nowhere.example. is not served here', field: 'zone' },
    });
    const rrset = await h.call('GET', '/v1/zones/api.example.net/rrsets/mail/TXT');
    expect(rrset.status).toBe(404);
    expect(rrset.body.error).toMatchObject({ code: 'ERR_NOT_FOUND', field: 'name' });
    const endpoint = await h.call('GET', '/v1/nothing');
    expect(endpoint.status).toBe(404);
    expect(endpoint.body.error).toEqual({ code: 'ERR_NOT_FOUND', message: 'no endpoint GET /v1/nothing' });
  });

  it('answers 400 naming the field for a zone name that is not a domain name', async () => {
    const r = await h.call('GET', `/v1/zones/${'a'.repeat(64)}.example`);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'ERR_VALIDATION', field: 'zone' });
  });
});

describe('pools and targets', () => {
  it('lists the pools of a zone with their versions', async () => {
    const r = await h.call('GET', '/v1/zones/api.example.net/pools', { token: READ });
    expect(r.status).toBe(200);
    expect(r.body.zone).toBe(ZONE);
    expect(
      r.body.pools.map((p: { name: string; policy: string; targets: number }) => [p.name, p.policy, p.targets]),
    ).toEqual([
      ['web.api.example.net.', 'round-robin', 4],
      ['dc.api.example.net.', 'failover', 2],
      ['solo.api.example.net.', 'round-robin', 1],
      ['checked.api.example.net.', 'round-robin', 1],
    ]);
  });

  it('shows a pool with each target: address, configured and current weight, state and why', async () => {
    const r = await h.call('GET', '/v1/zones/api.example.net/pools/web', { token: READ });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(`"${r.body.version}"`);
    expect(r.body).toMatchObject({
      zone: ZONE,
      name: 'web.api.example.net.',
      policy: 'round-robin',
      ttl: 30,
      answers: 8,
      fallback: 'all',
      groups: [],
    });
    expect(r.body.targets[0]).toEqual({
      id: 'web.api.example.net./198.51.100.1',
      address: '198.51.100.1',
      weight: { configured: 2, current: 2 },
      state: 'up',
      because: 'default',
      reason: 'no check',
      probe: null,
      load: null,
      report: null,
      override: null,
      version: r.body.targets[0].version,
    });
    expect(r.body.targets.map((t: { address: string }) => t.address)).toEqual([
      '198.51.100.1',
      '198.51.100.2',
      '198.51.100.3',
      '2001:db8::1',
    ]);
  });

  it('shows the groups of a grouped pool and the group of each target', async () => {
    const r = await h.call('GET', '/v1/zones/api.example.net/pools/dc.api.example.net.');
    expect(r.body.groups).toEqual([
      { name: 'ams', policy: 'round-robin' },
      { name: 'nyc', policy: 'round-robin' },
    ]);
    expect(r.body.targets.map((t: { address: string; group: string }) => [t.address, t.group])).toEqual([
      ['198.51.100.11', 'ams'],
      ['198.51.100.21', 'nyc'],
    ]);
  });

  it("shows a probed target's last probe result, and that the probe put it down", async () => {
    let t: any;
    for (let i = 0; i < 60; i++) {
      t = (await h.call('GET', targetUrl('checked', '198.51.100.41'))).body;
      // The probe's result shows at once; the verdict it leads to once it is journaled (durable first).
      if (t.probe?.last && t.probe.state === 'down') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(t.probe).toMatchObject({ state: 'down', last: { ok: false } });
    expect(t.probe.last.reason).toMatch(/ECONNREFUSED/);
    expect(t.probe.last.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(t).toMatchObject({
      state: 'down',
      because: 'probe',
      reason: t.probe.last.reason,
      weight: { configured: 1, current: 0 },
    });
  });

  it('finds an IPv6 target however its address is written', async () => {
    const r = await h.call('GET', targetUrl('web', '2001:DB8:0:0::1'));
    expect(r.status).toBe(200);
    expect(r.body.address).toBe('2001:db8::1');
    expect(r.headers.etag).toBe(`"${r.body.version}"`);
  });

  it('answers 404 for a pool or target that does not exist, 400 for an address that is not one', async () => {
    expect((await h.call('GET', '/v1/zones/api.example.net/pools/www')).body.error).toMatchObject({
      code: 'ERR_NOT_FOUND',
      field: 'pool',
    });
    expect((await h.call('GET', targetUrl('web', '192.0.2.99'))).body.error).toMatchObject({
      code: 'ERR_NOT_FOUND',
      field: 'target',
    });
    const bad = await h.call('GET', targetUrl('web', 'not-an-address'));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toEqual({
      code: 'ERR_VALIDATION',
      message: 'target: "not-an-address" is not an IPv4 or IPv6 address',
      field: 'target',
    });
  });
});
