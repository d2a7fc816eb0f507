// The API over real HTTP: `gslbd serve --config gslbd.yaml` as a process, requests over loopback,
// and the real `dig` confirming each change right after its reply.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { httpExchange } from '../helpers/raw.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { READ, WRITE, ZONE, zonesDir } from './helpers.ts';

let server: Gslbd;
let base: string;
let dir: string;
let zones: string;
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-api-http-data-'));

async function start(): Promise<void> {
  // The file's DNS address cannot be bound here: the --listen flag the helper adds must win.
  server = await startGslbd(['--config', path.join(dir, 'gslbd.yaml'), '--data', dataDir], { GSLBD_API_TOKEN: WRITE });
  const line = await server.waitForLog((l) => l.msg === 'api listening');
  base = `http://127.0.0.1:${line.port as number}`;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-api-http-'));
  zones = await zonesDir();
  writeFileSync(
    path.join(dir, 'gslbd.yaml'),
    [
      `zones: ${zones}`,
      'listen: ["192.0.2.1:53"]',
      'api:',
      '  listen: 127.0.0.1:0',
      '  tokens:',
      '    - { name: monitor, token: "${GSLBD_API_TOKEN}", access: write }',
      `    - { name: dashboard, token: ${READ} }`,
      '',
    ].join('\n'),
  );
  await start();
}, 30_000);
afterAll(async () => {
  await server?.stop();
  for (const d of [dir, zones, dataDir]) if (d) rmSync(d, { recursive: true, force: true });
});

async function api(
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
  token: string | null = WRITE,
) {
  const res = await fetch(base + url, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, etag: res.headers.get('etag'), body: (await res.json()) as any };
}

const answers = async (name: string, type = 'A') =>
  (await dig(server.port, [name, type])).answer.map((rr) => rr.data).sort();

