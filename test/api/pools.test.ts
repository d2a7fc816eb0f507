// Adding and removing pool targets: each bumps the zone's serial, is journaled, and reaches
// answers at once.

import { describe, expect, it } from 'vitest';
import { snapshot, startHarness, targetUrl, ZONE } from './helpers.ts';
import { forTests } from '../helpers/fixture.ts';

const h = forTests(
  () => startHarness(),
  (it) => it.stop(),
);

const WEB = `web.${ZONE}`;
const targets = (pool: string) => `/v1/zones/${ZONE}/pools/${pool}/targets`;
const serial = async () => (await h.call('GET', `/v1/zones/${ZONE}`)).body.serial as number;

describe('adding a target', () => {
  it('adds an IPv4 target with its settings, bumps the serial, and answers with it at once', async () => {
    const s0 = await serial();
    const r = await h.call('POST', targets('web'), {
      body: {
        address: '198.51.100.4',
        weight: 7,
        location: { lat: 52.4, lon: 4.9 },
        priority: 2,
        regions: ['eu', 'default'],
      },
    });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe(`/v1/zones/${encodeURIComponent(ZONE)}/pools/web/targets/198.51.100.4`);
    expect(r.headers.etag).toBe(`"${r.body.version}"`);
    expect(r.body).toMatchObject({
      id: `${WEB}/198.51.100.4`,
      address: '198.51.100.4',
      weight: { configured: 7, current: 7 },
      state: 'up',
      location: { lat: 52.4, lon: 4.9 },
      priority: 2,
      regions: ['EU', 'default'],
    });
    expect(await serial()).toBe(s0 + 1);
    expect(h.lastChangeset().changes[0]).toEqual({
      kind: 'target',
      pool: WEB,
      address: '198.51.100.4',
      target: { weight: 7, location: { lat: 52.4, lon: 4.9 }, priority: 2, regions: ['EU', 'default'] },
    });
    expect(h.lastChangeset().changes[1]).toMatchObject({ kind: 'rrset', zone: ZONE, name: ZONE, type: 6 });
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']);
    expect((await h.call('GET', `/v1/zones/${ZONE}/pools/web`)).body.targets).toHaveLength(5);
  });

  it('adds an IPv6 target however it is written', async () => {
    const r = await h.call('POST', targets('web'), { body: { address: '2001:DB8:0::0:2' } });
    expect(r.status).toBe(201);
    expect(r.body.address).toBe('2001:db8::2');
    expect(r.body.weight).toEqual({ configured: 1, current: 1 });
    expect(await h.answers(WEB, 'AAAA')).toEqual(['2001:db8::1', '2001:db8::2']);
  });

  it('places a target of a grouped pool in the group named', async () => {
    const r = await h.call('POST', targets('dc'), { body: { address: '198.51.100.22', group: 'nyc' } });
    expect(r.status).toBe(201);
    expect(r.body.group).toBe('nyc');
    // Failover: ams (priority 1) answers while it is up; drained, nyc answers with the new target.
    expect(await h.answers(`dc.${ZONE}`)).toEqual(['198.51.100.11']);
    await h.call('PUT', targetUrl('dc', '198.51.100.11', 'override'), { body: { state: 'drain' } });
    expect(await h.answers(`dc.${ZONE}`)).toEqual(['198.51.100.21', '198.51.100.22']);
    await h.call('DELETE', targetUrl('dc', '198.51.100.11', 'override'));
  });

  it.each([
    [
      'web',
      { address: '198.51.100.1' },
      409,
      'ERR_CONFLICT',
      'address',
      '198.51.100.1 is already a target of pool web.api.example.net.',
    ],
    [
      'web',
      { address: '198.51.100' },
      400,
      'ERR_VALIDATION',
      'address',
      'address: "198.51.100" is not an IPv4 or IPv6 address',
    ],
    [
      'web',
      { address: 'www.example.com' },
      400,
      'ERR_VALIDATION',
      'address',
      'address: "www.example.com" is not an IPv4 or IPv6 address',
    ],
    ['web', { weight: 1 }, 400, 'ERR_VALIDATION', 'address', 'address: is required'],
    ['web', { address: '198.51.100.9', weight: 1000 }, 400, 'ERR_VALIDATION', 'weight', 'weight: must be <= 100'],
    [
      'web',
      { address: '198.51.100.9', location: { lat: 91, lon: 0 } },
      400,
      'ERR_VALIDATION',
      'location.lat',
      'location.lat: must be <= 90',
    ],
    [
      'web',
      { address: '198.51.100.9', location: { lat: 1 } },
      400,
      'ERR_VALIDATION',
      'location.lon',
      'location.lon: is required',
    ],
    [
      'web',
      { address: '198.51.100.9', regions: ['Europe'] },
      400,
      'ERR_VALIDATION',
      'regions[0]',
      'regions[0]: must match pattern "^([A-Za-z]{2}|default)$"',
    ],
    ['web', { address: '198.51.100.9', group: 'ams' }, 400, 'ERR_VALIDATION', 'group', 'group: pool web has no groups'],
    ['web', { address: '198.51.100.9', port: 80 }, 400, 'ERR_VALIDATION', 'port', 'port: unknown field'],
    [
      'dc',
      { address: '198.51.100.9' },
      400,
      'ERR_VALIDATION',
      'group',
      'group: pool dc has groups: name one of ams, nyc',
    ],
    [
      'dc',
      { address: '198.51.100.9', group: 'sfo' },
      400,
      'ERR_VALIDATION',
      'group',
      'group: "sfo" is not a group of pool dc (ams, nyc)',
    ],
    [
      'nopool',
      { address: '198.51.100.9' },
      404,
      'ERR_NOT_FOUND',
      'pool',
      'nopool.api.example.net. is not a pool of zone api.example.net.',
    ],
  ])(
    'POST to %s %j answers %i, naming the field, and changes nothing',
    async (pool, body, status, code, field, message) => {
      const before = await snapshot(h);
      const r = await h.call('POST', targets(pool), { body });
      expect(r.status).toBe(status);
      expect(r.body).toEqual({ error: { code, message, field } });
      expect(await snapshot(h)).toEqual(before);
    },
  );
});

