// /metrics end to end: a real gslbd with its API, real dig queries, real TCP health checks against
// listeners this test starts and stops, API changes and real nsupdate UPDATEs; each test reads the
// counters before and after and checks they moved by exactly what it did.

import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { dig } from '../helpers/dig.ts';
import { until } from '../helpers/listeners.ts';
import { bothProbed, fqdn, has, metric, READ, startOps, ZONE, type OpsServer, type Sample } from '../helpers/ops.ts';
import { makeKey } from '../update/helpers.ts';

const key = makeKey('ops-key.');
const keyName = nameToText(key.name).replace(/\.$/, '');
let s: OpsServer;

beforeAll(async () => {
  s = await startOps({ args: ['--tsig-key', `${keyName}:${key.algorithm}:${key.base64}`] });
  await bothProbed(s);
  expect(metric(await s.metrics(), 'gslbd_check_up')).toBe(2);
}, 30_000);
afterAll(async () => {
  await s?.stop();
});

/** What moved between two scrapes, for the samples of `name` matching `labels`. */
const delta = (before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}) =>
  metric(after, name, labels) - metric(before, name, labels);

/** Runs `dig` once per entry, one after another (counters then move by exactly these). */
async function digAll(queries: string[][]): Promise<string[]> {
  const statuses: string[] = [];
  for (const q of queries) statuses.push((await dig(s.gslbd.port, q)).status);
  return statuses;
}

function nsupdate(lines: string[], signed: boolean): Promise<number> {
  const args = [
    '-t',
    '10',
    '-u',
    '2',
    '-r',
    '1',
    ...(signed ? ['-y', `${key.algorithm}:${keyName}:${key.base64}`] : []),
  ];
  const script = [`server 127.0.0.1 ${s.gslbd.port}`, `zone ${ZONE}`, ...lines, 'send', ''].join('\n');
  return new Promise((resolve) => {
    const child = execFile('nsupdate', args, { timeout: 20_000 }, (err) =>
      resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
    );
    child.stdin!.end(script);
  });
}

