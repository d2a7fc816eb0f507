// A signed zone's key: made at the first start, owner-only on disk, never in the log, the same at
// the next start; `gslbd dnssec ds` prints its DS and DNSKEY; another algorithm in gslbd.yaml than
// the stored key's stops the start rather than sign with a key the parent does not know.

import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, startGslbd } from '../helpers/gslbd.ts';
import { dig } from '../helpers/dig.ts';

const run = promisify(execFile);
const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-dnssec-keys-'));
const zones = path.join(dir, 'zones');
const data = path.join(dir, 'data');
const config = path.join(dir, 'gslbd.yaml');
cpSync(path.join(ROOT, 'test/fixtures/dnssec/zones'), zones, { recursive: true });
mkdirSync(data);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const gslbd = (...args: string[]) =>
  run(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, ...args], { cwd: ROOT, timeout: 15_000 }).catch(
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('DNSSEC keys', () => {
  it('makes an Ed25519 key at the first start, 0600 in a 0700 directory, and logs its tag, not the key', async () => {
    writeFileSync(config, `data: data\ndnssec: { zones: [gslb.example.com.], algorithm: ed25519 }\n`);
    const server = await startGslbd(['--config', config, '--zones', zones, '--data', data]);
    try {
      const made = await server.waitForLog(
        (l) => l.msg === 'dnssec: key made (gslbd dnssec ds prints its DS for the parent)',
      );
      const file = path.join(data, 'keys', 'gslb.example.com.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
      expect(readFileSync(file, 'utf8')).toContain('PRIVATE KEY');
      expect(JSON.stringify(server.logs)).not.toMatch(/PRIVATE KEY|MC4CAQAw/);
      const out = await gslbd('dnssec', 'ds', 'gslb.example.com', '--config', config);
      expect(out.stdout).toMatch(new RegExp(`^gslb\\.example\\.com\\. IN DS ${String(made.tag)} 15 2 [0-9A-F]{64}\n`));
      const dnskey = /IN DNSKEY 257 3 15 (\S+)\n$/.exec(out.stdout)![1]!;
      // The DNSKEY printed is the one served.
      const served = await dig(server.port, ['gslb.example.com', 'DNSKEY']);
      expect(served.answer.map((a) => a.data.replace(/\s/g, ''))).toEqual([`257315${dnskey}`]);
    } finally {
      await server.stop();
    }
    const again = await startGslbd(['--config', config, '--zones', zones, '--data', data]);
    try {
      const signing = await again.waitForLog((l) => l.msg === 'dnssec: signing answers');
      expect(again.logs.some((l) => String(l.msg).startsWith('dnssec: key made'))).toBe(false);
      const out = await gslbd('dnssec', 'ds', 'gslb.example.com.', '--data', data);
      expect(out.stdout).toContain(` IN DS ${String(signing.tag)} 15 2 `);
    } finally {
      await again.stop();
    }
  }, 30_000);

  it('does not start when gslbd.yaml names another algorithm than the stored key', async () => {
    writeFileSync(config, `data: data\ndnssec: { zones: [gslb.example.com.], algorithm: ecdsap256sha256 }\n`);
    const out = await gslbd('serve', '--config', config, '--zones', zones, '--listen', '127.0.0.1:0', '--workers', '1');
    expect((out as { code: number }).code).toBe(1);
    expect(out.stderr).toMatch(
      /gslb\.example\.com\.json: the key of gslb\.example\.com\. is of algorithm 15, gslbd\.yaml asks for 13/,
    );
  }, 30_000);

  it('dnssec ds for a zone with no key says how to get one', async () => {
    const out = await gslbd('dnssec', 'ds', 'other.example', '--data', data);
    expect((out as { code: number }).code).toBe(1);
    expect(out.stderr).toMatch(/no key for other\.example\. .*start gslbd once/);
  });
});
