// `gslbd serve --config FILE` refuses to start on a bad file, saying where and why.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/gslbd.ts';

function configFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'gslbd-config-')), 'gslbd.yaml');
  writeFileSync(file, text);
  return file;
}

describe('gslbd serve --config', () => {
  it('exits 1 with every error of the file as file:line: path: reason', async () => {
    const file = configFile('zones: ./zones\nlisten: [nowhere]\napi:\n  listen: 127.0.0.1:8053\n  tokens: []\n');
    const r = await runCli(['serve', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      [
        `gslbd: ${file}:2: listen[0]: listen address "nowhere": "nowhere" is not an IP address`,
        `${file}:5: api.tokens: at least one token is needed: without one every request is refused`,
        '',
      ].join('\n'),
    );
  });

  it('exits 1 naming an unset environment variable and its line', async () => {
    const file = configFile(
      'api:\n  listen: 127.0.0.1:8053\n  tokens:\n    - { token: "${GSLBD_TEST_UNSET_TOKEN}", access: write }\n',
    );
    const r = await runCli(['serve', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `gslbd: ${file}:4: api.tokens[0].token: environment variable GSLBD_TEST_UNSET_TOKEN is not set\n`,
    );
  });

  it('exits 1 for an empty listen list, which would answer nothing and never be restarted', async () => {
    const file = configFile('zones: ./zones\nlisten: []\n');
    const r = await runCli(['serve', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `gslbd: ${file}:2: listen: an empty list: gslbd would answer no query (leave the key out for the defaults)\n`,
    );
  });

  it('exits 1 when data names a regular file, at its line, without a stack trace', async () => {
    const file = configFile('zones: ./zones\n\ndata: ./gslbd.yaml\n');
    const r = await runCli(['serve', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gslbd: ${file}:3: data: ${file} is not a directory\n`);
  });

  it('exits 1 when --data names a regular file', async () => {
    const file = configFile('');
    const r = await runCli(['serve', '--config', file, '--listen', '127.0.0.1:0', '--data', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gslbd: --data: ${file} is not a directory\n`);
  });

  it('exits 1 when the file cannot be read', async () => {
    const r = await runCli(['serve', '--config', '/nonexistent/gslbd.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^gslbd: \/nonexistent\/gslbd.yaml: cannot read: ENOENT/);
  });
});
