// POST /v1/batch: many changes, one changeset, all or nothing.

import { describe, expect, it } from 'vitest';
import { snapshot, startHarness, targetUrl, ZONE } from './helpers.ts';
import { forTests } from '../helpers/fixture.ts';

const h = forTests(
  () => startHarness(),
  (it) => it.stop(),
);

const WEB = `web.${ZONE}`;
const serial = async () => (await h.call('GET', `/v1/zones/${ZONE}`)).body.serial as number;
const batch = (changes: unknown[]) => h.call('POST', '/v1/batch', { body: { changes } });
const t = (target: string, pool = 'web') => ({ zone: 'api.example.net', pool, target });

describe('a batch that passes', () => {
  it('applies every kind of change as one journaled changeset with one serial bump, visible at once', async () => {
    const s0 = await serial();
    const journalBefore = h.journal().split('\n').filter(Boolean).length;
    const r = await batch([
      { op: 'add-target', zone: ZONE, pool: 'web', address: '198.51.100.5', weight: 4 },
      { op: 'set-weight', ...t('198.51.100.5'), weight: 6 },
      { op: 'add-target', zone: ZONE, pool: 'dc', address: '198.51.100.12', group: 'ams' },
      { op: 'set-load', ...t('198.51.100.1'), load: 5, capacity: 10, valid_for: 30 },
      { op: 'set-health', ...t('198.51.100.2'), state: 'down', reason: 'batch' },
      { op: 'set-override', ...t('198.51.100.3'), state: 'drain', reason: 'batch', valid_for: 600 },
      { op: 'remove-target', ...t('2001:db8::1') },
      { op: 'add-target', zone: ZONE, pool: 'web', address: '2001:db8::9' },
      { op: 'put-rrset', zone: ZONE, name: 'batch', type: 'TXT', ttl: 60, records: ['"one"'] },
      { op: 'put-rrset', zone: ZONE, name: 'www', type: 'A', ttl: 60, records: ['192.0.2.82'] },
      { op: 'delete-rrset', zone: ZONE, name: 'txt', type: 'TXT' },
    ]);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      applied: 11,
      changes: expect.any(Number),
      seq: expect.any(Number),
      zones: [{ zone: ZONE, serial: s0 + 1 }],
    });
    expect(h.journal().split('\n').filter(Boolean).length).toBe(journalBefore + 1);
    expect(h.lastChangeset().seq).toBe(r.body.seq);

    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.5']);
    expect(await h.answers(WEB, 'AAAA')).toEqual(['2001:db8::9']);
    expect(await h.answers(`dc.${ZONE}`)).toEqual(['198.51.100.11', '198.51.100.12']);
    expect(await h.answers(`batch.${ZONE}`, 'TXT')).toEqual(['"one"']);
    expect(await h.answers(`www.${ZONE}`)).toEqual(['192.0.2.82']);
    expect(await h.answers(`txt.${ZONE}`, 'TXT')).toEqual([]);
    const five = (await h.call('GET', targetUrl('web', '198.51.100.5'))).body;
    expect(five.weight).toEqual({ configured: 4, current: 6 });
    expect((await h.call('GET', targetUrl('web', '198.51.100.1'))).body.load).toMatchObject({ load: 5, capacity: 10 });
  });

  it('clears what it set, in order', async () => {
    const r = await batch([
      { op: 'clear-weight', ...t('198.51.100.5') },
      { op: 'clear-load', ...t('198.51.100.1') },
      { op: 'clear-health', ...t('198.51.100.2') },
      { op: 'clear-override', ...t('198.51.100.3') },
    ]);
    expect(r.status).toBe(200);
    expect(await h.answers(WEB)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.5']);
  });

  it('may empty a pool and refill it within the batch, which never leaves it without a target', async () => {
    const r = await batch([
      { op: 'remove-target', ...t('198.51.100.31', 'solo') },
      { op: 'add-target', zone: ZONE, pool: 'solo', address: '198.51.100.32' },
    ]);
    expect(r.status).toBe(200);
    expect(await h.answers(`solo.${ZONE}`)).toEqual(['198.51.100.32']);
  });

  it('a target added and removed again within the batch is no change at all', async () => {
    const s0 = await serial();
    const r = await batch([
      { op: 'add-target', zone: ZONE, pool: 'web', address: '198.51.100.77' },
      { op: 'remove-target', ...t('198.51.100.77') },
    ]);
    expect(r.body).toMatchObject({ applied: 2, changes: 0, seq: null });
    expect(await serial()).toBe(s0);
  });
});

