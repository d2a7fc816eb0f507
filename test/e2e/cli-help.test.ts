// The command line a new user meets: `--help` on every command (exit 0, that command's usage, nothing
// started), `gslbd help COMMAND`, `gslbd version`, and `gslbd check --config` naming the files
// gslbd.yaml points at that serve could not read, with their lines.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../helpers/gslbd.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');

/** The commands `gslbd help` lists: every one of them must answer --help. */
async function commands(): Promise<string[]> {
  const r = await runCli(['help']);
  expect(r.code).toBe(0);
  return [...new Set([...r.stdout.matchAll(/^ {2}gslbd (\S+)/gm)].map((m) => m[1]!))];
}

describe('gslbd COMMAND --help', { timeout: 60_000 }, () => {
  it('answers every command gslbd help lists with its usage and exit 0, starting nothing', async () => {
    const all = await commands();
    expect(all).toEqual(expect.arrayContaining(['serve', 'check', 'journal', 'status', 'drain', 'version', 'help']));
    // Four at a time: the machine has two cores and other tests run beside this one.
    const runs: { c: string; r: Awaited<ReturnType<typeof runCli>> }[] = [];
    for (let i = 0; i < all.length; i += 4)
      runs.push(...(await Promise.all(all.slice(i, i + 4).map(async (c) => ({ c, r: await runCli([c, '--help']) })))));
    for (const { c, r } of runs) {
      expect(r.stderr, c).toBe('');
      expect(r.code, c).toBe(0);
      expect(r.stdout, c).toMatch(new RegExp(`^usage:\\n {2}gslbd ${c}\\b`));
    }
  });

  it('serve --help lists its flags; -h works too, after other flags', async () => {
    const r = await runCli(['serve', '--listen', '127.0.0.1:0', '-h'], 10_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--tcp-max-connections-per-client N');
    expect(r.stdout).not.toContain('gslbd drain');
  });

  it('an operator command says where the API and token come from', async () => {
    const r = await runCli(['drain', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage:\n {2}gslbd drain TARGET/);
    expect(r.stdout).toContain('--token TOKEN or GSLBD_API_TOKEN');
    expect((await runCli(['help', 'drain'])).stdout).toBe(r.stdout);
  });

  it('help for a command that does not exist: exit 2', async () => {
    const r = await runCli(['help', 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^gslbd: help frobnicate: no such command\n/);
  });
});

describe('gslbd version', () => {
  it("prints package.json's version and Node's, exit 0", async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['version'], ['--version']]) {
      const r = await runCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`gslbd ${version} (node ${process.version})\n`);
    }
  });
});

describe('gslbd check --config: the files gslbd.yaml names', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-check-files-'));
  const config = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, `zones: ${ZONES}\n${text}`);
    return file;
  };

  it('a geoip file or a cluster TLS file that is not there: exit 1 at its line', async () => {
    const file = config(
      'missing.yaml',
      'geoip: ./nowhere.mmdb\ncluster:\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\n    tls: { ca: ./ca.pem }\n',
    );
    const r = await runCli(['check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${file}:2: geoip: ${dir}/nowhere.mmdb: no such file\n${file}:6: cluster.etcd.tls.ca: ${dir}/ca.pem: no such file\n`,
    );
  });

  it('a geoip file that is no MaxMind database: exit 1 at its line', async () => {
    writeFileSync(path.join(dir, 'text.mmdb'), 'not a database\n');
    const file = config('text.yaml', '\ngeoip: ./text.mmdb\n');
    const r = await runCli(['check', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^${file}:3: geoip: ${dir}/text\\.mmdb: cannot open MaxMind database: `));
  });

  it('serve refuses the same missing file at start, with its line', async () => {
    const file = config('serve.yaml', `data: ${dir}\ngeoip: ./nowhere.mmdb\n`);
    const r = await runCli(['serve', '--config', file, '--listen', '127.0.0.1:0'], 15_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gslbd: ${file}:3: geoip: ${dir}/nowhere.mmdb: no such file\n`);
  });
});
