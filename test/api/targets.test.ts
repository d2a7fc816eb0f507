// Per-target changes: weight, load report, health report, override. Each is journaled before the
// 200, shows in the target at once, and reaches DNS answers at once (dig right after the reply).
// Bad input gets a 400 naming the field and changes nothing.

import { describe, expect, it } from 'vitest';
import { snapshot, startHarness, targetUrl, ZONE } from './helpers.ts';
import { forTests } from '../helpers/fixture.ts';

const h = forTests(
  () => startHarness(),
  (it) => it.stop(),
);

const WEB = `web.${ZONE}`;
const ALL_V4 = ['198.51.100.1', '198.51.100.2', '198.51.100.3'];
const url = (aspect: string, address = '198.51.100.2') => targetUrl('web', address, aspect);

describe('weight', () => {
  it('sets a weight (0 drains the target from answers at once) and clears it back to the configured one', async () => {
    const r = await h.call('PUT', url('weight'), { body: { weight: 0 } });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe(`"${r.body.version}"`);
    expect(r.body).toMatchObject({
      address: '198.51.100.2',
      weight: { configured: 1, current: 0 },
      state: 'drain',
      because: 'weight',
    });
    expect(h.lastChangeset()).toMatchObject({
      source: 'api:ops',
      changes: [{ kind: 'weight', target: `${WEB}/198.51.100.2`, weight: 0 }],
    });
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.3']);

    const cleared = await h.call('DELETE', url('weight'));
    expect(cleared.status).toBe(200);
    expect(cleared.body).toMatchObject({ weight: { configured: 1, current: 1 }, state: 'up' });
    expect(await h.answers(WEB)).toEqual(ALL_V4);
  });

  it('sets a weight other than the configured one', async () => {
    const r = await h.call('PUT', url('weight', '198.51.100.1'), { body: { weight: 100 } });
    expect(r.body.weight).toEqual({ configured: 2, current: 100 });
    await h.call('DELETE', url('weight', '198.51.100.1'));
  });

  it.each([
    [{ weight: 101 }, 'weight', 'weight: must be <= 100'],
    [{ weight: -1 }, 'weight', 'weight: must be >= 0'],
    [{ weight: 2.5 }, 'weight', 'weight: must be integer'],
    [{ weight: '5' }, 'weight', 'weight: must be integer'],
    [{}, 'weight', 'weight: is required'],
    [{ weight: 5, extra: true }, 'extra', 'extra: unknown field'],
  ])('refuses %j with a 400 naming the field, changing nothing', async (body, field, message) => {
    const before = await snapshot(h);
    const r = await h.call('PUT', url('weight'), { body });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: { code: 'ERR_VALIDATION', message, field } });
    expect(await snapshot(h)).toEqual(before);
  });
});

describe('load report', () => {
  it('records load and capacity valid for a while, and clears them', async () => {
    const t0 = Date.now();
    const r = await h.call('PUT', url('load'), { body: { load: 30, capacity: 100, valid_for: 60 } });
    expect(r.status).toBe(200);
    expect(r.body.load).toMatchObject({ load: 30, capacity: 100 });
    const expires = Date.parse(r.body.load.expires_at) - Date.parse(r.body.load.reported_at);
    expect(expires).toBe(60_000);
    expect(Date.parse(r.body.load.reported_at)).toBeGreaterThanOrEqual(t0 - 1);
    expect(h.lastChangeset().changes).toEqual([
      { kind: 'load', target: `${WEB}/198.51.100.2`, load: 30, capacity: 100, validMs: 60_000 },
    ]);

    const cleared = await h.call('DELETE', url('load'));
    expect(cleared.status).toBe(200);
    expect(cleared.body.load).toBeNull();
  });

  it.each([
    [{ load: 1, capacity: 0, valid_for: 60 }, 'capacity', 'capacity: must be > 0'],
    [{ load: -1, capacity: 10, valid_for: 60 }, 'load', 'load: must be >= 0'],
    [{ load: 1, capacity: 10 }, 'valid_for', 'valid_for: is required'],
    [{ load: 1, capacity: 10, valid_for: 0 }, 'valid_for', 'valid_for: must be > 0'],
  ])('refuses %j with a 400 naming the field, changing nothing', async (body, field, message) => {
    const before = await snapshot(h);
    const r = await h.call('PUT', url('load'), { body });
    expect(r.body).toEqual({ error: { code: 'ERR_VALIDATION', message, field } });
    expect(await snapshot(h)).toEqual(before);
  });
});

