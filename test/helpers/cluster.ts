// gslbd nodes of one cluster for the tests and bench/cluster.ts: each with its own gslbd.yaml (an API
// with one write token, a cluster: section naming the node and the etcd endpoints), its own data
// directory, started with the CLI and stopped by PID.

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startGslbd, type Gslbd } from './gslbd.ts';

export interface ClusterNode {
  readonly name: string;
  readonly server: Gslbd;
  /** The API's base URL. */
  readonly api: string;
}

export interface NodeOptions {
  readonly name: string;
  /** Where the node's gslbd.yaml and data directory go. */
  readonly dir: string;
  readonly zones: string;
  readonly token: string;
  /** etcd client URLs; absent: a gslbd alone, without cluster: (for comparison). */
  readonly endpoints?: readonly string[];
  readonly prefix?: string;
  /** More lines under cluster: (e.g. `  vote-ttl: 2s`). */
  readonly clusterLines?: readonly string[];
  /** More arguments for gslbd serve. */
  readonly args?: readonly string[];
  /** The API's address (default 127.0.0.1:0). */
  readonly apiListen?: string;
  /** A command gslbd runs under, e.g. `ip netns exec NS`. */
  readonly wrap?: readonly string[];
  /** More environment for gslbd (e.g. `GSLBD_HISTORY_STEP`). */
  readonly env?: Readonly<Record<string, string>>;
}

export async function startNode(o: NodeOptions): Promise<ClusterNode> {
  mkdirSync(o.dir, { recursive: true });
  const config = path.join(o.dir, 'gslbd.yaml');
  const lines = [
    `zones: ${o.zones}`,
    'api:',
    `  listen: ${o.apiListen ?? '127.0.0.1:0'}`,
    '  tokens:',
    `    - { name: operator, token: ${o.token}, access: write }`,
  ];
  if (o.endpoints) {
    lines.push('cluster:', `  node: ${o.name}`, '  etcd:', `    endpoints: ${JSON.stringify(o.endpoints)}`);
    if (o.prefix) lines.push(`    prefix: ${o.prefix}`);
    lines.push(...(o.clusterLines ?? []));
  }
  writeFileSync(config, `${lines.join('\n')}\n`);
  const server = await startGslbd(
    ['--config', config, '--data', path.join(o.dir, 'data'), ...(o.args ?? [])],
    { ...o.env },
    { ...(o.wrap && { wrap: o.wrap }) },
  );
  const line = await server.waitForLog((l) => l.msg === 'api listening');
  const host = (o.apiListen ?? '127.0.0.1:0').replace(/:\d+$/, '');
  return { name: o.name, server, api: `http://${host}:${line.port as number}` };
}
