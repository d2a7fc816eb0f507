// The files operators plug in (contrib/): every gslbd_* metric the Grafana dashboard and the
// Prometheus rules name is one a running gslbd serves at /metrics (a cluster node with rrl: and
// cookies:, so that every family is there); the rules pass `promtool check rules` and their own
// `promtool test rules`; the systemd units pass `systemd-analyze verify`.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/gslbd.ts';
import { startEtcd, type EtcdServer } from '../helpers/etcd.ts';
import { READ, startOps, type OpsServer } from '../helpers/ops.ts';

const CONTRIB = path.join(ROOT, 'contrib');
const RULES = path.join(CONTRIB, 'prometheus/gslbd-rules.yml');
const DASHBOARD = path.join(CONTRIB, 'grafana/gslbd.json');

const found = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** Every gslbd_* name in `text`, the suffixes of a histogram's series taken back to its family. */
function metricNames(text: string): string[] {
  const names = new Set([...text.matchAll(/\bgslbd_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')));
  return [...names].sort();
}

/** The PromQL expressions of the dashboard's panels (and its variables' queries). */
function dashboardExprs(): string[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { definition?: string }[] };
  };
  return [
    ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...d.templating.list.map((v) => v.definition ?? ''),
  ];
}

describe('contrib: metrics named exist', { timeout: 60_000 }, () => {
  let etcd: EtcdServer;
  let s: OpsServer;
  beforeAll(async () => {
    etcd = await startEtcd();
    s = await startOps({
      config: [
        'rrl:',
        '  rate: 1000',
        'cookies:',
        `  secret: "${'ab'.repeat(16)}"`,
        'cluster:',
        '  node: a',
        '  etcd:',
        `    endpoints: [${etcd.endpoint}]`,
      ],
    });
  }, 60_000);
  afterAll(async () => {
    await s?.stop();
    await etcd?.stop();
  });

  it("every gslbd_* metric of the dashboard and the rules is in a running gslbd's /metrics", async () => {
    const text = (await s.api('GET', '/metrics', undefined, READ)).text;
    // A family is there once it is declared, before its first sample.
    const served = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(25);
    const named = metricNames([...exprs, readFileSync(RULES, 'utf8')].join('\n'));
    expect(named).toEqual(
      expect.arrayContaining(['gslbd_target_up', 'gslbd_pool_fallback_total', 'gslbd_cluster_detached']),
    );
    expect(named.filter((n) => !served.has(n))).toEqual([]);
  });
});

describe('contrib: Prometheus rules', () => {
  const promtool = found('promtool');
  it.skipIf(!promtool)('pass promtool check rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(r.status).toBe(0);
  });

  it.skipIf(!promtool)('fire as their tests say (promtool test rules)', () => {
    const r = spawnSync('promtool', ['test', 'rules', 'gslbd-rules.test.yml'], {
      cwd: path.dirname(RULES),
      encoding: 'utf8',
    });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it.skipIf(promtool)('skipped: promtool is not installed (Debian package prometheus)', () => {});
});

describe('contrib: systemd units', () => {
  const analyze = found('systemd-analyze');
  it.skipIf(!analyze)('pass systemd-analyze verify, with gslbd where ExecStart says', () => {
    // ExecStart names /opt/gslbd/bin/gslbd, where the README installs it; verify wants the
    // command to exist, so the copies run this checkout's bin/gslbd.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-units-'));
    const units: string[] = [];
    for (const f of readdirSync(path.join(CONTRIB, 'systemd'))) {
      // A template is verified as one of its instances.
      const name = f.replace('@.service', '@web.service');
      const text = readFileSync(path.join(CONTRIB, 'systemd', f), 'utf8');
      expect(text).toContain('ExecStart=/opt/gslbd/bin/gslbd ');
      writeFileSync(path.join(dir, name), text.replaceAll('/opt/gslbd/bin/gslbd', path.join(ROOT, 'bin/gslbd')));
      units.push(path.join(dir, name));
    }
    expect(units.map((u) => path.basename(u)).sort()).toEqual(['gslbd-agent@web.service', 'gslbd.service']);
    const r = spawnSync('systemd-analyze', ['verify', ...units], { encoding: 'utf8' });
    // verify exits 0 on an unknown key, but says so: nothing said is the pass.
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(analyze)('skipped: systemd-analyze is not installed', () => {});
});
