// Online signing checked by real validators: a gslbd signing gslb.example.com (and its signed child
// secure.gslb.example.com) with keys it made at start, a Debian unbound with the zone's DS (printed
// by `gslbd dnssec ds`) as its only trust anchor, and BIND's delv validating through that unbound.
// Every kind of answer gets AD=1 and no SERVFAIL; below an insecure delegation, NOERROR without AD;
// a byte flipped by a proxy in a signed pool answer gets SERVFAIL.

import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { startDnsProxy } from '../helpers/dns-proxy.ts';
import { forTests } from '../helpers/fixture.ts';
import { CLI, ROOT, startGslbd } from '../helpers/gslbd.ts';
import { tcpListener, until } from '../helpers/listeners.ts';
import { startUnbound } from '../helpers/unbound.ts';

const run = promisify(execFile);
const ZONE = 'gslb.example.com';
const TAMPERED = Buffer.from([192, 0, 2, 99]);

/** `gslbd dnssec ds ZONE --data DIR`: the DS line and the DNSKEY line. */
async function dsOf(zone: string, data: string): Promise<{ ds: string; dnskey: string }> {
  const { stdout } = await run(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', CLI, 'dnssec', 'ds', zone, '--data', data],
    { cwd: ROOT },
  );
  const lines = stdout.trim().split('\n');
  return { ds: lines.find((l) => / IN DS /.test(l))!, dnskey: lines.find((l) => / IN DNSKEY /.test(l))! };
}

const h = forTests(
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-dnssec-'));
    const zones = path.join(dir, 'zones');
    const data = path.join(dir, 'data');
    mkdirSync(data);
    cpSync(path.join(ROOT, 'test/fixtures/dnssec/zones'), zones, { recursive: true });
    // A pool whose first target is probed on a listener the test stops and starts again.
    const up = await tcpListener('127.0.0.2');
    const check = `{ type: tcp, port: ${up.port}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }`;
    appendFileSync(
      path.join(zones, `${ZONE}.pools.yaml`),
      `updown:\n  policy: failover\n  ttl: 1\n  targets:\n` +
        `    - { address: 127.0.0.2, priority: 1, check: ${check} }\n    - { address: 127.0.0.3, priority: 2 }\n`,
    );
    const config = path.join(dir, 'gslbd.yaml');
    writeFileSync(config, `dnssec: { zones: [${ZONE}., secure.${ZONE}.], algorithm: ecdsap256sha256 }\n`);
    const server = await startGslbd(['--config', config, '--zones', zones, '--data', data]);
    // The child's DS goes into the parent's zone file, as an operator would put it there.
    const child = await dsOf(`secure.${ZONE}`, data);
    appendFileSync(path.join(zones, `${ZONE}.zone`), child.ds.replace(' IN DS ', ' 300 IN DS ') + '\n');
    const loads = () => server.logs.filter((l) => l.msg === 'zone loaded' && l.zone === `${ZONE}.`).length;
    server.proc.kill('SIGHUP');
    await until(() => loads() >= 2, 10_000, 'the zone reloaded with the DS');
    const parent = await dsOf(ZONE, data);
    // Every response passes the proxy; one to a question for tamper.<zone> has its address changed.
    const proxy = await startDnsProxy(server.port, (resp) => {
      if (!resp.includes(Buffer.from('\x06tamper', 'latin1'))) return;
      const at = resp.indexOf(TAMPERED);
      if (at >= 0) resp[at + 3]! ^= 1;
    });
    const unbound = await startUnbound(dir, parent.ds + '\n', [{ zone: ZONE, port: proxy.port }]);
    const [, , , tag, alg, digestType, hex] = parent.ds.split(/\s+/);
    const delvConf = path.join(dir, 'delv.conf');
    writeFileSync(delvConf, `trust-anchors {\n  ${ZONE}. static-ds ${tag} ${alg} ${digestType} "${hex}";\n};\n`);
    return { dir, server, proxy, unbound, up, delvConf, parent };
  },
  async (it) => {
    await it.unbound.stop();
    await it.proxy.stop();
    await it.server.stop();
    await it.up.stop();
    rmSync(it.dir, { recursive: true, force: true });
  },
);

/** Asks the test's unbound, with DO (so it says AD when it validated). */
const resolve = (name: string, type: string, ...extra: string[]) =>
  dig(h.unbound.port, [name ? `${name}.${ZONE}` : ZONE, type, '+recurse', '+dnssec', '+timeout=5', ...extra]);

const validated = async (name: string, type: string, ...extra: string[]) => {
  const r = await resolve(name, type, ...extra);
  expect(r.status, `${name} ${type}: ${r.status}\n${h.unbound.log()}`).not.toBe('SERVFAIL');
  expect(r.flags, `${name} ${type} validated`).toContain('ad');
  return r;
};

