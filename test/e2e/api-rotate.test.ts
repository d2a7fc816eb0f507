// Secrets rotate without a restart: SIGHUP reads gslbd.yaml again, and its API tokens and TSIG keys
// replace the ones in service (the same process: old token 401, new 200; nsupdate and dig with the
// new key work, the old key gets NOTAUTH/BADKEY), also in the worker processes of --workers 2; a
// gslbd.yaml with an error keeps every old secret, logs file:line: reason, and shows it in
// /v1/status and /metrics.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rcode } from '../../src/0-base/constants.ts';
import { signRequest, TsigError, verifyResponse } from '../../src/1-codec/tsig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { nsupdate, keyText, type Key } from '../helpers/nsupdate.ts';
import { parseMetrics } from '../helpers/ops.ts';
import { buildQuery, udpExchange } from '../helpers/raw.ts';
import { makeKey } from '../update/helpers.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const OLD_TOKEN = 'rotate-old-token-0123456789';
const NEW_TOKEN = 'rotate-new-token-0123456789';
const oldKey = makeKey('old-key.');
const newKey = makeKey('new-key.');
const A = 1;

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-rotate-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** gslbd.yaml with `token` and `key`; `tokenLine` replaces the token's line (to break the file). */
function config(file: string, token: string, key: Key, tokenLine?: string): void {
  writeFileSync(
    file,
    [
      `zones: ${ZONES}`,
      'api:',
      '  listen: 127.0.0.1:0',
      '  tokens:',
      tokenLine ?? `    - { name: monitor, token: ${token}, access: write }`,
      'tsig:',
      `  - { name: ${keyText(key)}, algorithm: ${key.algorithm}, secret: "${key.base64}" }`,
      '',
    ].join('\n'),
  );
}

async function start(name: string, args: string[] = []): Promise<{ gslbd: Gslbd; file: string; base: string }> {
  const file = path.join(work, `${name}.yaml`);
  config(file, OLD_TOKEN, oldKey);
  const gslbd = await startGslbd(['--config', file, ...args]);
  const line = await gslbd.waitForLog((l) => l.msg === 'api listening');
  return { gslbd, file, base: `http://127.0.0.1:${line.port as number}` };
}

const api = async (base: string, urlPath: string, token: string) => {
  const res = await fetch(base + urlPath, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, text: await res.text() };
};

/** SIGHUP, then the log line that says how the reading of gslbd.yaml went (the n-th such line). */
async function hangUp(g: Gslbd, msg: RegExp): Promise<Record<string, unknown>> {
  const before = g.logs.filter((l) => msg.test(String(l.msg))).length;
  g.proc.kill('SIGHUP');
  let n = 0;
  return g.waitForLog((l) => msg.test(String(l.msg)) && ++n > before);
}

/** `count` signed A queries, each from a fresh UDP socket (so SO_REUSEPORT spreads them over workers). */
async function signedQueries(port: number, key: Key, count: number) {
  const out: { rcode: number; verified: boolean; tsigError: number | null }[] = [];
  for (let i = 0; i < count; i++) {
    const req = signRequest(buildQuery('www.example.net', A), key, Date.now());
    const reply = (await udpExchange(port, req.message))!;
    const v = verifyResponse(reply, key, req.mac, Date.now());
    out.push({
      rcode: reply.readUInt16BE(2) & 0xf,
      verified: v.kind === 'ok',
      tsigError: v.kind === 'error' ? v.tsigError : null,
    });
  }
  return out;
}

