// `--workers 2` end to end: a real gslbd process, its main thread the primary and two worker
// threads answering on one address (SO_REUSEPORT), the ops fixture's API and probed pool, real
// nsupdate. Which worker answered a query is read from the query log (`--query-log-sample 1`: each
// worker's lines carry its number and thread id); the kernel spreads queries over the workers by
// source port, so each batch is sent from many sockets. A worker is made to die as a bug would
// kill it (an exception nothing catches) by the tests' fault switch, GSLBD_TEST_WORKER_FAULT: worker
// N throws on a query for wN.<that name>.

import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { decodeMessage } from '../helpers/message.ts';
import { bothProbed, fqdn, metric, startOps, ZONE, type OpsServer } from '../helpers/ops.ts';
import { buildQuery, tcpExchange, udpExchange } from '../helpers/raw.ts';
import { until } from '../helpers/listeners.ts';
import { makeKey } from '../update/helpers.ts';

const key = makeKey('workers-key.');
const keyName = nameToText(key.name).replace(/\.$/, '');
const CRASH = 'crash.invalid.';
let s: OpsServer;
let port: number;

beforeAll(async () => {
  s = await startOps({
    args: ['--workers', '2', '--query-log-sample', '1', '--tsig-key', `${keyName}:${key.algorithm}:${key.base64}`],
    env: { GSLBD_HISTORY_STEP: '1s', GSLBD_TEST_WORKER_FAULT: CRASH },
  });
  port = s.gslbd.port;
  await s.gslbd.waitForLog((l) => l.msg === 'workers ready', 20_000);
  await bothProbed(s);
}, 40_000);
afterAll(async () => {
  await s?.stop();
});

/**
 * `n` queries for `name` A at once, each from a socket of its own (so its own source port), with
 * ids 0..n-1; resolves with each reply's A addresses, sorted ('no reply' when none came).
 */
async function spread(n: number, name: string): Promise<string[][]> {
  const replies = await Promise.all(
    Array.from({ length: n }, (_, id) => udpExchange(port, buildQuery(name, 1, { id }), 2000)),
  );
  return replies.map((r) => {
    if (!r) return ['no reply'];
    return decodeMessage(r)
      .answer.map((line) => line.split(' '))
      .filter((f) => f[3] === 'A')
      .map((f) => f[4]!)
      .sort();
  });
}

/** Query log lines so far, by the worker that wrote them (and its thread). */
function answeredBy(from = 0): Map<string, number> {
  const by = new Map<string, number>();
  for (const l of s.gslbd.logs.slice(from)) {
    if (l.msg !== 'query') continue;
    const k = `${l.worker as number}/${l.thread as number}`;
    by.set(k, (by.get(k) ?? 0) + 1);
  }
  return by;
}

/** The thread id of each worker as the primary last logged it starting. */
function workerThreads(): Map<number, number> {
  const threads = new Map<number, number>();
  for (const l of s.gslbd.logs) if (l.msg === 'worker started') threads.set(l.worker as number, l.thread as number);
  return threads;
}

/**
 * Makes worker `n` die (GSLBD_TEST_WORKER_FAULT): queries for its fault name from many source ports
 * until one reaches it; resolves with the primary's log line of its exit.
 */
async function crash(n: number, thread: number): Promise<Record<string, unknown>> {
  const exited = s.gslbd.waitForLog((l) => l.msg === 'worker exited: restarting it' && l.thread === thread, 15_000);
  let gone = false;
  void exited.then(() => (gone = true));
  for (let i = 0; i < 50 && !gone; i++) {
    await Promise.all(Array.from({ length: 8 }, () => udpExchange(port, buildQuery(`w${n}.${CRASH}`, 1), 300)));
  }
  return exited;
}

function nsupdate(lines: string[]): Promise<number> {
  const args = ['-t', '10', '-u', '2', '-r', '1', '-y', `${key.algorithm}:${keyName}:${key.base64}`];
  const script = [`server 127.0.0.1 ${port}`, `zone ${ZONE}`, ...lines, 'send', ''].join('\n');
  return new Promise((resolve) => {
    const child = execFile('nsupdate', args, { timeout: 20_000 }, (err) =>
      resolve(err ? Number((err as { code?: number }).code ?? 1) : 0),
    );
    child.stdin!.end(script);
  });
}

