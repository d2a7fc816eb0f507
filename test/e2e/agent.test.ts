// `gslbd report` and `gslbd agent` against a real gslbd: each source read from the real thing (a
// listener holding N established connections, an HTTP endpoint serving Prometheus text, a command,
// the host's load average), the report seen through the API with valid_for three intervals; a
// refused token ends the agent with exit 1; an API answering 503 is retried with backoff, not
// flooded; SIGTERM stops it with exit 0.

import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';
import { READ, startOps, WRITE, ZONE, type OpsServer } from '../helpers/ops.ts';

let s: OpsServer;
beforeAll(async () => {
  s = await startOps();
}, 30_000);
afterAll(async () => {
  await s?.stop();
});

interface Agent {
  readonly proc: ChildProcess;
  stderr(): string;
  /** SIGTERM, then its exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

function agent(args: string[], opts: { api?: string; token?: string } = {}): Agent {
  const proc = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      CLI,
      'agent',
      ...args,
      '--api',
      opts.api ?? s.base,
      '--token',
      opts.token ?? WRITE,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return {
    proc,
    exited,
    stderr: () => err,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

const targetOf = async (pool: string, address: string) =>
  (await s.api('GET', `/v1/zones/${ZONE}/pools/${pool}/targets/${address}`, undefined, READ)).body;

/** Waits until the target's load report says `load`, and returns the report. */
async function loadBecomes(address: string, load: number, what: string) {
  let last: { load: number; capacity: number; reported_at: string; expires_at: string } | null = null;
  await until(
    async () => {
      last = (await targetOf('least', address)).load;
      return last?.load === load;
    },
    15_000,
    what,
    50,
  );
  return last!;
}

/** Seconds a report is valid for, from its stamps. */
const validFor = (r: { reported_at: string; expires_at: string }) =>
  (Date.parse(r.expires_at) - Date.parse(r.reported_at)) / 1000;

describe('gslbd report', { timeout: 60_000 }, () => {
  it('pushes one load report for POOL/ADDRESS, valid for --valid-for', async () => {
    const r = await runCli(
      ['report', 'least/198.51.100.31', '--load', '3', '--capacity', '10', '--valid-for', '45s'],
      30_000,
      { GSLBD_API: s.base, GSLBD_API_TOKEN: WRITE },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`reported least.${ZONE}/198.51.100.31: load 3 of 10, valid for 45s\n`);
    const t = await targetOf('least', '198.51.100.31');
    expect(t.load).toMatchObject({ load: 3, capacity: 10 });
    expect(validFor(t.load)).toBe(45);
  });

  it('a read token: exit 1 naming the URL and the HTTP status', async () => {
    const r = await runCli(['report', 'least/198.51.100.31', '--load', '1', '--capacity', '2'], 30_000, {
      GSLBD_API: s.base,
      GSLBD_API_TOKEN: READ,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `gslbd: PUT ${s.base}/v1/zones/${encodeURIComponent(ZONE)}/pools/${encodeURIComponent(`least.${ZONE}`)}/targets/198.51.100.31/load: HTTP 403: token "viewer" may only read\n`,
    );
  });
});

describe('gslbd agent', { timeout: 60_000 }, () => {
  it('--connections PORT: the established TCP connections of a real listener, as they come and go', async () => {
    const held: net.Socket[] = [];
    const server = net.createServer((sock) => held.push(sock));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const clients: net.Socket[] = [];
    const connect = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const c = net.connect(port, '127.0.0.1');
        await new Promise((r) => c.once('connect', r));
        clients.push(c);
      }
    };
    const a = agent(['least/198.51.100.32', '--connections', String(port), '--capacity', '50', '--interval', '300ms']);
    try {
      await connect(3);
      const first = await loadBecomes('198.51.100.32', 3, 'the agent to report 3 connections');
      expect(first.capacity).toBe(50);
      // valid_for: three intervals.
      expect(validFor(first)).toBeCloseTo(0.9, 3);
      await connect(4);
      await loadBecomes('198.51.100.32', 7, 'the agent to report 7 connections');
      for (const c of clients.splice(0, 5)) c.destroy();
      await loadBecomes('198.51.100.32', 2, 'the agent to report 2 connections');
      expect(await a.stop()).toBe(0);
      expect(a.stderr()).toContain('stopped');
    } finally {
      await a.stop();
      for (const c of clients) c.destroy();
      for (const c of held) c.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  it('--prometheus URL --metric: the sum of the selected samples of a real endpoint', async () => {
    let inflight = 4;
    const server = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/plain; version=0.0.4');
      res.end(
        [
          '# HELP app_inflight requests in flight',
          '# TYPE app_inflight gauge',
          `app_inflight{pool="a",instance="x"} ${inflight}`,
          `app_inflight{pool="b",instance="x"} 100`,
          `app_inflight{xpool="a"} 1000`,
          `app_inflight_max 9`,
          '',
        ].join('\n'),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/metrics`;
    const a = agent([
      'least/198.51.100.33',
      '--prometheus',
      url,
      '--metric',
      'app_inflight{pool="a"}',
      '--capacity',
      '20',
      '--interval',
      '300ms',
    ]);
    try {
      await loadBecomes('198.51.100.33', 4, 'the metric 4');
      inflight = 11;
      await loadBecomes('198.51.100.33', 11, 'the metric 11');
    } finally {
      expect(await a.stop()).toBe(0);
      await new Promise((r) => server.close(r));
    }
  });

  it('--command: the first number it prints; --loadavg: the host load against its CPUs', async () => {
    const c = agent([
      'least/198.51.100.31',
      '--command',
      'echo "queue: 4.5 jobs"',
      '--capacity',
      '9',
      '--interval',
      '300ms',
    ]);
    try {
      const r = await loadBecomes('198.51.100.31', 4.5, 'the command output');
      expect(r.capacity).toBe(9);
    } finally {
      expect(await c.stop()).toBe(0);
    }
    const l = agent(['least/198.51.100.31', '--loadavg', '--interval', '300ms']);
    try {
      await until(
        async () => (await targetOf('least', '198.51.100.31')).load?.capacity === os.availableParallelism(),
        15_000,
        'a load-average report',
      );
      expect((await targetOf('least', '198.51.100.31')).load.load).toBeGreaterThanOrEqual(0);
    } finally {
      expect(await l.stop()).toBe(0);
    }
  });

  it('a refused token: exit 1 at once, naming the URL and the status', async () => {
    const a = agent(['least/198.51.100.31', '--command', 'echo 1', '--capacity', '9', '--interval', '300ms'], {
      token: 'not-a-token-0123456789',
    });
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toContain(
      `GET ${s.base}/v1/status: HTTP 401: unknown token (the token is refused: not retrying)`,
    );
  });

  it('a target gslbd does not have: exit 1', async () => {
    const a = agent(['least/192.0.2.250', '--command', 'echo 1', '--capacity', '9']);
    expect(await a.exited).toBe(1);
    expect(a.stderr()).toContain('no target least/192.0.2.250 in any pool');
  });

  it('an API answering 503 is retried with a growing wait, not once an interval', async () => {
    const seen: number[] = [];
    const server = http.createServer((_req, res) => {
      seen.push(Date.now());
      res.writeHead(503, { 'Content-Type': 'application/json' });
      res.end('{"error":{"code":"ERR_NOT_DURABLE","message":"disk full"}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const a = agent(['least/198.51.100.31', '--command', 'echo 1', '--capacity', '9', '--interval', '200ms'], { api });
    try {
      await new Promise((r) => setTimeout(r, 4000));
      // Once an interval would be 20 requests in 4 s; doubling from 400 ms (±20 %) is at most 5.
      expect(seen.length).toBeGreaterThanOrEqual(2);
      expect(seen.length).toBeLessThanOrEqual(5);
      const gaps = seen.slice(1).map((t, i) => t - seen[i]!);
      for (let i = 1; i < gaps.length; i++) expect(gaps[i]!).toBeGreaterThan(gaps[i - 1]! * 1.3);
      expect(a.stderr()).toMatch(/HTTP 503: disk full; retrying in \d+\.\ds/);
      expect(a.proc.exitCode).toBeNull();
    } finally {
      expect(await a.stop()).toBe(0);
      await new Promise((r) => server.close(r));
    }
  });
});
