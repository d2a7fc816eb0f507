// The API over HTTPS (`api.tls`), its allow list (`api.allow`) and its per-client limit of requests
// in flight (`api.max-in-flight-per-client`), on a real gslbd: a CA and a server certificate made
// with openssl here; clients from three loopback addresses (127.0.0.1 and .3 allowed, .2 not).

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { forTests } from '../helpers/fixture.ts';
import { ROOT, runCli, startGslbd } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';
import { makeTls, type TlsFiles } from '../helpers/tls.ts';

const TOKEN = 'api-tls-write-token-0123456789';
const LIMIT = 3;

const served = forTests(
  async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-api-tls-'));
    const files = makeTls(work);
    const config = path.join(work, 'gslbd.yaml');
    writeFileSync(
      config,
      [
        `zones: ${path.join(ROOT, 'test/fixtures/core/zones')}`,
        'api:',
        '  listen: 127.0.0.1:0',
        '  tls: { cert: server.pem, key: server.key }',
        '  allow: [127.0.0.1/32, 127.0.0.3]',
        `  max-in-flight-per-client: ${LIMIT}`,
        '  tokens:',
        `    - { name: operator, token: ${TOKEN}, access: write }`,
        '',
      ].join('\n'),
    );
    const gslbd = await startGslbd(['--config', config]);
    const line = await gslbd.waitForLog((l) => l.msg === 'api listening');
    return { gslbd, files, port: line.port as number, ca: readFileSync(files.ca), work };
  },
  async ({ gslbd, work }) => {
    await gslbd.stop();
    rmSync(work, { recursive: true, force: true });
  },
);

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: any;
}

/** GET `path` over HTTPS (or plain HTTP) from `from`; rejects when no HTTP answer comes. */
function get(
  urlPath: string,
  opts: { ca?: Buffer; from?: string; plain?: boolean; token?: string } = {},
): Promise<Answer> {
  const { port } = served;
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port,
      path: urlPath,
      headers: { authorization: `Bearer ${opts.token ?? TOKEN}` },
      localAddress: opts.from ?? '127.0.0.1',
      agent: false as const,
      timeout: 5000,
    };
    const done = (res: http.IncomingMessage) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
    };
    const req = opts.plain ? http.get(options, done) : https.get({ ...options, ...(opts.ca && { ca: opts.ca }) }, done);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * A request whose headers arrive but whose body never does: in flight until `close()`. Resolves
 * once the TLS handshake is done and the headers are written.
 */
async function slowRequest(files: TlsFiles, from: string): Promise<{ close(): void }> {
  const tcp = net.connect({ host: '127.0.0.1', port: served.port, localAddress: from });
  const sock = tls.connect({ socket: tcp, host: '127.0.0.1', ca: readFileSync(files.ca) });
  await new Promise<void>((resolve, reject) => {
    sock.once('secureConnect', () => resolve());
    sock.once('error', reject);
  });
  sock.on('error', () => {});
  sock.write(
    'PUT /v1/zones/example.net/rrsets/slow/A HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
  );
  return { close: () => sock.destroy() };
}

describe('api.tls', () => {
  it('serves the API over HTTPS to a client that trusts the CA', async () => {
    const r = await get('/v1/status', { ca: served.ca });
    expect(r.status).toBe(200);
    expect(r.body.zones.map((z: { zone: string }) => z.zone)).toContain('example.net.');
  });

  it('is refused by a client that does not trust the certificate', async () => {
    await expect(get('/v1/status')).rejects.toThrow(/certificate/i);
  });

  it('answers plain HTTP on its port with no HTTP at all', async () => {
    await expect(get('/v1/status', { plain: true })).rejects.toThrow();
  });

  it('serves gslbd status given the CA with --ca, and says why without it', async () => {
    const api = `https://127.0.0.1:${served.port}`;
    const ok = await runCli(['status', '--api', api, '--token', TOKEN, '--ca', served.files.ca, '--json']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).zones.length).toBeGreaterThan(0);
    const untrusted = await runCli(['status', '--api', api, '--token', TOKEN]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/cannot reach the gslbd API at https:.*certificate.*--ca FILE/);
  });
});

describe('api.allow', () => {
  it('disconnects a client outside the list before any answer, and logs why', async () => {
    await expect(get('/v1/status', { ca: served.ca, from: '127.0.0.2' })).rejects.toThrow(
      /socket hang up|ECONNRESET|disconnected/,
    );
    await served.gslbd.waitForLog((l) => l.msg === 'api: connection refused: the client is not in api.allow');
    expect((await get('/v1/status', { ca: served.ca, from: '127.0.0.3' })).status).toBe(200);
  });
});

describe('api.max-in-flight-per-client', () => {
  it('answers 429 past the limit from one client, while another client is served', async () => {
    const slow = [];
    for (let i = 0; i < LIMIT; i++) slow.push(await slowRequest(served.files, '127.0.0.1'));
    try {
      // The server counts a request once it has read its headers: soon after they are written.
      let over: Answer | null = null;
      await until(
        async () => (over = await get('/v1/status', { ca: served.ca })).status === 429,
        5000,
        'a 429 past the limit',
      );
      expect(over!.body).toEqual({
        error: { code: 'ERR_TOO_MANY_REQUESTS', message: expect.stringContaining('max-in-flight-per-client: 3') },
      });
      expect(over!.headers['retry-after']).toBe('1');
      expect((await get('/v1/status', { ca: served.ca, from: '127.0.0.3' })).status).toBe(200);
    } finally {
      slow.shift()!.close();
    }
    // One slow request gone: the client is under its limit again.
    await until(async () => (await get('/v1/status', { ca: served.ca })).status === 200, 5000, 'a 200 again');
    for (const s of slow) s.close();
  });
});

describe('metrics', () => {
  it('count the connections refused by api.allow and the requests answered 429', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: served.port,
            path: '/metrics',
            headers: { authorization: `Bearer ${TOKEN}` },
            ca: served.ca,
            agent: false,
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve(text));
          },
        )
        .on('error', reject);
    });
    // The tests above: one connection from 127.0.0.2, at least one 429.
    expect(r).toMatch(/^gslbd_api_refused_total\{reason="allow"\} [1-9]/m);
    expect(r).toMatch(/^gslbd_api_refused_total\{reason="in-flight"\} [1-9]/m);
  });
});

describe('a renewed certificate', () => {
  it('is served after SIGHUP, without a restart', async () => {
    // A second CA and its server certificate, copied over the files gslbd.yaml names.
    const next = makeTls(mkdtempSync(path.join(served.work, 'next-')));
    writeFileSync(path.join(served.work, 'server.pem'), readFileSync(next.serverCert));
    writeFileSync(path.join(served.work, 'server.key'), readFileSync(next.serverKey));
    const before = served.gslbd.logs.filter((l) => l.msg === 'config reloaded: API tokens and TSIG keys').length;
    served.gslbd.proc.kill('SIGHUP');
    let n = 0;
    await served.gslbd.waitForLog((l) => l.msg === 'config reloaded: API tokens and TSIG keys' && ++n > before);
    expect((await get('/v1/status', { ca: readFileSync(next.ca) })).status).toBe(200);
    await expect(get('/v1/status', { ca: served.ca })).rejects.toThrow(/certificate/i);
  });
});