describe('--workers 2', () => {
  it('starts two worker threads in the one process, each answering on the same address', async () => {
    const threads = workerThreads();
    expect([...threads.keys()].sort()).toEqual([1, 2]);
    expect(new Set(threads.values()).size).toBe(2);
    // One process: every line, the workers' too, has its pid.
    expect(s.gslbd.logs.filter((l) => l.pid !== s.gslbd.proc.pid)).toEqual([]);
    // The primary binds no DNS socket: every "listening" line is a worker's, all on one port.
    const listening = s.gslbd.logs.filter((l) => l.msg === 'listening');
    expect(listening.map((l) => l.worker).sort()).toEqual([1, 2]);
    expect(new Set(listening.map((l) => l.port))).toEqual(new Set([port]));
  });

  it('both workers answer, and /metrics sums their query counts exactly', async () => {
    const before = await s.metrics();
    const from = s.gslbd.logs.length;
    const K = 200;
    const answers = [...(await spread(K / 2, fqdn('both'))), ...(await spread(K / 2, fqdn('both')))];
    expect(answers.every((a) => a.join() === '198.51.100.61,198.51.100.62')).toBe(true);
    await until(
      () => [...answeredBy(from).values()].reduce((a, b) => a + b, 0) === K,
      5000,
      'a query log line per query',
    );
    const by = answeredBy(from);
    expect(by.size).toBe(2);
    for (const n of by.values()) expect(n).toBeGreaterThan(0);
    const after = await s.metrics();
    expect(metric(after, 'gslbd_queries_total') - metric(before, 'gslbd_queries_total')).toBe(K);
    const q = { zone: ZONE, qtype: 'A', rcode: 'NOERROR', transport: 'udp' };
    expect(metric(after, 'gslbd_queries_total', q) - metric(before, 'gslbd_queries_total', q)).toBe(K);
    // Two answers per query, one of each target.
    const pool = { pool: fqdn('both') };
    expect(metric(after, 'gslbd_pool_answers_total', pool) - metric(before, 'gslbd_pool_answers_total', pool)).toBe(
      2 * K,
    );
    expect(
      metric(after, 'gslbd_pool_answers_total', { ...pool, target: '198.51.100.61' }) -
        metric(before, 'gslbd_pool_answers_total', { ...pool, target: '198.51.100.61' }),
    ).toBe(K);
  });

  it("the status page's charts count both workers' queries and answers", { timeout: 20_000 }, async () => {
    type History = {
      times: number[];
      queries: { zone: string; rcode: string; counts: (number | null)[] }[];
      shares: { pool: string; targets: { address: string; values: (number | null)[] }[] }[];
    };
    const history = async () => (await s.api('GET', '/v1/history')).body as History;
    const counted = (h: History) =>
      h.queries
        .filter((q) => q.zone === ZONE && q.rcode === 'NOERROR')
        .flatMap((q) => q.counts)
        .reduce((a: number, b) => a + (b ?? 0), 0);
    // Queries of the tests before may still be on their way into a sample: wait for a quiet second.
    let before = await history();
    await until(
      async () => {
        await new Promise((r) => setTimeout(r, 1100));
        const now = await history();
        const quiet = counted(now) === counted(before);
        before = now;
        return quiet;
      },
      10_000,
      'the chart to catch up with earlier queries',
      0,
    );
    const from = s.gslbd.logs.length;
    const K = 100;
    await spread(K, fqdn('both'));
    // Both workers answered some of them.
    await until(() => answeredBy(from).size === 2, 5000, 'both workers in the query log');
    await until(async () => counted(await history()) - counted(before) === K, 10_000, `${K} more queries charted`, 200);
    const both = (await history()).shares.find((p) => p.pool === fqdn('both'))!;
    expect(both.targets.map((t) => t.address).sort()).toEqual(['198.51.100.61', '198.51.100.62']);
    expect(both.targets[0]!.values.filter((v) => v !== null).at(-1)).toBe(0.5);
  });

  it('answers over TCP from every worker', async () => {
    const before = await s.metrics();
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, id) => tcpExchange(port, [buildQuery('www.ops.example.net', 1, { id })])),
    );
    for (const [r] of replies) expect(decodeMessage(r!).answer.join()).toContain('192.0.2.80');
    const tcp = { transport: 'tcp' };
    expect(metric(await s.metrics(), 'gslbd_queries_total', tcp) - metric(before, 'gslbd_queries_total', tcp)).toBe(16);
  });

  it("a change through the API is in every worker's answers as soon as it is acknowledged", async () => {
    for (let i = 1; i <= 5; i++) {
      const address = `192.0.2.${110 + i}`;
      const put = await s.api('PUT', `/v1/zones/${ZONE}/rrsets/fresh/A`, { ttl: 60, records: [address] });
      expect(put.status).toBeLessThan(300);
      const from = s.gslbd.logs.length;
      const answers = await spread(64, fqdn('fresh'));
      expect(answers.filter((a) => a.join() !== address)).toEqual([]);
      await until(() => answeredBy(from).size === 2, 5000, 'both workers in the query log');
    }
  });

  it("an RFC 2136 UPDATE sent to a worker is committed by the primary and in every worker's answers once acknowledged", async () => {
    for (let i = 1; i <= 3; i++) {
      const address = `192.0.2.${120 + i}`;
      expect(
        await nsupdate([`update delete viaupdate.${ZONE} A`, `update add viaupdate.${ZONE} 60 A ${address}`]),
      ).toBe(0);
      const answers = await spread(64, fqdn('viaupdate'));
      expect(answers.filter((a) => a.join() !== address)).toEqual([]);
    }
    // Journaled by the primary, which counts it.
    expect(
      metric(await s.metrics(), 'gslbd_updates_total', { source: 'update', result: 'applied' }),
    ).toBeGreaterThanOrEqual(3);
  });

  it("a health change found by the primary's probes is followed by every worker", async () => {
    const both = '127.0.0.2,127.0.0.3';
    expect((await spread(32, fqdn('checked'))).filter((a) => a.join() !== both)).toEqual([]);
    await s.a.stop();
    try {
      await until(
        async () => (await spread(32, fqdn('checked'))).every((a) => a.join() === '127.0.0.3'),
        10_000,
        'every worker answering without 127.0.0.2',
      );
      const status = (await s.api('GET', '/v1/status')).body;
      const checked = status.zones[0].pools.find((p: { pool: string }) => p.pool === fqdn('checked'));
      expect(checked.targets.find((t: { address: string }) => t.address === '127.0.0.2').state).toBe('down');
      // Probes come from one process only: one connection per interval, not one per worker.
    } finally {
      await s.a.start();
    }
    await until(
      async () => (await spread(32, fqdn('checked'))).every((a) => a.join() === both),
      10_000,
      'every worker answering with 127.0.0.2 again',
    );
  });

  it('probes each endpoint from the primary only: one probe loop, not one per worker', async () => {
    const seen = s.b.accepted.length;
    await new Promise((r) => setTimeout(r, 3000));
    // A 1 s interval with the connection kept open between probes: a few connections at most in
    // 3 s, where a probe loop per process would make at least three times as many.
    expect(s.b.accepted.length - seen).toBeLessThanOrEqual(4);
  });

  it('SIGHUP and /v1/reload reach every worker before they are reported done', async () => {
    const zoneFile = path.join(s.zones, 'ops.example.net.zone');
    appendFileSync(zoneFile, 'reloaded1 IN A 192.0.2.131\n');
    const from = s.gslbd.logs.length;
    process.kill(s.gslbd.proc.pid!, 'SIGHUP');
    await until(
      () => s.gslbd.logs.slice(from).filter((l) => l.msg === 'worker reloaded').length === 2,
      10_000,
      'two workers reloaded',
    );
    const reloaded = s.gslbd.logs.slice(from).filter((l) => l.msg === 'worker reloaded');
    expect(reloaded.map((l) => [l.worker, l.loaded, l.failed]).sort()).toEqual([
      [1, 1, 0],
      [2, 1, 0],
    ]);
    expect((await spread(64, fqdn('reloaded1'))).filter((a) => a.join() !== '192.0.2.131')).toEqual([]);

    appendFileSync(zoneFile, 'reloaded2 IN A 192.0.2.132\n');
    expect((await s.api('POST', '/v1/reload')).status).toBe(200);
    expect((await spread(64, fqdn('reloaded2'))).filter((a) => a.join() !== '192.0.2.132')).toEqual([]);
  });

  it('restarts a worker that died, with the current state, and answering goes on', async () => {
    // A change made before the death: the new worker must start with it.
    expect(
      (await s.api('PUT', `/v1/zones/${ZONE}/rrsets/before-kill/A`, { ttl: 60, records: ['192.0.2.141'] })).status,
    ).toBeLessThan(300);
    const old = workerThreads().get(2)!;
    const from = s.gslbd.logs.length;
    const exited = await crash(2, old);
    expect(exited).toMatchObject({ worker: 2, code: 1 });
    expect(exited.err).toMatch(/GSLBD_TEST_WORKER_FAULT/);
    // From here its sockets are gone: worker 1 answers everything until worker 2 is back.
    const during: string[][] = [];
    let restarted = false;
    const restart = s.gslbd
      .waitForLog((l) => l.msg === 'worker started' && l.worker === 2 && l.thread !== old, 15_000)
      .then(() => (restarted = true));
    while (!restarted) {
      during.push(...(await spread(8, fqdn('before-kill'))));
      await new Promise((r) => setTimeout(r, 20));
    }
    await restart;
    expect(during.filter((a) => a.join() !== '192.0.2.141')).toEqual([]);
    const thread = workerThreads().get(2)!;
    expect(thread).not.toBe(old);
    // The process lives on: the primary kept its API, and the new worker answers with the state it was given at start.
    expect((await s.api('GET', '/v1/status')).status).toBe(200);
    const after = s.gslbd.logs.length;
    expect((await spread(64, fqdn('before-kill'))).filter((a) => a.join() !== '192.0.2.141')).toEqual([]);
    await until(() => answeredBy(after).has(`2/${thread}`), 5000, 'the new worker 2 in the query log');
    expect(s.gslbd.logs.slice(from).some((l) => l.msg === 'listening' && l.thread === thread)).toBe(true);
    // And it follows changes made after its start.
    expect(
      (await s.api('PUT', `/v1/zones/${ZONE}/rrsets/before-kill/A`, { ttl: 60, records: ['192.0.2.142'] })).status,
    ).toBe(200);
    expect((await spread(64, fqdn('before-kill'))).filter((a) => a.join() !== '192.0.2.142')).toEqual([]);
  });

  it('restarts a worker that keeps dying young later each time', async () => {
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      const thread = workerThreads().get(1)!;
      const exited = await crash(1, thread);
      delays.push(exited.restartInMs as number);
      await until(() => workerThreads().get(1) !== thread, 15_000, 'worker 1 started again');
    }
    // The first death restarts at once; the worker's restarts then lived less than 10 s each, so
    // the waits grow (0.25 s, 0.5 s, ...). Whether the first one counts as young depends on how
    // long worker 1 had run: 0, 250, 500 or 0, 0, 250.
    expect(delays[0]).toBe(0);
    expect(delays[2]).toBeGreaterThan(delays[1]!);
    expect(delays[2]).toBeGreaterThanOrEqual(250);
    expect((await spread(32, 'www.ops.example.net')).filter((a) => a.join() !== '192.0.2.80')).toEqual([]);
  }, 40_000);

  it('SIGTERM stops the primary and every worker, exit code 0', async () => {
    const threads = [...workerThreads().values()];
    const from = s.gslbd.logs.length;
    expect(await s.gslbd.stop()).toBe(0);
    // Each worker stopped when told (its listeners closed), none died and was restarted.
    expect(s.gslbd.logs.slice(from).filter((l) => l.msg === 'worker exited: restarting it')).toEqual([]);
    expect(threads).toHaveLength(2);
  });
});