describe('over HTTP', () => {
  it('serves the zones of the config file, with read and write tokens from it', async () => {
    const r = await api('GET', '/v1/zones', undefined, {}, READ);
    expect(r.status).toBe(200);
    expect(r.body.zones.map((z: { zone: string }) => z.zone)).toEqual([ZONE]);
    expect((await api('PUT', `/v1/zones/${ZONE}/rrsets/x/TXT`, { ttl: 1, records: ['"x"'] }, {}, READ)).status).toBe(
      403,
    );
    expect((await api('GET', '/v1/zones', undefined, {}, null)).status).toBe(401);
  });

  it('an RRset created is answered by dig right after the reply', async () => {
    const r = await api('PUT', `/v1/zones/${ZONE}/rrsets/live/A`, { ttl: 60, records: ['192.0.2.77', '192.0.2.78'] });
    expect(r.status).toBe(201);
    expect(await answers(`live.${ZONE}`)).toEqual(['192.0.2.77', '192.0.2.78']);
    const soa = await dig(server.port, [ZONE, 'SOA']);
    expect(soa.answer[0]!.data).toContain(` ${r.body.serial} `);
  });

  it('a drained target disappears from answers right after the reply, and comes back when cleared', async () => {
    const url = `/v1/zones/${ZONE}/pools/web/targets/198.51.100.2/override`;
    expect(await answers(`web.${ZONE}`)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    const r = await api('PUT', url, { state: 'drain', reason: 'maintenance window' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ state: 'drain', because: 'override' });
    expect(await answers(`web.${ZONE}`)).toEqual(['198.51.100.1', '198.51.100.3']);
    expect((await api('DELETE', url)).status).toBe(200);
    expect(await answers(`web.${ZONE}`)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
  });

  it('two clients writing with the same ETag: one gets 200, the other 409', async () => {
    const url = `/v1/zones/${ZONE}/pools/web/targets/198.51.100.1`;
    const tag = (await api('GET', url)).etag!;
    const [a, b] = await Promise.all([
      api('PUT', `${url}/weight`, { weight: 10 }, { 'if-match': tag }),
      api('PUT', `${url}/weight`, { weight: 20 }, { 'if-match': tag }),
    ]);
    expect([a.status, b.status].sort()).toEqual([200, 409]);
    expect((a.status === 409 ? a : b).body.error.code).toBe('ERR_VERSION');
  });

  it('a body over 1 MiB gets 413', async () => {
    const records = Array.from({ length: 40_000 }, (_, i) => `"${String(i).padStart(30, '0')}"`);
    const r = await api('PUT', `/v1/zones/${ZONE}/rrsets/huge/TXT`, { ttl: 60, records });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('ERR_TOO_LARGE');
  });

  it('changes acknowledged are there after a restart (journal)', async () => {
    await server.stop();
    await start();
    expect(await answers(`live.${ZONE}`)).toEqual(['192.0.2.77', '192.0.2.78']);
    const t = await api('GET', `/v1/zones/${ZONE}/pools/web/targets/198.51.100.1`);
    expect([10, 20]).toContain(t.body.weight.current);
  }, 30_000);
});

describe('names as long as DNS allows, and every error in the one shape', () => {
  const port = () => Number(new URL(base).port);
  /** A request as bytes, with the write token; the error body parsed. */
  const raw = async (head: string) => {
    const r = await httpExchange(
      port(),
      `${head}\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${WRITE}\r\nConnection: close\r\n\r\n`,
    );
    return {
      status: r.status,
      type: /content-type: *([^;\r\n]*)/i.exec(r.headers)?.[1],
      body: JSON.parse(r.body) as any,
    };
  };

  it('creates, reads and deletes an RRset whose owner name has 152 characters', async () => {
    const owner = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(24)}`;
    expect(owner).toHaveLength(152);
    const url = `/v1/zones/${ZONE}/rrsets/${owner}/TXT`;
    expect((await api('PUT', url, { ttl: 60, records: ['"long"'] })).status).toBe(201);
    expect((await api('GET', url)).body).toMatchObject({ name: `${owner}.${ZONE}`, records: ['"long"'] });
    expect((await dig(server.port, [`${owner}.${ZONE}`, 'TXT'])).answer.map((rr) => rr.data)).toEqual(['"long"']);
    expect((await api('DELETE', url)).status).toBe(200);
    expect((await api('GET', url)).status).toBe(404);
  });

  it('addresses a name of 255 octets written entirely in \\DDD escapes', async () => {
    // Three 63-octet labels and one of 45, under the 17-octet origin: 255 octets on the wire.
    const labels = [63, 63, 63, 45].map((n) => 'a'.repeat(n));
    const escaped = labels.map((l) => l.replace(/a/g, '\\097')).join('.');
    const url = `/v1/zones/${ZONE}/rrsets/${encodeURIComponent(escaped)}/TXT`;
    expect((await api('PUT', url, { ttl: 60, records: ['"max"'] })).status).toBe(201);
    expect((await api('GET', url)).body).toMatchObject({ name: `${labels.join('.')}.${ZONE}` });
    expect((await dig(server.port, [`${labels.join('.')}.${ZONE}`, 'TXT'])).answer.map((rr) => rr.data)).toEqual([
      '"max"',
    ]);
    expect((await api('DELETE', url)).status).toBe(200);
  });

  it('answers a path parameter longer than any name with 414 ERR_URI_TOO_LONG', async () => {
    const r = await api('GET', `/v1/zones/${ZONE}/rrsets/${'x'.repeat(3000)}/TXT`);
    expect(r.status).toBe(414);
    expect(r.body.error.code).toBe('ERR_URI_TOO_LONG');
  });

  it('answers a 100 KB URL with 431 ERR_HEADERS_TOO_LARGE in the error shape', async () => {
    const r = await raw(`GET /v1/zones/${'x'.repeat(100_000)} HTTP/1.1`);
    expect(r.status).toBe(431);
    expect(r.type).toBe('application/json');
    expect(r.body.error.code).toBe('ERR_HEADERS_TOO_LARGE');
    expect(typeof r.body.error.message).toBe('string');
  });

  it('answers 40 KB of headers with 431 ERR_HEADERS_TOO_LARGE in the error shape', async () => {
    const r = await raw(`GET /v1/zones HTTP/1.1\r\nX-Padding: ${'p'.repeat(40_000)}`);
    expect(r.status).toBe(431);
    expect(r.body.error.code).toBe('ERR_HEADERS_TOO_LARGE');
  });

  it('answers what is not HTTP, and a path that does not decode, with 400 ERR_BAD_REQUEST in the error shape', async () => {
    const garbage = await raw('GET /v1/zones HTTP/1.1\r\nBad Header Line');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('ERR_BAD_REQUEST');
    const undecodable = await raw(`GET /v1/zones/${ZONE}/rrsets/%E0%A4%A/TXT HTTP/1.1`);
    expect(undecodable.status).toBe(400);
    expect(undecodable.body.error.code).toBe('ERR_BAD_REQUEST');
  });

  it('answers an unknown endpoint with 404 and a body that is not JSON with 400, in the error shape', async () => {
    expect((await api('GET', '/v2/anything')).body.error.code).toBe('ERR_NOT_FOUND');
    const bad = await api('PUT', `/v1/zones/${ZONE}/rrsets/x/TXT`, '{"ttl": 60,');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ERR_BAD_JSON');
  });
});
