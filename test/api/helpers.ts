// A Service in this process serving test/fixtures/api/zones on a loopback port (for dig), with the
// API app driven through fastify's inject(), and helpers to assert that a refused request changed
// nothing.

import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { hashToken } from '../../src/7-config/api-options.ts';
import { buildApi } from '../../src/8-api/server.ts';
import { createLogger } from '../../src/0-base/log.ts';
import { Service } from '../../src/9-main/service.ts';
import { dig } from '../helpers/dig.ts';
import { ROOT } from '../helpers/gslbd.ts';

export const ZONE = 'api.example.net.';
const FIXTURE = path.join(ROOT, 'test/fixtures/api/zones');
const POOLS = 'api.example.net.pools.yaml';

/** A port nothing listens on: one the system just gave us and we closed again. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

/** The fixture zones in a directory of their own, the `checked` pool's probe port filled in. */
export async function zonesDir(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-api-zones-'));
  cpSync(FIXTURE, dir, { recursive: true });
  const pools = readFileSync(path.join(FIXTURE, POOLS), 'utf8').replace('${CLOSED_PORT}', String(await closedPort()));
  writeFileSync(path.join(dir, POOLS), pools);
  return dir;
}
export const WRITE = 'write-token-0123456789abcdef';
export const READ = 'read-token-0123456789abcdef';
export const TOKENS = [
  { name: 'ops', hash: hashToken(WRITE), access: 'write' as const },
  { name: 'viewer', hash: hashToken(READ), access: 'read' as const },
];

export interface Harness {
  readonly service: Service;
  readonly app: FastifyInstance;
  readonly dataDir: string;
  /** An API request with the write token (or `token`), JSON in and out. */
  call(
    method: string,
    url: string,
    opts?: { body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<Reply>;
  /** dig against the service's DNS port; the answer section's data, sorted. */
  answers(name: string, type?: string): Promise<string[]>;
  /**
   * The journal records the API wrote (probe verdicts of the `checked` pool, journaled whenever
   * its probe decides, are left out), for "nothing was written" assertions.
   */
  journal(): string;
  /** The last changeset the API journaled. */
  lastChangeset(): { seq: number; source: string; changes: Record<string, unknown>[] };
  stop(): Promise<void>;
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly body: any;
}

export async function startHarness(opts: { bodyLimit?: number } = {}): Promise<Harness> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-api-'));
  const log = createLogger('silent');
  const zones = await zonesDir();
  const service = new Service({
    zonesDir: zones,
    listen: [{ address: { host: '127.0.0.1', port: 0 }, required: true }],
    log,
    dataDir,
  });
  await service.start();
  const app = buildApi(service, {
    tokens: TOKENS,
    log,
    ...(opts.bodyLimit !== undefined && { bodyLimit: opts.bodyLimit }),
  });
  await app.ready();
  const port = service.listeners[0]!.port;
  const h: Harness = {
    service,
    app,
    dataDir,
    async call(method, url, o = {}) {
      const token = o.token === undefined ? WRITE : o.token;
      const res = await app.inject({
        method: method as 'GET',
        url,
        headers: {
          ...(token !== null && { authorization: `Bearer ${token}` }),
          ...(o.body !== undefined && { 'content-type': 'application/json' }),
          ...o.headers,
        },
        ...(o.body !== undefined && { payload: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) }),
      });
      let body: unknown = res.body;
      try {
        body = JSON.parse(res.body);
      } catch {
        // Not JSON: kept as text, and the test will say so.
      }
      return { status: res.statusCode, headers: res.headers, body };
    },
    async answers(name, type = 'A') {
      const r = await dig(port, [name, type]);
      return r.answer.map((rr) => rr.data).sort();
    },
    journal() {
      const file = path.join(dataDir, 'journal.log');
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return text
        .split('\n')
        .filter((l) => l.includes('"source":"api:'))
        .join('\n');
    },
    lastChangeset() {
      const lines = h.journal().split('\n');
      return JSON.parse(lines[lines.length - 1]!.slice(9));
    },
    async stop() {
      await app.close();
      await service.stop();
      for (const dir of [dataDir, zones]) rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** The URL of a target of a pool of the test zone. */
export const targetUrl = (pool: string, address: string, aspect = '') =>
  `/v1/zones/${ZONE}/pools/${pool}/targets/${address}${aspect ? `/${aspect}` : ''}`;

/**
 * What a refused request must leave as it was: the journal, the zone (serial, RRsets) and the
 * pools without probes (their targets' state included).
 */
export async function snapshot(h: Harness): Promise<unknown> {
  const get = async (url: string) => (await h.call('GET', url)).body;
  return {
    journal: h.journal(),
    zone: await get(`/v1/zones/${ZONE}`),
    pools: await Promise.all(['web', 'dc', 'solo'].map((p) => get(`/v1/zones/${ZONE}/pools/${p}`))),
  };
}