describe('/metrics', { timeout: 60_000 }, () => {
  it('needs a token: 401 without one, the Prometheus text format with a read token', async () => {
    const none = await s.api('GET', '/metrics', undefined, null);
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('ERR_UNAUTHORIZED');
    expect((await s.api('GET', '/metrics', undefined, 'not-a-token-0123456789')).status).toBe(401);
    const ok = await s.api('GET', '/metrics', undefined, READ);
    expect(ok.status).toBe(200);
    expect(ok.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(ok.text).toContain('# TYPE gslbd_queries_total counter');
  });

  it('counts every query by zone, query type, rcode and transport, exactly as many as dig sent', async () => {
    const before = await s.metrics();
    const statuses = await digAll([
      ['www.ops.example.net', 'A'],
      ['www.ops.example.net', 'A'],
      ['www.ops.example.net', 'A'],
      ['www.ops.example.net', 'A', '+tcp'],
      ['www.ops.example.net', 'A', '+tcp'],
      ['www.ops.example.net', 'AAAA'],
      ['nothing.ops.example.net', 'A'],
      ['nothing.ops.example.net', 'A', '+tcp'],
      ['www.example.org', 'A'],
      ['www.example.org', 'MX'],
    ]);
    expect(statuses).toEqual([
      'NOERROR',
      'NOERROR',
      'NOERROR',
      'NOERROR',
      'NOERROR',
      'NOERROR',
      'NXDOMAIN',
      'NXDOMAIN',
      'REFUSED',
      'REFUSED',
    ]);
    const after = await s.metrics();
    const q = (labels: Record<string, string>) => delta(before, after, 'gslbd_queries_total', labels);
    expect(q({ zone: ZONE, qtype: 'A', rcode: 'NOERROR', transport: 'udp' })).toBe(3);
    expect(q({ zone: ZONE, qtype: 'A', rcode: 'NOERROR', transport: 'tcp' })).toBe(2);
    expect(q({ zone: ZONE, qtype: 'AAAA', rcode: 'NOERROR', transport: 'udp' })).toBe(1);
    expect(q({ zone: ZONE, qtype: 'A', rcode: 'NXDOMAIN', transport: 'udp' })).toBe(1);
    expect(q({ zone: ZONE, qtype: 'A', rcode: 'NXDOMAIN', transport: 'tcp' })).toBe(1);
    // A name in no zone served: no zone label to give it.
    expect(q({ zone: '', qtype: 'A', rcode: 'REFUSED', transport: 'udp' })).toBe(1);
    expect(q({ zone: '', qtype: 'MX', rcode: 'REFUSED', transport: 'udp' })).toBe(1);
    expect(q({})).toBe(10);
  });

  it("counts each target handed out: a pool's answers sum to its queries times its answers per query", async () => {
    const before = await s.metrics();
    await digAll(Array.from({ length: 6 }, () => [fqdn('rr'), 'A']));
    await digAll(Array.from({ length: 5 }, () => [fqdn('both'), 'A']));
    const after = await s.metrics();
    const answers = (pool: string, target?: string) =>
      delta(before, after, 'gslbd_pool_answers_total', { pool: fqdn(pool), ...(target && { target }) });
    // rr: one answer per query, rotating over three targets.
    expect(answers('rr')).toBe(6);
    expect(['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((t) => answers('rr', t))).toEqual([2, 2, 2]);
    // both: two answers per query, of two targets.
    expect(answers('both')).toBe(10);
    expect(answers('both', '198.51.100.61')).toBe(5);
    expect(answers('both', '198.51.100.62')).toBe(5);
    expect(delta(before, after, 'gslbd_pool_fallback_total')).toBe(0);
  });

  it('counts fallback answers while every target of a pool is drained, and shows the targets down', async () => {
    const drain = (op: string) =>
      s.api('POST', '/v1/batch', {
        changes: ['198.51.100.61', '198.51.100.62'].map((target) => ({
          op,
          zone: ZONE,
          pool: 'both',
          target,
          ...(op === 'set-override' && { state: 'drain' }),
        })),
      });
    expect((await drain('set-override')).status).toBe(200);
    try {
      const before = await s.metrics();
      expect(metric(before, 'gslbd_target_up', { pool: fqdn('both') })).toBe(0);
      for (let i = 0; i < 4; i++) {
        // fallback: all (fail open): every target answers.
        const r = await dig(s.gslbd.port, [fqdn('both'), 'A']);
        expect(r.answer.map((rr) => rr.data).sort()).toEqual(['198.51.100.61', '198.51.100.62']);
      }
      const after = await s.metrics();
      expect(delta(before, after, 'gslbd_pool_fallback_total', { pool: fqdn('both') })).toBe(4);
      expect(delta(before, after, 'gslbd_pool_fallback_total')).toBe(4);
      expect(delta(before, after, 'gslbd_pool_answers_total', { pool: fqdn('both') })).toBe(8);
    } finally {
      expect((await drain('clear-override')).status).toBe(200);
    }
    expect(metric(await s.metrics(), 'gslbd_target_up', { pool: fqdn('both') })).toBe(2);
  });

  it('counts probes and their duration; target and check go to 0 and a down transition is counted when a listener stops', async () => {
    const check = `tcp://127.0.0.3:${s.b.port}`;
    const target = { pool: fqdn('checked'), target: '127.0.0.3' };
    const first = await s.metrics();
    expect(metric(first, 'gslbd_check_up', { check })).toBe(1);
    expect(metric(first, 'gslbd_target_up', target)).toBe(1);
    // Probes keep coming (1 s interval): the counter and the histogram move together.
    await until(
      async () =>
        metric(await s.metrics(), 'gslbd_probes_total', { type: 'tcp', result: 'pass' }) >=
        metric(first, 'gslbd_probes_total', { type: 'tcp', result: 'pass' }) + 2,
      10_000,
      'two more passing probes',
    );
    const passing = await s.metrics();
    const pass = { type: 'tcp', result: 'pass' };
    expect(metric(passing, 'gslbd_probe_duration_seconds_count', pass)).toBe(
      metric(passing, 'gslbd_probes_total', pass),
    );
    expect(metric(passing, 'gslbd_probe_duration_seconds_bucket', { ...pass, le: '+Inf' })).toBe(
      metric(passing, 'gslbd_probes_total', pass),
    );
    expect(metric(passing, 'gslbd_probe_duration_seconds_sum', pass)).toBeGreaterThan(0);

    await s.b.stop();
    try {
      await until(
        async () => metric(await s.metrics(), 'gslbd_check_up', { check }) === 0,
        10_000,
        'the check of 127.0.0.3 down',
      );
      const down = await s.metrics();
      expect(metric(down, 'gslbd_target_up', target)).toBe(0);
      expect(metric(down, 'gslbd_target_up', { pool: fqdn('checked'), target: '127.0.0.2' })).toBe(1);
      expect(delta(first, down, 'gslbd_health_transitions_total', { to: 'down' })).toBe(1);
      expect(metric(down, 'gslbd_probes_total', { type: 'tcp', result: 'fail' })).toBeGreaterThanOrEqual(1);
      expect(metric(down, 'gslbd_probe_duration_seconds_count', { type: 'tcp', result: 'fail' })).toBe(
        metric(down, 'gslbd_probes_total', { type: 'tcp', result: 'fail' }),
      );
      expect((await dig(s.gslbd.port, [fqdn('checked'), 'A'])).answer.map((rr) => rr.data)).toEqual(['127.0.0.2']);
    } finally {
      await s.b.start();
    }
    await until(
      async () => metric(await s.metrics(), 'gslbd_check_up', { check }) === 1,
      10_000,
      'the check of 127.0.0.3 up again',
    );
    const up = await s.metrics();
    expect(metric(up, 'gslbd_target_up', target)).toBe(1);
    expect(delta(first, up, 'gslbd_health_transitions_total', { to: 'up' })).toBe(1);
  });

  it('counts API changes and RFC 2136 UPDATEs, applied and rejected', async () => {
    const before = await s.metrics();
    const weight = `/v1/zones/${ZONE}/pools/rr/targets/198.51.100.1/weight`;
    expect((await s.api('PUT', weight, { weight: 5 })).status).toBe(200);
    expect((await s.api('DELETE', weight)).status).toBe(200);
    expect((await s.api('PUT', weight, { weight: 500 })).status).toBe(400);
    expect((await s.api('PUT', weight, { weight: 5 }, READ)).status).toBe(403);
    expect(
      (
        await s.api('POST', '/v1/batch', {
          changes: [{ op: 'remove-target', zone: ZONE, pool: 'checked', target: '192.0.2.99' }],
        })
      ).status,
    ).toBe(404);
    expect(await nsupdate(['update add counted.ops.example.net 60 TXT "applied"'], true)).toBe(0);
    expect(await nsupdate(['update add counted.ops.example.net 60 TXT "unsigned"'], false)).not.toBe(0);
    const after = await s.metrics();
    const u = (source: string, result: string) => delta(before, after, 'gslbd_updates_total', { source, result });
    expect(u('api', 'applied')).toBe(2);
    // The read token's 403 is refused before it is a change: not counted.
    expect(u('api', 'rejected')).toBe(2);
    expect(u('update', 'applied')).toBe(1);
    expect(u('update', 'rejected')).toBe(1);
    expect((await dig(s.gslbd.port, ['counted.ops.example.net', 'TXT'])).answer.map((rr) => rr.data)).toEqual([
      '"applied"',
    ]);
  });

  it("shows each zone's serial, and a journal that grows with each change", async () => {
    const before = await s.metrics();
    const soa = async () => Number((await dig(s.gslbd.port, [ZONE, 'SOA'])).answer[0]!.data.split(/\s+/)[2]);
    expect(metric(before, 'gslbd_zone_serial', { zone: ZONE })).toBe(await soa());
    const put = await s.api('PUT', `/v1/zones/${ZONE}/rrsets/metrics/TXT`, { ttl: 60, records: ['"journaled"'] });
    expect(put.status).toBe(201);
    const after = await s.metrics();
    expect(delta(before, after, 'gslbd_zone_serial', { zone: ZONE })).toBe(1);
    expect(metric(after, 'gslbd_zone_serial', { zone: ZONE })).toBe(await soa());
    expect(metric(after, 'gslbd_journal_bytes')).toBeGreaterThan(metric(before, 'gslbd_journal_bytes'));
  });

  it('has the process metrics', async () => {
    const m = await s.metrics();
    for (const name of [
      'gslbd_process_cpu_seconds_total',
      'gslbd_process_resident_memory_bytes',
      'gslbd_process_start_time_seconds',
      'gslbd_process_open_fds',
      'gslbd_nodejs_eventloop_lag_seconds',
      'gslbd_nodejs_heap_size_used_bytes',
    ]) {
      expect(has(m, name), name).toBe(true);
    }
    expect(metric(m, 'gslbd_process_cpu_seconds_total')).toBeGreaterThan(0);
  });
});
