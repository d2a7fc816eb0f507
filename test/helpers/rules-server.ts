// A real gslbd for the zone-rule tests (test/e2e/zone-rules*.test.ts): fixture zones copied to a
// directory of its own, the HTTP API on a loopback port with a write token, a TSIG key for
// `nsupdate`, and a data directory kept across a restart or a SIGHUP, so that what was accepted is
// shown to load again.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startGslbd, type Gslbd } from './gslbd.ts';
import { keyFlag, type Key } from './nsupdate.ts';

const TOKEN = 'rules-write-token-0123456789';

export interface RulesServer {
  /** The gslbd running now (a new one after `restart`). */
  readonly gslbd: Gslbd;
  /** Its DNS port. */
  readonly port: number;
  /** An API request with the write token; the body parsed as JSON (null when empty). */
  api(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Stops gslbd and starts it again on the same zones and data directory. */
  restart(): Promise<void>;
  /** Sends SIGHUP and resolves once the zones have loaded again. */
  reload(): Promise<void>;
  /** Stops gslbd and removes its directories. */
  stop(): Promise<void>;
}

/** Starts gslbd on copies of the fixture directories `fixtures` (below test/fixtures/), signing updates with `key`. */
export async function startRulesServer(fixtures: readonly string[], key: Key): Promise<RulesServer> {
  const zones = mkdtempSync(path.join(os.tmpdir(), 'gslbd-rules-zones-'));
  const data = mkdtempSync(path.join(os.tmpdir(), 'gslbd-rules-data-'));
  const config = path.join(zones, 'gslbd.yaml');
  for (const f of fixtures) cpSync(path.join(ROOT, 'test/fixtures', f), zones, { recursive: true });
  writeFileSync(
    config,
    [
      `zones: ${zones}`,
      'api:',
      '  listen: 127.0.0.1:0',
      '  tokens:',
      `    - { name: operator, token: ${TOKEN}, access: write }`,
      '',
    ].join('\n'),
  );

  let gslbd: Gslbd;
  let base = '';
  const start = async () => {
    gslbd = await startGslbd(['--config', config, '--data', data, '--tsig-key', keyFlag(key)]);
    base = `http://127.0.0.1:${(await gslbd.waitForLog((l) => l.msg === 'api listening')).port as number}`;
  };
  await start();
  return {
    get gslbd() {
      return gslbd;
    },
    get port() {
      return gslbd.port;
    },
    async api(method, url, body) {
      const res = await fetch(base + url, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
    async restart() {
      await gslbd.stop();
      await start();
    },
    async reload() {
      const loaded = () => gslbd.logs.filter((l) => l.msg === 'zone loaded').length;
      const before = loaded();
      gslbd.proc.kill('SIGHUP');
      await gslbd.waitForLog(() => loaded() > before);
    },
    async stop() {
      await gslbd?.stop();
      rmSync(zones, { recursive: true, force: true });
      rmSync(data, { recursive: true, force: true });
    },
  };
}
