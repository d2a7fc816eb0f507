// gslbd as a secondary, beyond the happy path with Knot (secondary-knot.test.ts): configuration
// errors at their line (serve and check), a pool that collides with transferred data (a clear
// error, the zone not served until the pools file is fixed), and --workers 2, where the workers
// serve what the primary process pulled and a NOTIFY to a worker reaches the primary process.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/7-config/load.ts';
import { ConfigError } from '../../src/7-config/load.ts';
import { dig } from '../helpers/dig.ts';
import { axfrAnswer, sendNotify, startFakePrimary, type FakePrimary } from '../helpers/fake-primary.ts';
import { runCli, startGslbd } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-secondary-edges-'));
let primary: FakePrimary;

beforeAll(async () => {
  primary = await startFakePrimary('edge.test.');
});

afterAll(async () => {
  await primary?.close();
  rmSync(work, { recursive: true, force: true });
});

/** A directory with `zones/` (the files given) and gslbd.yaml (the lines given). */
function setup(name: string, yaml: string[], files: Record<string, string> = {}): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'zones'), { recursive: true });
  for (const [f, text] of Object.entries(files)) writeFileSync(path.join(dir, 'zones', f), text);
  writeFileSync(path.join(dir, 'gslbd.yaml'), [`zones: ${path.join(dir, 'zones')}`, ...yaml, ''].join('\n'));
  return dir;
}

const ZONE_FILE = [
  '$TTL 300',
  '@ IN SOA ns1 hostmaster ( 1 1h 10m 2w 30 )',
  '  IN NS ns1',
  'ns1 IN A 192.0.2.1',
  '',
].join('\n');

describe('configuration', () => {
  it('reads primary as an address or as {address, key}, and makes a secondary zone transfer its pools as omit', () => {
    const c = parseConfig(
      [
        'zones-options:',
        '  a.test.:',
        '    primary: 192.0.2.1',
        '  b.test.:',
        '    primary: { address: "[2001:db8::1]:5353", key: Xfr-Key }',
        '    transfer: { allow: ["127.0.0.1"] }',
        '',
      ].join('\n'),
      'gslbd.yaml',
      {},
    );
    expect(c.zonesOptions!.map((o) => [o.zone, o.primary, o.poolsInTransfer])).toEqual([
      ['a.test.', { address: { host: '192.0.2.1', port: 53 } }, 'omit'],
      ['b.test.', { address: { host: '2001:db8::1', port: 5353 }, key: { name: 'xfr-key.', line: 5 } }, 'omit'],
    ]);
  });

  it('refuses pools-in-transfer other than omit, a primary with no address, and a bad address, at their lines', () => {
    let errors: string[] = [];
    try {
      parseConfig(
        [
          'zones-options:',
          '  a.test.:',
          '    primary: 192.0.2.1',
          '    pools-in-transfer: all',
          '  b.test.:',
          '    primary: { key: k. }',
          '  c.test.:',
          '    primary: "not an address"',
          '',
        ].join('\n'),
        'gslbd.yaml',
        {},
      );
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      errors = (e as ConfigError).errors.map((x) => x.message);
    }
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(
      /^gslbd\.yaml:4: zones-options\.a\.test\.\.pools-in-transfer: a secondary zone transfers its pools as omit/,
    );
    expect(errors[1]).toMatch(/^gslbd\.yaml:6: zones-options\.b\.test\.\.primary: give address/);
    expect(errors[2]).toMatch(/^gslbd\.yaml:8: zones-options\.c\.test\.\.primary: /);
  });

  it('stops serve, and fails check, for a zone with both a file and a primary, and for a key that is no TSIG key', async () => {
    const dir = setup(
      'both',
      ['zones-options:', '  edge.test.:', `    primary: { address: "127.0.0.1:${primary.port}", key: nokey. }`],
      { 'edge.test.zone': ZONE_FILE },
    );
    const config = path.join(dir, 'gslbd.yaml');
    const check = await runCli(['check', '--config', config]);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain(`${config}:3: zones-options.edge.test.: both a zone file in`);
    expect(check.stderr).toContain(`${config}:4: zones-options.edge.test..primary.key: no TSIG key nokey.`);
    const serve = await runCli(
      ['serve', '--config', config, '--listen', '127.0.0.1:0', '--data', path.join(dir, 'data')],
      20_000,
    );
    expect(serve.code).not.toBe(0);
    expect(serve.stderr + serve.stdout).toContain('both a zone file in');
  });
});

