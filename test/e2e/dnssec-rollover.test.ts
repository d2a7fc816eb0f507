// A CSK rollover end to end with TTLs of 2 s: `gslbd dnssec rollover`, a reload, the new key
// published (DNSKEY signed by both, CDS listing both), signing after the DNSKEY TTL + propagation,
// the old key removed after the largest TTL + propagation; the parent's DS follows the CDS as a
// parent would. A validating unbound, with the parent's DS as its only trust anchor, is asked every
// 150 ms throughout: every answer AD=1, none SERVFAIL. Each step is logged and in /v1/status.

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { forTests } from '../helpers/fixture.ts';
import { CLI, ROOT, startGslbd } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';
import { startUnbound } from '../helpers/unbound.ts';

const run = promisify(execFile);
const TOKEN = 'rollover-read-token-0123456789';
const PARENT = 'example.net';
const CHILD = 'roll.example.net';

const h = forTests(
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-dnssec-roll-'));
    const zones = path.join(dir, 'zones');
    const data = path.join(dir, 'data');
    mkdirSync(data);
    cpSync(path.join(ROOT, 'test/fixtures/dnssec-roll'), zones, { recursive: true });
    const config = path.join(dir, 'gslbd.yaml');
    writeFileSync(
      config,
      [
        `zones: ${zones}`,
        `data: ${data}`,
        `dnssec: { zones: [${PARENT}., ${CHILD}.] }`,
        `api: { listen: 127.0.0.1:0, tokens: [{ token: ${TOKEN} }] }`,
        '',
      ].join('\n'),
    );
    const server = await startGslbd(['--config', config, '--data', data]);
    const gslbd = (...args: string[]) =>
      run(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, ...args, '--config', config], { cwd: ROOT });
    const parentFile = path.join(zones, `${PARENT}.zone`);
    const parentText = readFileSync(parentFile, 'utf8');
    /** Reloads until the parent zone file has been read again. */
    const reload = async () => {
      const loads = () => server.logs.filter((l) => l.msg === 'zone loaded' && l.zone === `${PARENT}.`).length;
      const before = loads();
      server.proc.kill('SIGHUP');
      await until(() => loads() > before, 10_000, 'a reload');
    };
    /** The parent's DS for the child: those `gslbd dnssec ds` prints now (what the CDS says). */
    const followCds = async () => {
      const { stdout } = await gslbd('dnssec', 'ds', CHILD);
      const ds = stdout.split('\n').filter((l) => / IN DS /.test(l));
      writeFileSync(parentFile, parentText + ds.map((l) => l.replace(' IN DS ', ' 1 IN DS ')).join('\n') + '\n');
      await reload();
      return ds.length;
    };
    await followCds();
    const { stdout } = await gslbd('dnssec', 'ds', PARENT);
    const unbound = await startUnbound(dir, stdout.split('\n').find((l) => / IN DS /.test(l))! + '\n', [
      { zone: PARENT, port: server.port },
    ]);
    const api = await server.waitForLog((l) => l.msg === 'api listening');
    return { dir, server, unbound, gslbd, reload, followCds, apiPort: api.port as number };
  },
  async (it) => {
    await it.unbound.stop();
    await it.server.stop();
    rmSync(it.dir, { recursive: true, force: true });
  },
);

const keysOf = async (type: string) =>
  (await dig(h.server.port, [CHILD, type])).answer.filter((a) => a.type === type).map((a) => a.data);

describe('a key rollover', () => {
  it('never fails validation, and goes through its steps on time', { timeout: 45_000 }, async () => {
    const failures: string[] = [];
    let asked = 0;
    let stop = false;
    // The resolver is asked all along: a static name, a pool, the DNSKEY RRset.
    const checker = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        const [name, type] = [
          [`www.${CHILD}`, 'A'],
          [`pool.${CHILD}`, 'A'],
          [CHILD, 'DNSKEY'],
        ][i % 3]!;
        const r = await dig(h.unbound.port, [name!, type!, '+recurse', '+dnssec', '+timeout=3']);
        asked++;
        if (r.status !== 'NOERROR' || !r.flags.includes('ad'))
          failures.push(`${name} ${type}: ${r.status} ${r.flags.join(' ')}`);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const [oldKey] = await keysOf('DNSKEY');
    const out = await h.gslbd('dnssec', 'rollover', CHILD, '--propagation', '1s');
    expect(out.stdout).toMatch(/signs 3 s later .* removed 3 s after that/);
    await h.reload();
    const started = await h.server.waitForLog((l) => String(l.msg).startsWith(`dnssec: rollover of ${CHILD}. started`));
    const newTag = started.tag as number;
    // Pre-published: both keys in DNSKEY and in CDS; the parent takes both DS.
    expect(await keysOf('DNSKEY')).toHaveLength(2);
    expect(await keysOf('CDS')).toHaveLength(2);
    expect(await h.followCds()).toBe(2);
    const status = async () => {
      const res = await fetch(`http://127.0.0.1:${h.apiPort}/v1/status`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const body = (await res.json()) as { dnssec: { zone: string; keys: { tag: number; state: string }[] }[] };
      return body.dnssec.find((z) => z.zone.includes('roll'))!.keys.map((k) => `${k.tag} ${k.state}`);
    };
    expect(await status()).toContain(`${newTag} published`);
    await h.server.waitForLog((l) => l.msg === `dnssec: key ${newTag} of ${CHILD}. active`, 10_000);
    expect(await status()).toContain(`${newTag} active`);
    const text = await run(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        CLI,
        'status',
        '--api',
        `http://127.0.0.1:${h.apiPort}`,
        '--token',
        TOKEN,
      ],
      { cwd: ROOT },
    );
    expect(text.stdout).toMatch(new RegExp(`dnssec ${CHILD}\\.\\n(.*\\n)*  key ${newTag} +algorithm 13 +active`));
    expect(text.stdout).toMatch(/ retired +.* removed /);
    expect(await keysOf('CDS')).toHaveLength(1);
    await h.server.waitForLog((l) => String(l.msg).endsWith('removed') && l.tag !== newTag, 10_000);
    // Removed: one key, the new one. The resolver keeps asking for a while before the parent drops
    // the old DS (and its reload empties the answer cache): nothing signed by the old key is left.
    expect(await keysOf('DNSKEY')).toHaveLength(1);
    expect(await keysOf('DNSKEY')).not.toContain(oldKey);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(await h.followCds()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    stop = true;
    await checker;
    expect(failures).toEqual([]);
    expect(asked).toBeGreaterThan(30);
    const steps = h.server.logs
      .filter((l) => String(l.msg).startsWith('dnssec: key'))
      .map((l) => `${String(l.tag)} ${String(l.state)}`);
    expect(steps).toEqual(expect.arrayContaining([`${newTag} published`, `${newTag} active`]));
    expect(steps.some((s) => s.endsWith('retired'))).toBe(true);
    expect(steps.some((s) => s.endsWith('removed'))).toBe(true);
  });
});