describe('a batch that fails', () => {
  const cases: [string, unknown, number, string, string][] = [
    [
      'the third change names a target the pool does not have',
      [
        { op: 'set-weight', ...t('198.51.100.1'), weight: 9 },
        { op: 'put-rrset', zone: ZONE, name: 'never', type: 'TXT', ttl: 60, records: ['"x"'] },
        { op: 'set-weight', ...t('192.0.2.250'), weight: 9 },
      ],
      404,
      'changes[2].target',
      'changes[2]: 192.0.2.250 is not a target of pool web.api.example.net.',
    ],
    [
      'the second change has a weight out of range',
      [
        { op: 'set-weight', ...t('198.51.100.1'), weight: 9 },
        { op: 'set-weight', ...t('198.51.100.2'), weight: 500 },
      ],
      400,
      'changes[1].weight',
      'changes[1].weight: must be <= 100',
    ],
    [
      'a change has an unknown field',
      [{ op: 'clear-weight', ...t('198.51.100.1'), weight: 1 }],
      400,
      'changes[0].weight',
      'changes[0].weight: unknown field',
    ],
    [
      'a change misses a field',
      [{ op: 'set-override', zone: ZONE, pool: 'web', state: 'down' }],
      400,
      'changes[0].target',
      'changes[0].target: is required',
    ],
    [
      'an unknown operation',
      [{ op: 'rename-pool', zone: ZONE }],
      400,
      'changes[0].op',
      'changes[0].op: must name a known operation (see the API README)',
    ],
    [
      'a bad address',
      [{ op: 'add-target', zone: ZONE, pool: 'web', address: '198.51.100.256' }],
      400,
      'changes[0].address',
      'changes[0].address: "198.51.100.256" is not an IPv4 or IPv6 address',
    ],
    [
      'bad RDATA',
      [{ op: 'put-rrset', zone: ZONE, name: 'x', type: 'A', ttl: 60, records: ['nope'] }],
      400,
      'changes[0].records[0]',
      'changes[0].records[0]: A: "nope" is not a dotted-quad IPv4 address',
    ],
    [
      'a TTL out of range',
      [{ op: 'put-rrset', zone: ZONE, name: 'x', type: 'A', ttl: 1e10, records: ['192.0.2.1'] }],
      400,
      'changes[0].ttl',
      'changes[0].ttl: must be <= 2147483647',
    ],
    [
      'a CNAME conflict',
      [
        { op: 'put-rrset', zone: ZONE, name: 'x', type: 'TXT', ttl: 60, records: ['"x"'] },
        { op: 'put-rrset', zone: ZONE, name: 'x', type: 'CNAME', ttl: 60, records: ['www'] },
      ],
      409,
      'changes[1]',
      'changes[1]: x.api.example.net.: CNAME and other data cannot share a name (RFC 2181 §10.1)',
    ],
    [
      'a pool left without targets',
      [{ op: 'remove-target', ...t('198.51.100.32', 'solo') }],
      409,
      'changes[0].target',
      'changes[0]: pool solo.api.example.net. would have no target left (add one first)',
    ],
    [
      'a stale version',
      [{ op: 'set-weight', ...t('198.51.100.1'), weight: 1, if_match: 'stale' }],
      409,
      'changes[0].if_match',
      '',
    ],
  ];
  it.each(cases)(
    '%s: answers %i naming %s, and nothing of it is applied',
    async (_what, changes, status, field, message) => {
      const before = await snapshot(h);
      const r = await batch(changes as unknown[]);
      expect(r.status).toBe(status);
      expect(r.body.error.field).toBe(field);
      if (message) expect(r.body.error.message).toBe(message);
      expect(await snapshot(h)).toEqual(before);
    },
  );

  it('refuses an empty batch and a body without changes', async () => {
    expect((await batch([])).body.error).toEqual({
      code: 'ERR_VALIDATION',
      message: 'changes: must NOT have fewer than 1 items',
      field: 'changes',
    });
    expect((await h.call('POST', '/v1/batch', { body: {} })).body.error.field).toBe('changes');
  });
});
