// The operator commands (`gslbd status | drain | undrain | reload`) as processes talking to a real
// gslbd's API, each effect confirmed with `dig`; and their errors: no token, a wrong one, an API
// that is not there, a target that is not.

import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { runCli } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';
import { bothProbed, fqdn, READ, startOps, WRITE, ZONE, type OpsServer } from '../helpers/ops.ts';

let s: OpsServer;

beforeAll(async () => {
  s = await startOps();
  await bothProbed(s);
}, 30_000);
afterAll(async () => {
  await s?.stop();
});

/** `gslbd ARGS` with the API and token given as flags (or `env`, then no flags). */
function gslbd(args: string[], opts: { token?: string; env?: Record<string, string> } = {}) {
  const flags = opts.env ? [] : ['--api', s.base, '--token', opts.token ?? WRITE];
  return runCli([...args, ...flags], 30_000, opts.env ?? {});
}

const answers = async (label: string) =>
  (await dig(s.gslbd.port, [fqdn(label), 'A'])).answer.map((rr) => rr.data).sort();
const serial = async () => Number((await dig(s.gslbd.port, [ZONE, 'SOA'])).answer[0]!.data.split(/\s+/)[2]);
const target = async (pool: string, address: string) =>
  (await s.api('GET', `/v1/zones/${ZONE}/pools/${pool}/targets/${address}`)).body;

describe('gslbd status', { timeout: 60_000 }, () => {
  it('lists zones, pools and targets with state, weight and answers handed out', async () => {
    await dig(s.gslbd.port, [fqdn('both'), 'A']);
    const r = await gslbd(['status'], { token: READ });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ops\.example\.net\. \(serial \d+\)$/m);
    expect(r.stdout).toMatch(/^ {2}both\.ops\.example\.net\. round-robin$/m);
    expect(r.stdout).toMatch(/^ {4}198\.51\.100\.61 +up +weight 1 +answers [1-9]\d* +no check$/m);
    expect(r.stdout).toMatch(/^ {4}127\.0\.0\.2 +up +\d+s +weight 1 +answers \d+ +probe: connected$/m);
  });

  it('--json gives what /v1/status gives, with the API address and token from the environment', async () => {
    const r = await gslbd(['status', '--json'], { env: { GSLBD_API: s.base, GSLBD_API_TOKEN: READ } });
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout);
    expect(status.zones.map((z: { zone: string }) => z.zone)).toEqual([ZONE]);
    const pools = status.zones[0].pools;
    expect(pools.map((p: { pool: string }) => p.pool)).toContain(fqdn('failover'));
    expect(pools.find((p: { pool: string }) => p.pool === fqdn('failover')).targets[0]).toMatchObject({
      address: '198.51.100.41',
      state: 'up',
      weight: 1,
      override: null,
    });
    expect(Array.isArray(status.events)).toBe(true);
  });
});

describe('gslbd drain / undrain', { timeout: 60_000 }, () => {
  it('drains an ADDRESS in every pool holding it, and undrains it', async () => {
    // The same address in two pools.
    expect((await s.api('POST', `/v1/zones/${ZONE}/pools/rr/targets`, { address: '198.51.100.61' })).status).toBe(201);
    try {
      const before = await serial();
      const drained = await gslbd(['drain', '198.51.100.61']);
      expect(drained.stderr).toBe('');
      expect(drained.code).toBe(0);
      expect(drained.stdout.split('\n').filter(Boolean).sort()).toEqual([
        `drained ${fqdn('both')}/198.51.100.61`,
        `drained ${fqdn('rr')}/198.51.100.61`,
      ]);
      expect(await answers('both')).toEqual(['198.51.100.62']);
      for (let i = 0; i < 4; i++) expect(await answers('rr')).not.toContain('198.51.100.61');
      expect(await target('both', '198.51.100.61')).toMatchObject({
        state: 'drain',
        because: 'override',
        reason: 'drained by gslbd drain',
      });
      // A drain is state, not zone data: the serial stays.
      expect(await serial()).toBe(before);

      const undrained = await gslbd(['undrain', '198.51.100.61']);
      expect(undrained.code).toBe(0);
      expect(undrained.stdout.split('\n').filter(Boolean).sort()).toEqual([
        `undrained ${fqdn('both')}/198.51.100.61`,
        `undrained ${fqdn('rr')}/198.51.100.61`,
      ]);
      expect(await answers('both')).toEqual(['198.51.100.61', '198.51.100.62']);
      expect((await target('both', '198.51.100.61')).override).toBeNull();
    } finally {
      await s.api('DELETE', `/v1/zones/${ZONE}/pools/rr/targets/198.51.100.61`);
    }
  });

  it('drains POOL/ADDRESS in that pool only, the pool relative or absolute, with a reason and an expiry', async () => {
    const r = await gslbd(['drain', 'failover/198.51.100.41', '--for', '30m', '--reason', 'disk swap']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`drained ${fqdn('failover')}/198.51.100.41 for 30m\n`);
    expect(await answers('failover')).toEqual(['198.51.100.42']);
    const t = await target('failover', '198.51.100.41');
    expect(t).toMatchObject({ state: 'drain', reason: 'disk swap', override: { state: 'drain', reason: 'disk swap' } });
    expect(Date.parse(t.override.expires_at) - Date.parse(t.override.set_at)).toBe(30 * 60_000);
    const status = JSON.parse((await gslbd(['status', '--json'])).stdout);
    const row = status.zones[0].pools.find((p: { pool: string }) => p.pool === fqdn('failover')).targets[0];
    expect(row).toMatchObject({
      address: '198.51.100.41',
      state: 'drain',
      because: 'override',
      override: 'drain',
      reason: 'disk swap',
    });

    const u = await gslbd(['undrain', `${fqdn('failover')}/198.51.100.41`]);
    expect(u.code).toBe(0);
    expect(u.stdout).toBe(`undrained ${fqdn('failover')}/198.51.100.41\n`);
    expect(await answers('failover')).toEqual(['198.51.100.41']);
  });

  it('a drain --for ends by itself', async () => {
    const r = await gslbd(['drain', 'both/198.51.100.62', '--for', '1s']);
    expect(r.code).toBe(0);
    expect(await answers('both')).toEqual(['198.51.100.61']);
    await until(async () => (await answers('both')).length === 2, 15_000, 'the drain to expire');
    expect((await target('both', '198.51.100.62')).override).toBeNull();
  });

  it('an IPv6 target is matched however it is written', async () => {
    expect((await s.api('POST', `/v1/zones/${ZONE}/pools/both/targets`, { address: '2001:db8::61' })).status).toBe(201);
    try {
      const r = await gslbd(['drain', 'both/2001:DB8:0::61']);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`drained ${fqdn('both')}/2001:db8::61\n`);
      expect((await dig(s.gslbd.port, [fqdn('both'), 'AAAA'])).answer.map((rr) => rr.data)).toEqual(['2001:db8::61']);
      expect(await target('both', '2001:db8::61')).toMatchObject({ state: 'drain' });
    } finally {
      await s.api('DELETE', `/v1/zones/${ZONE}/pools/both/targets/2001:db8::61`);
    }
  });
});

