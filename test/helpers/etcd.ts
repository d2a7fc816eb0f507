// A real etcd (Debian's etcd-server) for the tests: one member on loopback ports of its own, with
// its data in a temporary directory. It can be killed and started again on the same ports and
// data (etcd gone, then back), and is stopped by its PID.

import { spawn, type ChildProcess } from 'node:child_process';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { until } from './listeners.ts';
import type { TlsFiles } from './tls.ts';

export interface EtcdServer {
  /** The client URL, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  /** Starts the member again (same ports, same data) after `kill`. */
  start(): Promise<void>;
  /** SIGKILL: gone at once; requests to it are refused until `start`. */
  kill(): Promise<void>;
  /** Stops it and removes its data. */
  stop(): Promise<void>;
}

/** etcd's flags for one member `name` of the cluster `initial` (`name=peerUrl,…`). */
function memberArgs(name: string, dataDir: string, endpoint: string, peerUrl: string, initial: string): string[] {
  return [
    ...['--name', name, '--data-dir', dataDir],
    ...['--listen-client-urls', endpoint, '--advertise-client-urls', endpoint],
    ...['--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl],
    ...['--initial-cluster', initial, '--initial-cluster-state', 'new', '--log-level', 'warn'],
  ];
}

async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** GET `url` over HTTPS with the client certificate of `tls`; the body, or null on any failure. */
function httpsGet(url: string, tls: TlsFiles): Promise<string | null> {
  return new Promise((resolve) => {
    const req = https.get(
      url,
      { ca: readFileSync(tls.ca), cert: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', () => resolve(null));
  });
}

/**
 * One etcd member listening on `host` (default loopback; a test's bridge address for namespaces).
 * With `tls`, clients must come over HTTPS with a certificate the test CA signed.
 */
export async function startEtcd(host = '127.0.0.1', tls?: TlsFiles): Promise<EtcdServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-etcd-'));
  const [client, peer] = [await freePort(host), await freePort()];
  const endpoint = `${tls ? 'https' : 'http'}://${host}:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  let proc: ChildProcess | null = null;
  let output = '';
  const start = async () => {
    output = '';
    proc = spawn(
      'etcd',
      [
        ...memberArgs('test', path.join(dir, 'data'), endpoint, peerUrl, `test=${peerUrl}`),
        ...(tls
          ? [
              '--cert-file',
              tls.serverCert,
              '--key-file',
              tls.serverKey,
              '--trusted-ca-file',
              tls.ca,
              '--client-cert-auth',
            ]
          : []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const p = proc;
    await until(
      async () => {
        if (p.exitCode !== null) throw new Error(`etcd exited (${p.exitCode}): ${output}`);
        if (tls) return (await httpsGet(`${endpoint}/health`, tls))?.includes('"health":"true"') ?? false;
        try {
          const r = await fetch(`${endpoint}/health`);
          return r.ok && ((await r.json()) as { health: string }).health === 'true';
        } catch {
          return false;
        }
      },
      20_000,
      'etcd healthy',
      50,
    );
  };
  const kill = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    endpoint,
    start,
    kill,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface EtcdMember {
  readonly name: string;
  /** The client URL. */
  readonly endpoint: string;
  start(): Promise<void>;
  kill(): Promise<void>;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  readonly endpoints: readonly string[];
  /** The member that leads now (asked of a live member). */
  leader(): Promise<EtcdMember>;
  /** Every member SIGKILLed: etcd gone. */
  kill(): Promise<void>;
  /** Every member started again on its ports and data; resolves once a leader is elected. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** `size` etcd members on loopback forming one cluster, each with its own data directory. */
export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-etcd-cluster-'));
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await freePort(), peer: await freePort() });
  const initial = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const procs: (ChildProcess | null)[] = ports.map(() => null);
  const members: EtcdMember[] = ports.map((p, i) => {
    const endpoint = `http://127.0.0.1:${p.client}`;
    const peerUrl = `http://127.0.0.1:${p.peer}`;
    return {
      name: `m${i}`,
      endpoint,
      async start() {
        const proc = spawn('etcd', memberArgs(`m${i}`, path.join(dir, `m${i}`), endpoint, peerUrl, initial), {
          stdio: ['ignore', 'ignore', 'ignore'],
        });
        procs[i] = proc;
      },
      async kill() {
        const p = procs[i];
        procs[i] = null;
        if (!p || p.exitCode !== null) return;
        const exited = new Promise((r) => p.once('exit', r));
        p.kill('SIGKILL');
        await exited;
      },
    };
  });
  for (const m of members) await m.start();
  const status = async (m: EtcdMember) => {
    const r = await fetch(`${m.endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}' });
    return (await r.json()) as { header: { member_id: string }; leader: string };
  };
  // Healthy once a leader is elected and every member answers.
  const healthy = () =>
    until(
      async () => {
        try {
          const all = await Promise.all(members.map(status));
          return all.every((s) => s.leader && s.leader !== '0' && s.leader === all[0]!.leader);
        } catch {
          return false;
        }
      },
      30_000,
      'an etcd cluster with a leader',
      100,
    );
  await healthy();
  return {
    members,
    async kill() {
      await Promise.all(members.map((m) => m.kill()));
    },
    async start() {
      for (const m of members) await m.start();
      await healthy();
    },
    endpoints: members.map((m) => m.endpoint),
    async leader() {
      for (const m of members) {
        try {
          const s = await status(m);
          const ids = await Promise.all(
            members.map((x) =>
              status(x)
                .then((y) => y.header.member_id)
                .catch(() => ''),
            ),
          );
          return members[ids.indexOf(s.leader)]!;
        } catch {
          /* that one is down: ask another */
        }
      }
      throw new Error('no etcd member answers');
    },
    async stop() {
      for (const m of members) await m.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
