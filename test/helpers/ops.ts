// The operability tests (test/e2e/ops-*.test.ts): a real gslbd serving test/fixtures/ops with its
// HTTP API on a loopback port, two TCP listeners its `checked` pool probes, API calls with the
// tokens of its gslbd.yaml, and /metrics read back as numbers.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startGslbd, type Gslbd } from './gslbd.ts';
import { tcpListener, until, type Listener } from './listeners.ts';

export const ZONE = 'ops.example.net.';
export const FIXTURE = path.join(ROOT, 'test/fixtures/ops/zones');
const POOLS = 'ops.example.net.pools.yaml';
export const WRITE = 'ops-write-token-0123456789';
export const READ = 'ops-read-token-0123456789';

/** `label.ops.example.net.` */
export const fqdn = (label: string): string => `${label}.${ZONE}`;

export interface Reply {
  readonly status: number;
  readonly body: any;
  readonly text: string;
  readonly type: string | null;
}

export interface OpsServer {
  readonly gslbd: Gslbd;
  /** http://127.0.0.1:PORT of the API. */
  readonly base: string;
  /** The zones directory the server reads (a copy of the fixture the test may change). */
  readonly zones: string;
  /** The listeners behind the `checked` pool: a = 127.0.0.2, b = 127.0.0.3. */
  readonly a: Listener;
  readonly b: Listener;
  /** An API request with the write token (or `token`; null sends none). */
  api(method: string, url: string, body?: unknown, token?: string | null): Promise<Reply>;
  /** Every sample of /metrics. */
  metrics(): Promise<Sample[]>;
  /** Stops the server (resolves with its exit code); the listeners and zones too unless reused. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  /** More `gslbd serve` flags (e.g. `--data DIR` to keep the journal across a restart). */
  readonly args?: readonly string[];
  /** More top-level lines for gslbd.yaml. */
  readonly config?: readonly string[];
  /** Reuse these zones and listeners (a restart) instead of making new ones. */
  readonly reuse?: Pick<OpsServer, 'zones' | 'a' | 'b'>;
  /** More environment for gslbd (e.g. GSLBD_HISTORY_STEP). */
  readonly env?: Record<string, string>;
}

/** Starts listeners, copies the fixture with their ports, and starts gslbd with the API on port 0. */
export async function startOps(opts: StartOptions = {}): Promise<OpsServer> {
  const a = opts.reuse?.a ?? (await tcpListener('127.0.0.2'));
  const b = opts.reuse?.b ?? (await tcpListener('127.0.0.3'));
  let zones = opts.reuse?.zones;
  if (!zones) {
    zones = mkdtempSync(path.join(os.tmpdir(), 'gslbd-ops-zones-'));
    cpSync(FIXTURE, zones, { recursive: true });
    const pools = readFileSync(path.join(FIXTURE, POOLS), 'utf8')
      .replaceAll('${PORT_A}', String(a.port))
      .replaceAll('${PORT_B}', String(b.port));
    writeFileSync(path.join(zones, POOLS), pools);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-ops-config-'));
  const config = path.join(dir, 'gslbd.yaml');
  writeFileSync(
    config,
    [
      `zones: ${zones}`,
      'api:',
      '  listen: 127.0.0.1:0',
      '  tokens:',
      '    - { name: operator, token: "${GSLBD_API_TOKEN}", access: write }',
      `    - { name: viewer, token: ${READ} }`,
      ...(opts.config ?? []),
      '',
    ].join('\n'),
  );
  const gslbd = await startGslbd(['--config', config, ...(opts.args ?? [])], { GSLBD_API_TOKEN: WRITE, ...opts.env });
  const line = await gslbd.waitForLog((l) => l.msg === 'api listening');
  const base = `http://127.0.0.1:${line.port as number}`;
  const api = async (method: string, url: string, body?: unknown, token: string | null = WRITE): Promise<Reply> => {
    const res = await fetch(base + url, {
      method,
      headers: {
        ...(token !== null && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      // /metrics and / are not JSON.
    }
    return { status: res.status, body: parsed, text, type: res.headers.get('content-type') };
  };
  return {
    gslbd,
    base,
    zones,
    a,
    b,
    api,
    async metrics() {
      const r = await api('GET', '/metrics', undefined, READ);
      if (r.status !== 200) throw new Error(`/metrics: HTTP ${r.status}: ${r.text}`);
      return parseMetrics(r.text);
    },
    async stop() {
      const code = await gslbd.stop();
      rmSync(dir, { recursive: true, force: true });
      if (!opts.reuse) {
        await Promise.all([a.stop(), b.stop()]);
        rmSync(zones, { recursive: true, force: true });
      }
      return code;
    },
  };
}

/**
 * Resolves once both targets of the `checked` pool have passed a probe: a check counts as up
 * before its first probe, so "up" alone does not mean the listener was reached.
 */
export async function bothProbed(s: OpsServer): Promise<void> {
  await until(
    async () => {
      const status = (await s.api('GET', '/v1/status', undefined, READ)).body;
      const checked = status.zones[0]?.pools.find((p: { pool: string }) => p.pool === fqdn('checked'));
      return checked?.targets.every((t: { last_probe: { ok: boolean } | null }) => t.last_probe?.ok === true) ?? false;
    },
    10_000,
    'a passing probe of both checked targets',
  );
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format (0.0.4), samples only: `name{a="x",b="y"} value`. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function metric(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Whether any sample is named `name`. */
export const has = (samples: readonly Sample[], name: string): boolean => samples.some((s) => s.name === name);
