// Optimistic concurrency: every object has a version, sent as ETag; a write with If-Match naming
// a version that is no longer current is refused with 409 (not 412: the issue asks for 409), and
// changes nothing. Two writers holding the same ETag: exactly one wins.

import { describe, expect, it } from 'vitest';
import { snapshot, startHarness, targetUrl, ZONE } from './helpers.ts';
import { forTests } from '../helpers/fixture.ts';

const h = forTests(
  () => startHarness(),
  (it) => it.stop(),
);

const etagOf = async (url: string) => (await h.call('GET', url)).headers.etag as string;
const rrset = (name: string, type: string) => `/v1/zones/${ZONE}/rrsets/${name}/${type}`;

describe('versions', () => {
  it('a write with the current ETag passes and returns the new one; the old one is then refused', async () => {
    const url = targetUrl('web', '198.51.100.1');
    const v1 = await etagOf(url);
    const ok = await h.call('PUT', `${url}/weight`, { body: { weight: 5 }, headers: { 'if-match': v1 } });
    expect(ok.status).toBe(200);
    const v2 = ok.headers.etag as string;
    expect(v2).not.toBe(v1);
    expect(await etagOf(url)).toBe(v2);

    const before = await snapshot(h);
    const stale = await h.call('PUT', `${url}/weight`, { body: { weight: 6 }, headers: { 'if-match': v1 } });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toEqual({
      code: 'ERR_VERSION',
      field: 'if_match',
      message: `target 198.51.100.1 changed since you read it: its version is now ${v2} (If-Match: ${v1})`,
    });
    expect(await snapshot(h)).toEqual(before);
  });

  it('two writers with the same ETag: one wins, the other gets 409 and its change is not applied', async () => {
    const url = targetUrl('web', '198.51.100.2');
    const tag = await etagOf(url);
    const [a, b] = await Promise.all([
      h.call('PUT', `${url}/override`, { body: { state: 'drain', reason: 'writer a' }, headers: { 'if-match': tag } }),
      h.call('PUT', `${url}/override`, { body: { state: 'down', reason: 'writer b' }, headers: { 'if-match': tag } }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const winner = a.status === 200 ? 'writer a' : 'writer b';
    const loser = a.status === 200 ? b : a;
    expect(loser.body.error.code).toBe('ERR_VERSION');
    expect((await h.call('GET', url)).body.override.reason).toBe(winner);
    await h.call('DELETE', `${url}/override`);
  });

  it('two writers replacing the same RRset with the same ETag: one wins', async () => {
    const tag = await etagOf(rrset('www', 'A'));
    const put = (address: string) =>
      h.call('PUT', rrset('www', 'A'), { body: { ttl: 60, records: [address] }, headers: { 'if-match': tag } });
    const [a, b] = await Promise.all([put('192.0.2.91'), put('192.0.2.92')]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const won = a.status === 200 ? '192.0.2.91' : '192.0.2.92';
    expect(await h.answers(`www.${ZONE}`)).toEqual([won]);
  });

  it('two writers adding to the same pool with its ETag: one wins', async () => {
    const pool = `/v1/zones/${ZONE}/pools/web`;
    const tag = await etagOf(pool);
    const add = (address: string) =>
      h.call('POST', `${pool}/targets`, { body: { address }, headers: { 'if-match': tag } });
    const [a, b] = await Promise.all([add('198.51.100.6'), add('198.51.100.7')]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect((await h.call('GET', pool)).body.targets).toHaveLength(5);
  });

  it("a pool's version follows its membership, not its targets' live state", async () => {
    const pool = `/v1/zones/${ZONE}/pools/web`;
    const tag = await etagOf(pool);
    await h.call('PUT', targetUrl('web', '198.51.100.1', 'load'), { body: { load: 1, capacity: 2, valid_for: 60 } });
    expect(await etagOf(pool)).toBe(tag);
    await h.call('DELETE', targetUrl('web', '198.51.100.6'));
    await h.call('DELETE', targetUrl('web', '198.51.100.7'));
    expect(await etagOf(pool)).not.toBe(tag);
  });

  it("a zone's version is its serial, which each change to its data bumps", async () => {
    const zone = `/v1/zones/${ZONE}`;
    const before = (await h.call('GET', zone)).body.serial as number;
    expect(await etagOf(zone)).toBe(`"${before}"`);
    await h.call('PUT', rrset('v', 'TXT'), { body: { ttl: 60, records: ['"v"'] } });
    expect(await etagOf(zone)).toBe(`"${before + 1}"`);
  });

  it('If-Match: * needs the object to exist; If-None-Match: * needs it not to', async () => {
    const missing = await h.call('PUT', rrset('fresh', 'TXT'), {
      body: { ttl: 60, records: ['"x"'] },
      headers: { 'if-match': '*' },
    });
    expect(missing.status).toBe(409);
    expect(missing.body.error.message).toMatch(/it does not exist/);
    const created = await h.call('PUT', rrset('fresh', 'TXT'), {
      body: { ttl: 60, records: ['"x"'] },
      headers: { 'if-none-match': '*' },
    });
    expect(created.status).toBe(201);
    const again = await h.call('PUT', rrset('fresh', 'TXT'), {
      body: { ttl: 60, records: ['"y"'] },
      headers: { 'if-none-match': '*' },
    });
    expect(again.status).toBe(409);
    const any = await h.call('PUT', rrset('fresh', 'TXT'), {
      body: { ttl: 60, records: ['"z"'] },
      headers: { 'if-match': '*' },
    });
    expect(any.status).toBe(200);
  });

  it('a list of ETags matches any of them; a weak ETag never matches (RFC 9110 §13.1.1)', async () => {
    const url = rrset('fresh', 'TXT');
    const tag = await etagOf(url);
    expect((await h.call('DELETE', url, { headers: { 'if-match': `W/${tag}` } })).status).toBe(409);
    expect((await h.call('DELETE', url, { headers: { 'if-match': `"other", ${tag}` } })).status).toBe(200);
  });
});