describe('removing a target', () => {
  it('removes a target, bumps the serial, and stops answering with it at once', async () => {
    const s0 = await serial();
    const r = await h.call('DELETE', targetUrl('web', '198.51.100.4'));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: WEB, targets: 5 });
    expect(r.headers.etag).toBe(`"${r.body.version}"`);
    expect(await serial()).toBe(s0 + 1);
    expect(h.lastChangeset().changes[0]).toEqual({ kind: 'target', pool: WEB, address: '198.51.100.4', target: null });
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    expect((await h.call('GET', targetUrl('web', '198.51.100.4'))).status).toBe(404);
  });

  it('removes a target of the pools file; what was said about it goes with it', async () => {
    await h.call('PUT', targetUrl('web', '198.51.100.3', 'override'), { body: { state: 'down', reason: 'retired' } });
    await h.call('PUT', targetUrl('web', '198.51.100.3', 'weight'), { body: { weight: 9 } });
    expect((await h.call('DELETE', targetUrl('web', '198.51.100.3'))).status).toBe(200);
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.2']);
    const back = await h.call('POST', targets('web'), { body: { address: '198.51.100.3' } });
    expect(back.body).toMatchObject({ state: 'up', override: null, weight: { configured: 1, current: 1 } });
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
  });

  it('refuses to remove the last target of a pool (409), changing nothing', async () => {
    const before = await snapshot(h);
    const r = await h.call('DELETE', targetUrl('solo', '198.51.100.31'));
    expect(r.status).toBe(409);
    expect(r.body.error).toEqual({
      code: 'ERR_CONFLICT',
      message: 'pool solo.api.example.net. would have no target left (add one first)',
      field: 'target',
    });
    expect(await snapshot(h)).toEqual(before);
  });

  it('answers 404 for a target the pool does not have, changing nothing', async () => {
    const before = await snapshot(h);
    const r = await h.call('DELETE', targetUrl('web', '198.51.100.99'));
    expect(r.status).toBe(404);
    expect(r.body.error.field).toBe('target');
    expect(await snapshot(h)).toEqual(before);
  });
});
