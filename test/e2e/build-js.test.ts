// The JavaScript `npm install` builds (scripts/build-js.ts) and bin/gslbd's choice of it: the build
// has a module for every source with no TypeScript import left; a gslbd started from it answers
// like one started from the sources, workers and geo pool included; bin/gslbd runs it while it is
// newer than every source and the sources once one is saved after it.

import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { dig } from '../helpers/dig.ts';
import { ROOT, startGslbd } from '../helpers/gslbd.ts';
import { poolQuery, UdpClient } from '../helpers/pool-queries.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'gslbd-build-'));
const out = path.join(tmp, 'build');

function build(to: string): void {
  const r = spawnSync(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', path.join(ROOT, 'scripts/build-js.ts'), '--out', to],
    { encoding: 'utf8' },
  );
  expect(r.stderr).toMatch(/modules built/);
  expect(r.status).toBe(0);
}

const sources = (dir: string, ext: string) =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => f.slice(0, -ext.length))
    .sort();

beforeAll(() => build(out), 30_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('scripts/build-js.ts', () => {
  it('writes a module for every source, importing .js, with each line where the source has it', () => {
    expect(sources(path.join(out, 'src'), '.js')).toEqual(sources(path.join(ROOT, 'src'), '.ts'));
    const service = readFileSync(path.join(out, 'src/9-main/service.js'), 'utf8');
    expect(service).toMatch(/from '\.\/geo-loader\.js'/);
    for (const f of sources(path.join(out, 'src'), '.js')) {
      const js = readFileSync(path.join(out, 'src', `${f}.js`), 'utf8');
      expect(js, f).not.toMatch(/from\s*'\.{1,2}\/[^']*\.ts'/);
      expect(js.split('\n').length, f).toBe(readFileSync(path.join(ROOT, 'src', `${f}.ts`), 'utf8').split('\n').length);
    }
  });

  it('serves from the build as from the sources: two worker threads, static names and a geo pool', async () => {
    const args = ['--zones', path.join(ROOT, 'zones'), '--workers', '2'];
    const built = await startGslbd(args, {}, { cli: path.join(out, 'src/9-main/cli.js') });
    const sourced = await startGslbd(['--zones', path.join(ROOT, 'zones')]);
    try {
      await built.waitForLog((l) => l.msg === 'workers ready', 20_000);
      const a = await dig(built.port, ['www.example.com', 'A']);
      expect(a.answer.map((r) => r.data)).toEqual(
        (await dig(sourced.port, ['www.example.com', 'A'])).answer.map((r) => r.data),
      );
      expect(a.answer).not.toHaveLength(0);
      // geo-proximity by ECS location: Amsterdam's, New York's and Singapore's subnets.
      const near = async (port: number) => {
        const c = new UdpClient(port);
        try {
          const subnets = ['193.0.0.0/24', '8.8.8.0/24', '1.1.1.0/24', '203.0.113.0/24'];
          return await c.queryAll(subnets.length, (i) => poolQuery('near.gslb.example.com', Type.A, subnets[i]));
        } finally {
          c.close();
        }
      };
      const got = (await near(built.port)).map((r) => r.answer.map((x) => x.data).join());
      expect(got).toEqual((await near(sourced.port)).map((r) => r.answer.map((x) => x.data).join()));
      expect(new Set(got).size).toBeGreaterThan(1);
    } finally {
      await built.stop();
      await sourced.stop();
    }
  }, 60_000);
});

describe('bin/gslbd', () => {
  it('runs the build while it is newer than every source, else the sources', () => {
    // A repository of its own: bin/, scripts/, src/ copied, its build made after them.
    const repo = path.join(tmp, 'repo');
    for (const d of ['bin', 'scripts', 'src']) cpSync(path.join(ROOT, d), path.join(repo, d), { recursive: true });
    for (const l of ['node_modules', 'package.json', 'native', '.node'])
      symlinkSync(path.join(ROOT, l), path.join(repo, l));
    const old = new Date(Date.now() - 60_000);
    for (const f of readdirSync(path.join(repo, 'src'), { recursive: true, encoding: 'utf8' }))
      utimesSync(path.join(repo, 'src', f), old, old);
    build(path.join(repo, 'build'));
    // `sh -x` shows the command it execs.
    const ran = () => {
      const r = spawnSync('sh', ['-x', path.join(repo, 'bin/gslbd'), '--version'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^gslbd \d/);
      const exec =
        r.stderr
          .split('\n')
          .filter((l) => /^\+ exec /.test(l))
          .pop() ?? '';
      return exec.includes('/build/src/9-main/cli.js') ? 'build' : exec.includes('/src/9-main/cli.ts') ? 'src' : exec;
    };
    expect(ran()).toBe('build');
    utimesSync(path.join(repo, 'src/0-base/name.ts'), new Date(), new Date());
    expect(ran()).toBe('src');
  }, 60_000);
});
