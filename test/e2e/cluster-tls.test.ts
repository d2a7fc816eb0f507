// The cluster's etcd over TLS with client certificates (cluster.etcd.tls): a node with the CA and a
// client certificate the CA signed commits and answers; one without a client certificate is
// refused by etcd and does not start. And etcd with authentication (cluster.etcd.auth): the right
// user and password work, a wrong password does not start.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { startEtcd, type EtcdServer } from '../helpers/etcd.ts';
import { makeTls } from '../helpers/tls.ts';
import { startNode, type ClusterNode } from '../helpers/cluster.ts';
import { runCli } from '../helpers/gslbd.ts';

const ZONE = 'tls.example.net';
const TOKEN = 'tls-write-token-0123456789';
const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-tls-'));
let etcd: EtcdServer | null = null;
let plain: EtcdServer | null = null;
let node: ClusterNode | null = null;
let authed: ClusterNode | null = null;

afterAll(async () => {
  await node?.server.stop();
  await authed?.server.stop();
  await etcd?.stop();
  await plain?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('etcd over TLS', () => {
  it('a node with a client certificate commits and answers; one without is refused at start', async () => {
    const tls = makeTls(work);
    etcd = await startEtcd('127.0.0.1', tls);
    const zones = path.join(work, 'zones');
    mkdirSync(zones);
    writeFileSync(
      path.join(zones, `${ZONE}.zone`),
      '$TTL 1h\n@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 300 )\n  IN NS ns1\nns1 IN A 192.0.2.1\n',
    );
    node = await startNode({
      name: 'a',
      dir: path.join(work, 'a'),
      zones,
      token: TOKEN,
      endpoints: [etcd.endpoint],
      clusterLines: [`    tls: { ca: ${tls.ca}, cert: ${tls.clientCert}, key: ${tls.clientKey} }`],
    });
    const r = await fetch(`${node.api}/v1/zones/${ZONE}/rrsets/secure/A`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: 60, records: ['192.0.2.44'] }),
    });
    expect(r.status).toBe(201);
    expect((await dig(node.server.port, [`secure.${ZONE}`, 'A'])).answer.map((x) => x.data)).toEqual(['192.0.2.44']);

    const config = path.join(work, 'no-cert.yaml');
    writeFileSync(
      config,
      `zones: ${zones}\ncluster:\n  node: b\n  etcd:\n    endpoints: ["${etcd.endpoint}"]\n    tls: { ca: ${tls.ca} }\n`,
    );
    const b = await runCli([
      'serve',
      '--config',
      config,
      '--data',
      path.join(work, 'b'),
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '1',
    ]);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/gslbd: etcd \(https:\/\/127\.0\.0\.1:\d+\)/);
  }, 60_000);

  it('with etcd authentication: the right user and password commit and answer; a wrong password does not start', async () => {
    plain = await startEtcd();
    // root with a password, then authentication on (etcd's own order).
    const admin = new Etcd3({ hosts: plain.endpoint });
    await admin.role('root').create();
    await (await admin.user('root').create('root-pass-123')).addRole('root');
    await admin.auth.authEnable();
    admin.close();
    const zones = path.join(work, 'zones');
    authed = await startNode({
      name: 'c',
      dir: path.join(work, 'c'),
      zones,
      token: TOKEN,
      endpoints: [plain.endpoint],
      clusterLines: ['    auth: { username: root, password: root-pass-123 }'],
    });
    const r = await fetch(`${authed.api}/v1/zones/${ZONE}/rrsets/authed/A`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttl: 60, records: ['192.0.2.45'] }),
    });
    expect(r.status).toBe(201);
    expect((await dig(authed.server.port, [`authed.${ZONE}`, 'A'])).answer.map((x) => x.data)).toEqual(['192.0.2.45']);
    const config = path.join(work, 'wrong-pass.yaml');
    writeFileSync(
      config,
      `zones: ${zones}\ncluster:\n  node: d\n  etcd:\n    endpoints: ["${plain.endpoint}"]\n    auth: { username: root, password: wrong }\n`,
    );
    const d = await runCli([
      'serve',
      '--config',
      config,
      '--data',
      path.join(work, 'd'),
      '--listen',
      '127.0.0.1:0',
      '--workers',
      '1',
    ]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/gslbd: etcd \(http:\/\/127\.0\.0\.1:\d+\).*(authentication|auth)/i);
  }, 60_000);
});
