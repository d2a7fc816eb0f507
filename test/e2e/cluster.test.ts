// Several nameservers, one truth (issue 13): three gslbd nodes (node C with two worker processes)
// share their state through a real three-member etcd started here. A drain through the API of node
// A, an nsupdate to node B and a load report to node C are each seen in dig answers of all three;
// their SOA serials agree; two writers on different nodes with the same If-Match: one wins. Health
// by quorum: votes in status, explain and metrics, a killed node's votes expire. With all of etcd
// gone, every node still answers, writes are refused with 503 ERR_CLUSTER_UNAVAILABLE, dead targets
// still leave by each node's own probes, a node restarted meanwhile serves its local copy; when etcd
// is back, writes go through again and every node converges.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { startEtcdCluster, type EtcdCluster } from '../helpers/etcd.ts';
import { runCli } from '../helpers/gslbd.ts';
import { startNode, type ClusterNode, type NodeOptions } from '../helpers/cluster.ts';
import { tcpListener, until, type Listener } from '../helpers/listeners.ts';

const ZONE = 'cluster.example.net';
const TOKEN = 'cluster-write-token-0123456789';
const KEY = { name: 'cluster-key', secret: randomBytes(32).toString('base64') };
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-cluster-'));
const zones = path.join(work, 'zones');

type Node = ClusterNode;

let etcd: EtcdCluster;
let probed: Listener;
const nodes: Node[] = [];
const options = new Map<string, NodeOptions>();

beforeAll(async () => {
  etcd = await startEtcdCluster(3);
  probed = await tcpListener('127.0.0.2');
  mkdirSync(zones);
  writeFileSync(
    path.join(zones, `${ZONE}.zone`),
    '$TTL 1h\n@ IN SOA ns1 hostmaster ( 100 2h 15m 2w 300 )\n  IN NS ns1\n  IN NS ns2\n  IN NS ns3\nns1 IN A 192.0.2.1\nns2 IN A 192.0.2.2\nns3 IN A 192.0.2.3\n',
  );
  writeFileSync(
    path.join(zones, `${ZONE}.pools.yaml`),
    [
      'web:',
      '  policy: round-robin',
      '  ttl: 30',
      '  answers: 3',
      '  targets:',
      '    - { address: 198.51.100.1 }',
      '    - { address: 198.51.100.2 }',
      '    - { address: 198.51.100.3 }',
      'least:',
      '  policy: least-load',
      '  ttl: 30',
      '  targets:',
      '    - { address: 198.51.100.11 }',
      '    - { address: 198.51.100.12 }',
      'checked:',
      '  policy: round-robin',
      '  ttl: 30',
      '  answers: 2',
      '  targets:',
      `    - { address: 127.0.0.2, check: { type: tcp, port: ${probed.port}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 } }`,
      '    - { address: 198.51.100.21 }',
      '',
    ].join('\n'),
  );
  for (const name of ['a', 'b', 'c']) {
    const dir = path.join(work, name);
    mkdirSync(dir);
    // Node C's files differ from the others' by a comment: the same answers, another digest.
    const own = name === 'c' ? path.join(dir, 'zones') : zones;
    if (name === 'c') {
      cpSync(zones, own, { recursive: true });
      appendFileSync(path.join(own, `${ZONE}.zone`), '; deployed by hand on c\n');
    }
    const o: NodeOptions = {
      name,
      dir,
      zones: own,
      token: TOKEN,
      endpoints: etcd.endpoints,
      prefix: `/gslbd-e2e-${process.pid}/`,
      clusterLines: ['  vote-ttl: 2s'],
      args: [
        '--tsig-key',
        `${KEY.name}:hmac-sha256:${KEY.secret}`,
        // Node C answers from two worker processes, which follow what its primary applies.
        '--workers',
        name === 'c' ? '2' : '1',
      ],
    };
    options.set(name, o);
    const n = await startNode(o);
    if (name === 'c') await n.server.waitForLog((l) => l.msg === 'workers ready', 20_000);
    nodes.push(n);
  }
}, 60_000);

afterAll(async () => {
  for (const n of nodes) await n.server.stop();
  await probed?.stop();
  await etcd?.stop();
  rmSync(work, { recursive: true, force: true });
});

const call = (n: Node, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${n.api}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });

async function addresses(n: Node, name: string, type = 'A'): Promise<string[]> {
  return (await dig(n.server.port, [`${name}.${ZONE}`, type])).answer.map((r) => r.data).sort();
}

