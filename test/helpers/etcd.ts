// A real etcd (Debian's etcd-server) for the tests: one member on loopback ports of its own, with
// its data in a temporary directory. It can be killed and started again on the same ports and
// data (etcd gone, then back), and is stopped by its PID.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { until } from './listeners.ts';

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

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export async function startEtcd(): Promise<EtcdServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-etcd-'));
  const [client, peer] = [await freePort(), await freePort()];
  const endpoint = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  let proc: ChildProcess | null = null;
  let output = '';
  const start = async () => {
    output = '';
    proc = spawn(
      'etcd',
      [
        '--name',
        'test',
        '--data-dir',
        path.join(dir, 'data'),
        '--listen-client-urls',
        endpoint,
        '--advertise-client-urls',
        endpoint,
        '--listen-peer-urls',
        peerUrl,
        '--initial-advertise-peer-urls',
        peerUrl,
        '--initial-cluster',
        `test=${peerUrl}`,
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    proc.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    const p = proc;
    await until(
      async () => {
        if (p.exitCode !== null) throw new Error(`etcd exited (${p.exitCode}): ${output}`);
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