describe('answers signed online are validated by unbound', () => {
  it.each([
    ['static', 'A', 'A'],
    ['static', 'TXT', 'TXT'],
    ['mixed-case', 'MX', 'MX'],
    ['chain', 'A', 'A'],
    ['x.wild', 'A', 'A'],
    ['deeper.x.wild', 'TXT', 'TXT'],
    ['www.moved', 'A', 'A'],
    ['@', 'DNSKEY', 'DNSKEY'],
    ['@', 'CDS', 'CDS'],
    ['@', 'CDNSKEY', 'CDNSKEY'],
    ['www.secure', 'A', 'A'],
    ['signed-away', 'DS', 'DS'],
    // Too large for unbound's 1,232 octets signed: TC=1, then over TCP (through the proxy too).
    ['big', 'TXT', 'TXT'],
  ])('%s %s: AD=1 with the data', async (name, type, want) => {
    const r = await validated(name === '@' ? '' : name, type);
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((a) => a.type)).toContain(want);
  });

  it.each([
    ['nx', 'A'],
    ['no.such.name', 'AAAA'],
    ['static', 'SRV'],
    ['b.deep', 'A'],
    ['x.wild', 'AAAA'],
    ['v6only', 'A'],
    ['plain-away', 'DS'],
    ['nx.secure', 'A'],
  ])('%s %s, denied by compact denial: AD=1, no data', async (name, type) => {
    const r = await validated(name, type);
    // Unbound 1.17 reads NXNAME as any type: a name that does not exist is NODATA to it.
    expect(['NOERROR', 'NXDOMAIN']).toContain(r.status);
    expect(r.answer.filter((a) => a.type === type)).toEqual([]);
  });

  it('publishes CDS and CDNSKEY for the parent: the DS and DNSKEY that gslbd dnssec ds prints', async () => {
    const [, , , ...ds] = h.parent.ds.split(/\s+/);
    const cds = await validated('', 'CDS');
    expect(cds.answer.filter((a) => a.type === 'CDS').map((a) => a.data.replace(/\s/g, '').toUpperCase())).toEqual([
      ds.join(''),
    ]);
    const [, , , ...dnskey] = h.parent.dnskey.split(/\s+/);
    const cdnskey = await validated('', 'CDNSKEY');
    expect(cdnskey.answer.filter((a) => a.type === 'CDNSKEY').map((a) => a.data.replace(/\s/g, ''))).toEqual([
      dnskey.join(''),
    ]);
  });

  it('a name below an insecure delegation is insecure, not bogus: NOERROR without AD', async () => {
    const r = await resolve('www.insecure', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).not.toContain('ad');
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.20']);
  });

  it.each(['round-robin', 'random', 'weighted', 'least-load', 'geo-proximity', 'geo-map', 'failover', 'affinity'])(
    'pool %s: AD=1 on every answer',
    async (pool) => {
      for (let i = 0; i < 3; i++) {
        const r = await validated(pool, 'A');
        expect(r.answer.filter((a) => a.type === 'A').length).toBeGreaterThan(0);
      }
    },
  );

  it('a geo pool answers by the client subnet unbound passes on (ECS), each answer validated', async () => {
    const eu = await validated('geo-proximity', 'A', '+subnet=81.2.69.0/24');
    const us = await validated('geo-proximity', 'A', '+subnet=8.8.8.0/24');
    const addr = (r: typeof eu) => r.answer.filter((a) => a.type === 'A').map((a) => a.data);
    expect(addr(eu)).not.toEqual(addr(us));
  });

  it('a pool validates before, while and after its first target is down', async () => {
    const first = async () => (await validated('updown', 'A')).answer.filter((a) => a.type === 'A').map((a) => a.data);
    expect(await first()).toEqual(['127.0.0.2']);
    await h.up.stop();
    await until(async () => (await first()).includes('127.0.0.3'), 15_000, 'the second target to answer', 200);
    await h.up.start();
    await until(async () => (await first()).includes('127.0.0.2'), 15_000, 'the first target back', 200);
  });

  it('a byte flipped in a signed pool answer on the way is caught: SERVFAIL', async () => {
    const r = await resolve('tamper', 'A');
    expect(r.status).toBe('SERVFAIL');
    expect(h.unbound.log()).toMatch(/validation failure <tamper\.gslb\.example\.com\. A IN>/);
  });

  it.each(['static A', 'chain A', 'x.wild A', 'www.moved A', 'round-robin A', 'www.secure A', 'nx A', 'static SRV'])(
    'delv through unbound: %s fully validated',
    async (q) => {
      const [name, type] = q.split(' ');
      const { stdout, stderr } = await run('delv', [
        `@127.0.0.1`,
        '-p',
        String(h.unbound.port),
        '-a',
        h.delvConf,
        `+root=${ZONE}`,
        `${name}.${ZONE}`,
        type!,
      ]).catch((e: { stdout: string; stderr: string }) => e);
      expect(stdout + stderr).toMatch(/fully validated/);
    },
  );
});