async function serial(n: Node): Promise<number> {
  const soa = (await dig(n.server.port, [ZONE, 'SOA'])).answer[0]!.data.split(/\s+/);
  return Number(soa[2]);
}

/** Resolves once every node answers `name` with exactly `want`. */
async function everywhere(name: string, want: string[], type = 'A', timeoutMs = 5000): Promise<void> {
  await until(
    async () => (await Promise.all(nodes.map((n) => addresses(n, name, type)))).every((a) => a.join() === want.join()),
    timeoutMs,
    `${name} ${type} = ${want.join(',')} on every node`,
  );
}

function nsupdate(port: number, lines: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'nsupdate',
      ['-y', `hmac-sha256:${KEY.name}:${KEY.secret}`, '-t', '10'],
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    child.stdin!.end([`server 127.0.0.1 ${port}`, `zone ${ZONE}`, ...lines, 'send', ''].join('\n'));
  });
}

describe('three gslbd nodes on one etcd', () => {
  it('a drain on node A, an nsupdate to node B and a load report to node C are answered by all three', async () => {
    const [a, b, c] = nodes as [Node, Node, Node];
    await everywhere('web', ['198.51.100.1', '198.51.100.2', '198.51.100.3']);

    const drained = await call(a, 'PUT', `/v1/zones/${ZONE}/pools/web/targets/198.51.100.2/override`, {
      state: 'drain',
      reason: 'maintenance',
    });
    expect(drained.status).toBe(200);
    await everywhere('web', ['198.51.100.1', '198.51.100.3']);

    const before = await serial(b);
    const u = await nsupdate(b.server.port, [`update add added.${ZONE} 60 A 192.0.2.77`]);
    expect(u).toMatchObject({ code: 0 });
    await everywhere('added', ['192.0.2.77']);
    // One serial for the zone on every node.
    const serials = await Promise.all(nodes.map(serial));
    expect(serials).toEqual(Array(3).fill(serials[0]));
    expect(serials[0]).toBeGreaterThan(before);

    const url = (address: string) => `/v1/zones/${ZONE}/pools/least/targets/${address}/load`;
    expect((await call(c, 'PUT', url('198.51.100.11'), { load: 95, capacity: 100, valid_for: 600 })).status).toBe(200);
    expect((await call(c, 'PUT', url('198.51.100.12'), { load: 5, capacity: 100, valid_for: 600 })).status).toBe(200);
    await everywhere('least', ['198.51.100.12']);
  });

  it('GET /v1/cluster and gslbd cluster status list the nodes, their lag, and whose files differ', async () => {
    interface View {
      node: string;
      head: number;
      detached: boolean;
      nodes: { node: string; self: boolean; seq: number; lag: number; same_files: boolean }[];
    }
    let view: View | null = null;
    await until(
      async () => {
        view = (await (await call(nodes[0]!, 'GET', '/v1/cluster')).json()) as View;
        return view.nodes.length === 3 && view.nodes.every((n) => n.lag === 0);
      },
      10_000,
      'three nodes, none behind',
      200,
    );
    expect(view!).toMatchObject({ node: 'a', detached: false });
    expect(view!.nodes.map((n) => [n.node, n.self, n.seq === view!.head, n.same_files])).toEqual([
      ['a', true, true, true],
      ['b', false, true, true],
      ['c', false, true, false],
    ]);
    const cli = await runCli(['cluster', 'status', '--api', nodes[1]!.api, '--token', TOKEN]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^b: etcd head \d+$/m);
    expect(cli.stdout).toMatch(/^ {4}c +seq \d+ +lag 0 .*FILES DIFFER$/m);
    expect(cli.stdout).toMatch(/^ {2}\* b +seq \d+ +lag 0 .*same files$/m);
    const metrics = await (await call(nodes[2]!, 'GET', '/metrics')).text();
    expect(metrics).toMatch(/^gslbd_cluster_detached 0$/m);
    expect(metrics).toMatch(/^gslbd_cluster_applied_seq \d+$/m);
    expect(metrics).toMatch(/^gslbd_cluster_lag 0$/m);
    // Scraped on c, whose files differ from a's and b's.
    expect(metrics).toMatch(/^gslbd_cluster_files_differ\{node="a"\} 1$/m);
    expect(metrics).toMatch(/^gslbd_cluster_files_differ\{node="c"\} 0$/m);
    expect(metrics).toMatch(/^gslbd_etcd_round_trip_seconds \d/m);
  });

  it('two writers on different nodes with the same If-Match: exactly one wins', async () => {
    const url = `/v1/zones/${ZONE}/pools/web/targets/198.51.100.3/weight`;
    const current = await call(nodes[0]!, 'GET', `/v1/zones/${ZONE}/pools/web/targets/198.51.100.3`);
    const etag = current.headers.get('etag')!;
    expect(etag).toBeTruthy();
    // The same version on every node (versions and ETags come from the shared state).
    for (const n of nodes.slice(1)) {
      await until(
        async () =>
          (await call(n, 'GET', `/v1/zones/${ZONE}/pools/web/targets/198.51.100.3`)).headers.get('etag') === etag,
        5000,
        'the same ETag on every node',
      );
    }
    const results = await Promise.all(
      nodes.map((n, i) => call(n, 'PUT', url, { weight: 10 + i }, { 'if-match': etag })),
    );
    const outcomes = await Promise.all(
      results.map(async (r) => (r.ok ? 'applied' : ((await r.json()) as { error: { code: string } }).error.code)),
    );
    expect(outcomes.sort()).toEqual(['ERR_VERSION', 'ERR_VERSION', 'applied']);
  });

  it('a target whose check fails on every node leaves every node within interval × fall + 1 s; the votes show', async () => {
    await everywhere('checked', ['127.0.0.2', '198.51.100.21']);
    const t0 = Date.now();
    await probed.stop();
    // interval 1 s × fall 1 + 1 s, and dig's own polling.
    await everywhere('checked', ['198.51.100.21'], 'A', 2500);
    const evicted = Date.now() - t0;
    expect(evicted).toBeLessThan(2500);
    const row = async () => {
      const status = (await (await call(nodes[0]!, 'GET', '/v1/status')).json()) as {
        zones: {
          pools: { pool: string; targets: { address: string; state: string; votes: Record<string, string> }[] }[];
        }[];
      };
      return status.zones[0]!.pools.find((p) => p.pool === `checked.${ZONE}.`)!.targets[0]!;
    };
    // A majority evicted it; the third node's probe comes within its interval (each node keeps its own time).
    await until(async () => Object.values((await row()).votes).join() === 'down,down,down', 1500, 'three down votes');
    expect(await row()).toMatchObject({
      address: '127.0.0.2',
      state: 'down',
      votes: { a: 'down', b: 'down', c: 'down' },
    });
    const metrics = await (await call(nodes[1]!, 'GET', '/metrics')).text();
    expect(metrics).toContain(`gslbd_target_vote{pool="checked.${ZONE}.",target="127.0.0.2",node="c"} 0`);
    const explained = (await (await call(nodes[1]!, 'GET', `/explain?name=checked.${ZONE}&type=A`)).json()) as {
      pools: { candidates: { address: string; votes?: Record<string, string> }[] }[];
    };
    expect(explained.pools[0]!.candidates[0]).toMatchObject({
      address: '127.0.0.2',
      votes: { a: 'down', b: 'down', c: 'down' },
    });
    const text = await runCli(['status', '--api', nodes[2]!.api, '--token', TOKEN]);
    expect(text.stdout).toMatch(/^ {4}127\.0\.0\.2 +down .*votes: a down, b down, c down$/m);
    await probed.start();
    await everywhere('checked', ['127.0.0.2', '198.51.100.21'], 'A', 5000);
  });

  it('with etcd gone every node still answers and refuses writes; once it is back, writes go through everywhere', async () => {
    await etcd.kill();
    try {
      for (const n of nodes) expect(await addresses(n, 'added')).toEqual(['192.0.2.77']);
      const refused = await call(nodes[1]!, 'PUT', `/v1/zones/${ZONE}/rrsets/gone/TXT`, {
        ttl: 60,
        records: ['"while etcd was down"'],
      });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('ERR_CLUSTER_UNAVAILABLE');
      // RFC 2136 UPDATE: SERVFAIL, nothing made.
      const u = await nsupdate(nodes[0]!.server.port, [`update add gone.${ZONE} 60 A 192.0.2.99`]);
      expect(u.code).not.toBe(0);
      expect(u.out).toMatch(/SERVFAIL/);
    } finally {
      await etcd.start();
    }
    for (const n of nodes) expect((await dig(n.server.port, [`gone.${ZONE}`, 'ANY'])).status).toBe('NXDOMAIN');
    // The client reconnects by itself; the first writes may still find it connecting.
    await until(
      async () =>
        (await call(nodes[2]!, 'PUT', `/v1/zones/${ZONE}/rrsets/back/TXT`, { ttl: 60, records: ['"etcd is back"'] }))
          .status === 200,
      15_000,
      'a write through node C once etcd is back',
      200,
    );
    await everywhere('back', ['"etcd is back"'], 'TXT');
  });

  it('cut off from etcd longer than vote-ttl, every node evicts a dead target by its own probes, and converges when etcd is back', async () => {
    await everywhere('checked', ['127.0.0.2', '198.51.100.21']);
    await etcd.kill();
    try {
      for (const n of nodes) {
        await n.server.waitForLog(
          (l) => typeof l.msg === 'string' && l.msg.startsWith('cluster: detached since'),
          10_000,
        );
      }
      await probed.stop();
      await everywhere('checked', ['198.51.100.21'], 'A', 3000);
      await probed.start();
      await everywhere('checked', ['127.0.0.2', '198.51.100.21'], 'A', 3000);
      await probed.stop();
    } finally {
      await etcd.start();
    }
    for (const n of nodes)
      await n.server.waitForLog(
        (l) => l.msg === 'cluster: attached again: answering by the votes of every node',
        10_000,
      );
    // Attached again, the votes decide: every node saw the target go, so it stays out everywhere.
    await everywhere('checked', ['198.51.100.21'], 'A', 5000);
    await probed.start();
    await everywhere('checked', ['127.0.0.2', '198.51.100.21'], 'A', 5000);
  }, 60_000);

  it('a node restarted while etcd is down serves its local copy, refuses writes, and catches up when etcd is back', async () => {
    const [a, b] = nodes as [Node, Node];
    await b.server.stop();
    await etcd.kill();
    let again: Node;
    try {
      again = await startNode(options.get('b')!);
      nodes[1] = again;
      await again.server.waitForLog(
        (l) =>
          typeof l.msg === 'string' && l.msg.startsWith('cluster: etcd unreachable at start: serving the local copy'),
      );
      // What the cluster had when b stopped: the nsupdate of the first test, the drain.
      expect(await addresses(again, 'added')).toEqual(['192.0.2.77']);
      expect(await addresses(again, 'web')).toEqual(['198.51.100.1', '198.51.100.3']);
      const refused = await call(again, 'PUT', `/v1/zones/${ZONE}/rrsets/copy/TXT`, { ttl: 60, records: ['"x"'] });
      expect(refused.status).toBe(503);
    } finally {
      await etcd.start();
    }
    await again!.server.waitForLog((l) => l.msg === 'cluster: etcd answers: caught up, writes accepted again', 15_000);
    await until(
      async () =>
        (await call(a, 'PUT', `/v1/zones/${ZONE}/rrsets/after/TXT`, { ttl: 60, records: ['"after"'] })).status === 200,
      15_000,
      'a write through a',
      200,
    );
    await everywhere('after', ['"after"'], 'TXT');
  }, 60_000);

  it('a node that cannot reach etcd at start says so and exits 1', async () => {
    const config = path.join(work, 'unreachable.yaml');
    // A port nothing listens on: connections are refused at once.
    writeFileSync(config, `zones: ${zones}\ncluster:\n  node: lost\n  etcd:\n    endpoints: ["http://127.0.0.1:9"]\n`);
    const r = await runCli([
      'serve',
      '--config',
      config,
      '--data',
      path.join(work, 'lost'),
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/etcd \(http:\/\/127\.0\.0\.1:9\)/);
  });

  it('the votes of a node killed with SIGKILL vanish after vote-ttl, and the others go on', async () => {
    const [a, , c] = nodes as [Node, Node, Node];
    const votesOnA = async () => {
      const status = (await (await call(a, 'GET', '/v1/status')).json()) as {
        zones: { pools: { pool: string; targets: { votes: Record<string, string> }[] }[] }[];
      };
      return Object.keys(status.zones[0]!.pools.find((p) => p.pool === `checked.${ZONE}.`)!.targets[0]!.votes).sort();
    };
    await until(async () => (await votesOnA()).join() === 'a,b,c', 5000, 'three votes');
    c.server.proc.kill('SIGKILL');
    await until(async () => (await votesOnA()).join() === 'a,b', 10_000, "c's votes to expire", 100);
    for (const n of [a, nodes[1]!]) expect(await addresses(n, 'checked')).toEqual(['127.0.0.2', '198.51.100.21']);
  });
});