describe('a pool that collides with transferred data', () => {
  it('is a clear error naming the pools file and line; the zone is served once the pools file is fixed', async () => {
    const dir = setup('collide', ['zones-options:', '  edge.test.:', `    primary: "127.0.0.1:${primary.port}"`], {
      'edge.test.pools.yaml': [
        '# www is static data in the transferred zone',
        'www:',
        '  targets: [{ address: 192.0.2.80 }]',
        '',
      ].join('\n'),
    });
    const gslbd = await startGslbd(['--config', path.join(dir, 'gslbd.yaml')]);
    try {
      const failed = await gslbd.waitForLog((l) => l.msg === 'secondary: no copy yet: transfer failed', 10_000);
      expect(failed.reason).toMatch(
        new RegExp(
          `edge\\.test\\.pools\\.yaml:2: pool www: www\\.edge\\.test\\. also has static A data in transfer of edge\\.test\\. from 127\\.0\\.0\\.1:${primary.port}`,
        ),
      );
      expect((await dig(gslbd.port, ['txt.edge.test.', 'TXT'])).status).toBe('REFUSED');
      writeFileSync(
        path.join(dir, 'zones', 'edge.test.pools.yaml'),
        ['web:', '  targets: [{ address: 192.0.2.80 }]', ''].join('\n'),
      );
      // The next retry (2 s, doubling) takes the transfer with the fixed pools file; the zone goes
      // in service right after the transfer is logged.
      await gslbd.waitForLog((l) => l.msg === 'secondary: zone transferred', 10_000);
      const web = async () => (await dig(gslbd.port, ['web.edge.test.', 'A'])).answer.map((a) => a.data).join();
      await until(async () => (await web()) === '192.0.2.80', 5000, 'the pool web served', 50);
      expect((await dig(gslbd.port, ['www.edge.test.', 'A'])).answer.map((a) => a.data)).toEqual(['192.0.2.1']);
    } finally {
      await gslbd.stop();
    }
  }, 30_000);
});

describe('--workers 2', () => {
  it('the workers serve the copy the primary process pulled, and a NOTIFY to a worker brings the next serial', async () => {
    primary.reply = (q) => axfrAnswer(q.readUInt16BE(0), 'edge.test.', 1);
    const dir = setup('workers', ['zones-options:', '  edge.test.:', `    primary: "127.0.0.1:${primary.port}"`]);
    const gslbd = await startGslbd(['--config', path.join(dir, 'gslbd.yaml'), '--workers', '2']);
    try {
      const www = async () => (await dig(gslbd.port, ['www.edge.test.', 'A'])).answer.map((a) => a.data).join();
      await until(async () => (await www()) === '192.0.2.1', 10_000, 'the workers serving the transferred zone', 100);
      primary.reply = (q) => axfrAnswer(q.readUInt16BE(0), 'edge.test.', 2);
      // Only workers listen: the NOTIFY lands on one of them.
      await sendNotify(gslbd.port, 'edge.test.');
      await until(async () => (await www()) === '192.0.2.2', 5000, 'serial 2 served after NOTIFY', 100);
      // Every query (each from a new port, spread over both workers) sees the new copy.
      for (let i = 0; i < 20; i++) expect(await www()).toBe('192.0.2.2');
    } finally {
      await gslbd.stop();
    }
  }, 40_000);
});