describe('health report', () => {
  it('a monitor reporting down takes the target out of answers at once; clearing it brings it back', async () => {
    const r = await h.call('PUT', url('health'), { body: { state: 'down', reason: 'disk full' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'down', because: 'monitor', reason: 'disk full', weight: { current: 0 } });
    expect(r.body.report).toEqual({
      state: 'down',
      reason: 'disk full',
      reported_at: expect.any(String),
      expires_at: null,
    });
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.3']);

    const cleared = await h.call('DELETE', url('health'));
    expect(cleared.body).toMatchObject({ state: 'up', report: null });
    expect(await h.answers(WEB)).toEqual(ALL_V4);
  });

  it('a report with valid_for expires by itself', async () => {
    const r = await h.call('PUT', url('health'), { body: { state: 'down', reason: 'blip', valid_for: 0.3 } });
    expect(r.body.state).toBe('down');
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.3']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await h.answers(WEB)).toEqual(ALL_V4);
    expect((await h.call('GET', url(''))).body).toMatchObject({ state: 'up', report: null });
  });

  it.each([
    [{ state: 'sideways', reason: 'x' }, 'state', 'state: must be one of up, down'],
    [{ state: 'down' }, 'reason', 'reason: is required'],
    [{ state: 'down', reason: 'x', valid_for: 'soon' }, 'valid_for', 'valid_for: must be number'],
  ])('refuses %j with a 400 naming the field, changing nothing', async (body, field, message) => {
    const before = await snapshot(h);
    const r = await h.call('PUT', url('health'), { body });
    expect(r.body).toEqual({ error: { code: 'ERR_VALIDATION', message, field } });
    expect(await snapshot(h)).toEqual(before);
  });
});

describe('override', () => {
  it('drain takes the target out of answers at once, and says why', async () => {
    const r = await h.call('PUT', url('override'), { body: { state: 'drain', reason: 'maintenance' } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      state: 'drain',
      because: 'override',
      reason: 'maintenance',
      weight: { configured: 1, current: 0 },
    });
    expect(r.body.override).toMatchObject({ state: 'drain', reason: 'maintenance', expires_at: null });
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.3']);
    await h.call('DELETE', url('override'));
    expect(await h.answers(WEB)).toEqual(ALL_V4);
  });

  it('up wins over a monitor saying down, until the override is cleared', async () => {
    await h.call('PUT', url('health', '198.51.100.3'), { body: { state: 'down', reason: 'monitor says so' } });
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.2']);
    const r = await h.call('PUT', url('override', '198.51.100.3'), { body: { state: 'up' } });
    expect(r.body).toMatchObject({ state: 'up', because: 'override', override: { state: 'up', reason: '' } });
    expect(await h.answers(WEB)).toEqual(ALL_V4);
    await h.call('DELETE', url('override', '198.51.100.3'));
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.2']);
    await h.call('DELETE', url('health', '198.51.100.3'));
  });

  it('down with valid_for expires by itself', async () => {
    const r = await h.call('PUT', url('override', '198.51.100.1'), {
      body: { state: 'down', reason: 'reboot', valid_for: 0.3 },
    });
    expect(r.body).toMatchObject({ state: 'down', because: 'override' });
    expect(Date.parse(r.body.override.expires_at) - Date.parse(r.body.override.set_at)).toBe(300);
    expect(await h.answers(WEB)).toEqual(['198.51.100.2', '198.51.100.3']);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await h.answers(WEB)).toEqual(ALL_V4);
  });

  it('refuses an unknown state with a 400 naming the field, changing nothing', async () => {
    const before = await snapshot(h);
    const r = await h.call('PUT', url('override'), { body: { state: 'off' } });
    expect(r.body).toEqual({
      error: { code: 'ERR_VALIDATION', message: 'state: must be one of up, down, drain', field: 'state' },
    });
    expect(await snapshot(h)).toEqual(before);
  });
});

describe('targets that are not there', () => {
  it.each([
    ['/v1/zones/nowhere.example/pools/web/targets/198.51.100.1/weight', 404, 'zone'],
    [`/v1/zones/${ZONE}/pools/nopool/targets/198.51.100.1/weight`, 404, 'pool'],
    [url('weight', '192.0.2.200'), 404, 'target'],
    [url('weight', '300.1.2.3'), 400, 'target'],
  ])('PUT %s answers %i naming %s, changing nothing', async (path, status, field) => {
    const before = await snapshot(h);
    const r = await h.call('PUT', path, { body: { weight: 1 } });
    expect(r.status).toBe(status);
    expect(r.body.error.field).toBe(field);
    expect(await snapshot(h)).toEqual(before);
  });
});