describe('SIGHUP with new tokens and TSIG keys (one process)', () => {
  it('puts the new ones in service and the old ones out, in the same process', async () => {
    const { gslbd, file, base } = await start('single');
    try {
      const pid = gslbd.proc.pid;
      expect((await api(base, '/v1/zones', OLD_TOKEN)).status).toBe(200);
      const before = await nsupdate(gslbd.port, 'example.net', ['update add rot1.example.net. 300 A 192.0.2.41'], {
        key: oldKey,
      });
      expect(before.out).toBe('');
      expect(before.code).toBe(0);

      config(file, NEW_TOKEN, newKey);
      await hangUp(gslbd, /^config reloaded/);
      expect(gslbd.proc.pid).toBe(pid);
      expect(gslbd.proc.exitCode).toBeNull();

      expect((await api(base, '/v1/zones', OLD_TOKEN)).status).toBe(401);
      expect((await api(base, '/v1/zones', NEW_TOKEN)).status).toBe(200);
      const added = await nsupdate(gslbd.port, 'example.net', ['update add rot2.example.net. 300 A 192.0.2.42'], {
        key: newKey,
      });
      expect(added.out).toBe('');
      const refused = await nsupdate(gslbd.port, 'example.net', ['update add rot3.example.net. 300 A 192.0.2.43'], {
        key: oldKey,
      });
      expect(refused.out).toMatch(/NOTAUTH\(BADKEY\)/);
      expect(await signedQueries(gslbd.port, newKey, 1)).toEqual([
        { rcode: Rcode.NOERROR, verified: true, tsigError: null },
      ]);
      const old = await signedQueries(gslbd.port, oldKey, 1);
      expect(old[0]!.rcode).toBe(Rcode.NOTAUTH);

      // A file with an error: nothing of it is taken, and the log and /v1/status say where and why.
      config(file, 'another-new-token-0123456789', oldKey, '    - { name: monitor, token: short, access: write }');
      const bad = await hangUp(gslbd, /^config not reloaded/);
      expect(bad.error).toBe(`${file}:5: api.tokens[0].token: too short (5 characters; at least 16)`);
      expect((await api(base, '/v1/zones', NEW_TOKEN)).status).toBe(200);
      expect(await signedQueries(gslbd.port, newKey, 1)).toEqual([
        { rcode: Rcode.NOERROR, verified: true, tsigError: null },
      ]);
      expect((await signedQueries(gslbd.port, oldKey, 1))[0]!.rcode).toBe(Rcode.NOTAUTH);
      const status = JSON.parse((await api(base, '/v1/status', NEW_TOKEN)).text);
      expect(status.config).toMatchObject({ file, ok: false, error: bad.error });
      const gauge = (text: string) =>
        parseMetrics(text).find((s) => s.name === 'gslbd_config_last_reload_successful')?.value;
      expect(gauge((await api(base, '/metrics', NEW_TOKEN)).text)).toBe(0);

      // Fixed: taken, and the state says so again.
      config(file, NEW_TOKEN, newKey);
      await hangUp(gslbd, /^config reloaded/);
      expect(JSON.parse((await api(base, '/v1/status', NEW_TOKEN)).text).config).toMatchObject({
        ok: true,
        error: null,
      });
      expect(gauge((await api(base, '/metrics', NEW_TOKEN)).text)).toBe(1);
    } finally {
      await gslbd.stop();
    }
  }, 60_000);
});

describe('SIGHUP with a new TSIG key (--workers 2)', () => {
  it('reaches every worker: signed queries verify with the new key, the old one gets BADKEY', async () => {
    const { gslbd, file } = await start('workers', ['--workers', '2']);
    try {
      await gslbd.waitForLog((l) => l.msg === 'workers ready');
      expect((await signedQueries(gslbd.port, oldKey, 4)).every((r) => r.verified)).toBe(true);
      config(file, OLD_TOKEN, newKey);
      const reloads = gslbd.logs.filter((l) => l.msg === 'worker reloaded').length;
      await hangUp(gslbd, /^config reloaded/);
      let n = 0;
      await gslbd.waitForLog((l) => l.msg === 'worker reloaded' && ++n > reloads + 1);
      // 16 fresh sockets: the kernel spreads them over both workers (all on one: 1 in 32,768).
      expect(await signedQueries(gslbd.port, newKey, 16)).toEqual(
        Array(16).fill({ rcode: Rcode.NOERROR, verified: true, tsigError: null }),
      );
      const old = await signedQueries(gslbd.port, oldKey, 16);
      expect(old.map((r) => r.rcode)).toEqual(Array(16).fill(Rcode.NOTAUTH));
      expect(old.map((r) => r.tsigError)).toEqual(Array(16).fill(TsigError.BADKEY));
    } finally {
      await gslbd.stop();
    }
  }, 60_000);
});
