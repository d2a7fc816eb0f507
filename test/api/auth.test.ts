// Bearer tokens (401, 403) and the errors fastify itself raises (413, 415, bad JSON), each as our
// JSON error body; a refused request changes nothing, and no token ever reaches the log.

import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/8-api/server.ts';
import { READ, startHarness, targetUrl, TOKENS, WRITE, ZONE, type Harness } from './helpers.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ bodyLimit: 64 * 1024 });
});
afterAll(async () => {
  await h?.stop();
});

const WRITES: [string, string, unknown?][] = [
  ['PUT', '/v1/zones/api.example.net/rrsets/new/TXT', { ttl: 60, records: ['"x"'] }],
  ['DELETE', '/v1/zones/api.example.net/rrsets/txt/TXT'],
  ['POST', '/v1/zones/api.example.net/pools/web/targets', { address: '198.51.100.9' }],
  ['DELETE', targetUrl('web', '198.51.100.3')],
  ['PUT', targetUrl('web', '198.51.100.1', 'weight'), { weight: 5 }],
  ['DELETE', targetUrl('web', '198.51.100.1', 'weight')],
  ['PUT', targetUrl('web', '198.51.100.1', 'load'), { load: 1, capacity: 2, valid_for: 60 }],
  ['DELETE', targetUrl('web', '198.51.100.1', 'load')],
  ['PUT', targetUrl('web', '198.51.100.1', 'health'), { state: 'down', reason: 'x' }],
  ['DELETE', targetUrl('web', '198.51.100.1', 'health')],
  ['PUT', targetUrl('web', '198.51.100.1', 'override'), { state: 'drain' }],
  ['DELETE', targetUrl('web', '198.51.100.1', 'override')],
  ['POST', '/v1/batch', { changes: [{ op: 'clear-weight', zone: ZONE, pool: 'web', target: '198.51.100.1' }] }],
];

describe('tokens', () => {
  it('answers 401 with a JSON body and WWW-Authenticate when there is no token', async () => {
    const r = await h.call('GET', '/v1/zones', { token: null });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Bearer realm="gslbd"');
    expect(r.body).toEqual({
      error: { code: 'ERR_UNAUTHORIZED', message: 'an Authorization: Bearer <token> header is required' },
    });
  });

  it('answers 401 for an unknown token and for a header that is not a bearer token', async () => {
    const unknown = await h.call('GET', '/v1/zones', { token: 'not-a-token-we-know-0000' });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toEqual({ code: 'ERR_UNAUTHORIZED', message: 'unknown token' });
    const basic = await h.call('GET', '/v1/zones', {
      token: null,
      headers: { authorization: `Basic ${Buffer.from(`u:${WRITE}`).toString('base64')}` },
    });
    expect(basic.status).toBe(401);
  });

  it('lets a read token read everything', async () => {
    for (const url of [
      '/v1/zones',
      '/v1/zones/api.example.net',
      '/v1/zones/api.example.net/pools',
      '/v1/zones/api.example.net/pools/web',
      targetUrl('web', '198.51.100.1'),
      '/v1/zones/api.example.net/rrsets/www/A',
    ]) {
      expect((await h.call('GET', url, { token: READ })).status, url).toBe(200);
    }
  });

  it('answers 403 to a read token on every write endpoint, and 401 without a token; nothing changes', async () => {
    const before = h.journal();
    for (const [method, url, body] of WRITES) {
      const r = await h.call(method, url, { token: READ, ...(body !== undefined && { body }) });
      expect(r.status, `${method} ${url}`).toBe(403);
      expect(r.body.error).toEqual({ code: 'ERR_FORBIDDEN', message: 'token "viewer" may only read' });
      const anon = await h.call(method, url, { token: null, ...(body !== undefined && { body }) });
      expect(anon.status, `${method} ${url}`).toBe(401);
    }
    expect(h.journal()).toBe(before);
    expect((await h.call('GET', '/v1/zones/api.example.net')).body.serial).toBe(2024060101);
  });

  it('accepts the same requests with a write token', async () => {
    for (const [method, url, body] of WRITES) {
      const r = await h.call(method, url, body === undefined ? {} : { body });
      expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    }
  });
});

describe('request errors', () => {
  it('answers 413 to a body over the limit, and changes nothing', async () => {
    const before = h.journal();
    const records = Array.from({ length: 5000 }, (_, i) => `"record ${i} ${'x'.repeat(20)}"`);
    const r = await h.call('PUT', '/v1/zones/api.example.net/rrsets/big/TXT', { body: { ttl: 60, records } });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('ERR_TOO_LARGE');
    expect(h.journal()).toBe(before);
    expect((await h.call('GET', '/v1/zones/api.example.net/rrsets/big/TXT')).status).toBe(404);
  });

  it('answers 400 to a body that is not JSON, 415 to one that is not declared JSON', async () => {
    const bad = await h.call('PUT', targetUrl('web', '198.51.100.1', 'weight'), { body: '{"weight": 5' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ERR_BAD_JSON');
    const text = await h.call('PUT', targetUrl('web', '198.51.100.1', 'weight'), {
      body: 'weight=5',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('ERR_MEDIA_TYPE');
    const none = await h.call('PUT', targetUrl('web', '198.51.100.1', 'weight'));
    expect(none.status).toBe(400);
    expect(none.body.error.code).toBe('ERR_VALIDATION');
  });
});

describe('logging', () => {
  it('logs each change with method, path, status and token name, never the token', async () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += String(chunk);
        done();
      },
    });
    const app = buildApi(h.service, { tokens: TOKENS, log: pino({ level: 'debug' }, sink) });
    await app.inject({
      method: 'PUT',
      url: targetUrl('web', '198.51.100.2', 'weight'),
      headers: { authorization: `Bearer ${WRITE}` },
      payload: { weight: 3 },
    });
    await app.inject({
      method: 'PUT',
      url: targetUrl('web', '198.51.100.2', 'weight'),
      headers: { authorization: `Bearer ${READ}` },
      payload: { weight: 4 },
    });
    await app.close();
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => [l.api.method, l.api.status, l.api.token])).toEqual([
      ['PUT', 200, 'ops'],
      ['PUT', 403, null],
    ]);
    expect(out).not.toContain(WRITE);
    expect(out).not.toContain(READ);
  });
});