describe('gslbd reload', { timeout: 60_000 }, () => {
  it('serves the zone file as it is now: the new serial and the new record', async () => {
    const file = path.join(s.zones, 'ops.example.net.zone');
    const original = readFileSync(file, 'utf8');
    const inFile = /\( (\d+) /.exec(original)![1]!;
    // Served now: the file's serial, or past it if run-time changes (the tests above) bumped it.
    const old = await serial();
    expect(old).toBeGreaterThanOrEqual(Number(inFile));
    const withSerial = (n: number) => original.replace(inFile, String(n));
    writeFileSync(file, withSerial(old + 5) + 'fresh    IN A     192.0.2.81\n');
    try {
      expect((await dig(s.gslbd.port, [fqdn('fresh'), 'A'])).status).toBe('NXDOMAIN');
      const r = await gslbd(['reload']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('reloaded: 1 zones loaded, 0 failed (previous versions kept; see the server log)\n');
      expect(await serial()).toBe(old + 5);
      expect(await answers('fresh')).toEqual(['192.0.2.81']);

      // A broken file: the command says so and fails; the version in service stays.
      writeFileSync(file, withSerial(old + 6) + 'broken   IN A     not-an-address\n');
      const bad = await gslbd(['reload']);
      expect(bad.code).toBe(1);
      expect(bad.stdout).toBe('reloaded: 0 zones loaded, 1 failed (previous versions kept; see the server log)\n');
      expect(await serial()).toBe(old + 5);
      expect(await answers('fresh')).toEqual(['192.0.2.81']);
    } finally {
      writeFileSync(file, withSerial(old + 7));
      await gslbd(['reload']);
    }
  });

  it('needs a write token', async () => {
    const r = await gslbd(['reload'], { token: READ });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gslbd: POST ${s.base}/v1/reload: HTTP 403: token "viewer" may only read\n`);
  });
});

describe('errors', { timeout: 60_000 }, () => {
  it('no token: says how to give one', async () => {
    const r = await runCli(['status', '--api', s.base], 30_000, { GSLBD_API_TOKEN: '' });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('gslbd: no API token: give --token or set GSLBD_API_TOKEN\n');
  });

  it("a wrong token: the API's 401", async () => {
    const r = await gslbd(['status'], { token: 'wrong-token-0123456789abcdef' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gslbd: GET ${s.base}/v1/status: HTTP 401: unknown token\n`);
  });

  it('an API that is not there: names the address and why', async () => {
    const srv = net.createServer();
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((resolve) => srv.close(resolve));
    const r = await runCli(['drain', '198.51.100.61', '--api', `http://127.0.0.1:${port}`, '--token', WRITE]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `gslbd: cannot reach the gslbd API at http://127.0.0.1:${port}/v1/status: connect ECONNREFUSED 127.0.0.1:${port}\n`,
    );
  });

  it('an unknown target, or something that is no address: changes nothing', async () => {
    let r = await gslbd(['drain', '192.0.2.200']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('gslbd: no target 192.0.2.200 in any pool\n');
    r = await gslbd(['undrain', 'rr/198.51.100.61']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('gslbd: no target rr/198.51.100.61 in any pool\n');
    r = await gslbd(['drain', 'rr/web1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('gslbd: rr/web1: "web1" is not an IP address (TARGET is ADDRESS or POOL/ADDRESS)\n');
    r = await gslbd(['drain', '198.51.100.1', '--for', 'soon']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('gslbd: --for soon: not a duration like 30m\n');
    r = await gslbd(['drain']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('gslbd: usage: gslbd drain TARGET (ADDRESS or POOL/ADDRESS) [--for 30m]\n');
    expect((await target('rr', '198.51.100.1')).override).toBeNull();
  });
});
