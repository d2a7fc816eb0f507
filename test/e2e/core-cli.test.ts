// The command line: `gslbd check`, `--listen` (asked addresses must bind, defaults may not), and
// SIGHUP reloads that keep a broken zone's previous version and answer queries throughout.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { dig } from '../helpers/dig.ts';
import { ROOT, runCli, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { buildQuery, headerOf, udpExchange } from '../helpers/raw.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/core');
const ZONES = path.join(FIXTURES, 'zones');
const A = 1;

describe('gslbd check', () => {
  it('exits 0 and lists the zones when every zone loads', async () => {
    const r = await runCli(['check', '--zones', ZONES]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('zone example.net.: loaded serial 2024010101');
    expect(r.stdout).toContain('zone child.example.net.: loaded serial 2024010101');
  });

  it('exits 1 with file:line: reason for each zone with an error', async () => {
    const bad = path.join(FIXTURES, 'bad');
    const r = await runCli(['check', '--zones', bad]);
    expect(r.code).toBe(1);
    const errors = r.stderr.trim().split('\n');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/bad\/example\.net\.zone:7: .*192\.0\.2\.300/);
    expect(errors[1]).toMatch(/bad\/example\.org\.zone:8: .*CNAME and other data/);
  });
});

describe('gslbd serve --listen', () => {
  // Runs that exit on their own keep their (empty) journal here, not in ./data.
  let data: string;
  beforeAll(async () => {
    data = await mkdtemp(path.join(os.tmpdir(), 'gslbd-core-cli-'));
  });
  afterAll(async () => {
    if (data) await rm(data, { recursive: true, force: true });
  });

  it('exits non-zero with a clear error when an address asked for cannot be bound', async () => {
    // 192.0.2.1 (TEST-NET-1) is assigned to no interface of this machine.
    const local = Object.values(os.networkInterfaces())
      .flat()
      .map((i) => i?.address);
    expect(local).not.toContain('192.0.2.1');
    const r = await runCli(['serve', '--zones', ZONES, '--listen', '192.0.2.1:5300', '--data', data], 15_000);
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull(); // it exited by itself
    expect(r.stderr).toMatch(/gslbd: cannot bind UDP 192\.0\.2\.1:5300: .*EADDRNOTAVAIL/);
  });

  it('exits non-zero when a listen address is not an IP address', async () => {
    const r = await runCli(['serve', '--zones', ZONES, '--listen', 'localhost:5300', '--data', data], 15_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/listen address "localhost:5300": "localhost" is not an IP address/);
  });

  it('serves on every address asked for, IPv4 and IPv6', async () => {
    const server = await startGslbd(['--zones', ZONES, '--listen', '127.0.0.1:0', '--listen', '[::1]:0']);
    try {
      const v6 = await server.waitForLog((l) => l.msg === 'listening' && String(l.address).startsWith('[::1]:'));
      const r4 = await dig(server.port, ['www.example.net', 'A']);
      expect(r4.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
      const r6 = await dig(v6.port as number, ['www.example.net', 'AAAA'], '::1');
      expect(r6.flags).toEqual(['qr', 'aa']);
      expect(r6.answer.map((a) => a.data)).toEqual(['2001:db8::10']);
      const t6 = await dig(v6.port as number, ['www.example.net', 'A', '+tcp'], '::1');
      expect(t6.protocol).toBe('TCP');
      expect(t6.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
    } finally {
      await server.stop();
    }
  });

  it('only warns when a default address cannot be bound, and serves on the others', async (ctx) => {
    // The defaults are 127.0.0.1:5300 and [::1]:5300. Hold [::1]:5300 so it cannot be bound;
    // skip if something on this machine already uses 127.0.0.1:5300 (e.g. an `npm start`).
    if (!(await udpPortFree('127.0.0.1', 5300)) || !(await tcpPortFree('127.0.0.1', 5300))) ctx.skip();
    const holder = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    await new Promise<void>((resolve, reject) => {
      holder.once('error', reject);
      holder.bind({ address: '::1', port: 5300 }, resolve);
    }).catch(() => ctx.skip());
    let server: Gslbd | undefined;
    try {
      server = await startGslbd(['--zones', ZONES], {}, { defaultListen: true });
      const warning = await server.waitForLog((l) => l.msg === 'default listen address skipped');
      expect(warning.address).toBe('[::1]:5300');
      expect(server.port).toBe(5300);
      const r = await dig(5300, ['www.example.net', 'A']);
      expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
    } finally {
      await server?.stop();
      holder.close();
    }
  });
});

describe('SIGHUP reload', () => {
  let dir: string;
  let file: string;
  let server: Gslbd;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'gslbd-core-reload-'));
    await cp(ZONES, dir, { recursive: true });
    file = path.join(dir, 'example.net.zone');
    server = await startGslbd(['--zones', dir]);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Sends SIGHUP to this server's process and resolves with the first later log line matching. */
  async function reload(match: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const mark = server.logs.length;
    server.proc.kill('SIGHUP');
    return server.waitForLog((l) => server.logs.indexOf(l) >= mark && match(l), 10_000);
  }

  /**
   * Runs `work` while querying in a loop (www.child.example.net, whose zone does not change, and
   * www.example.net), and four more times once it is done; resolves with the rcode and first
   * address of each reply.
   */
  async function whileQuerying(work: () => Promise<unknown>) {
    const seen: { name: string; rcode: number | null; address: string | null }[] = [];
    let doneAt: number | null = null;
    const loop = (async () => {
      const deadline = Date.now() + 15_000;
      for (let i = 0; (doneAt === null || i < doneAt + 4) && Date.now() < deadline; i++) {
        const name = i % 2 ? 'www.example.net' : 'www.child.example.net';
        const reply = await udpExchange(server.port, buildQuery(name, A), 1000);
        const h = reply && headerOf(reply);
        seen.push({
          name,
          rcode: h ? h.rcode : null,
          address: h?.ancount ? [...reply!.subarray(reply!.length - 4)].join('.') : null,
        });
      }
    })();
    try {
      await work();
    } finally {
      doneAt = seen.length;
      await loop;
    }
    expect(seen.length).toBeGreaterThanOrEqual(doneAt + 4);
    return seen;
  }

  const editZone = async (from: string, to: string) => {
    const text = await readFile(file, 'utf8');
    expect(text).toContain(from);
    await writeFile(file, text.replace(from, to));
  };

  it('serves the new data after the zone file changes', async () => {
    expect((await dig(server.port, ['www.example.net', 'A'])).answer.map((a) => a.data)).toEqual(['192.0.2.10']);
    const seen = await whileQuerying(async () => {
      await editZone('2024010101', '2024010102');
      await editZone('www       IN A     192.0.2.10', 'www       IN A     192.0.2.11');
      await reload((l) => l.msg === 'zone loaded' && l.zone === 'example.net.' && l.serial === 2024010102);
    });
    expect(seen.filter((s) => s.rcode !== 0)).toEqual([]);
    expect(seen.filter((s) => s.name === 'www.child.example.net' && s.address !== '192.0.2.60')).toEqual([]);
    expect(new Set(seen.filter((s) => s.name === 'www.example.net').map((s) => s.address))).toContain('192.0.2.11');
    const r = await dig(server.port, ['www.example.net', 'A']);
    expect(r.answer.map((a) => a.text)).toEqual(['www.example.net. 3600 IN A 192.0.2.11']);
    const soa = await dig(server.port, ['example.net', 'SOA']);
    expect(soa.answer[0]!.data).toContain(' 2024010102 ');
  }, 30_000);

  it('keeps the previous version in service and logs file:line when the changed file is broken', async () => {
    const text = await readFile(file, 'utf8');
    const line = text.split('\n').findIndex((l) => l.startsWith('www ')) + 1;
    let failure: Record<string, unknown> = {};
    const seen = await whileQuerying(async () => {
      await editZone('www       IN A     192.0.2.11', 'www       IN A     192.0.2.999');
      failure = await reload((l) => l.msg === 'zone failed to load: previous version kept');
    });
    expect(failure.zone).toBe('example.net.');
    expect(String(failure.error)).toContain(`example.net.zone:${line}: `);
    expect(String(failure.error)).toContain('192.0.2.999');
    expect(seen.filter((s) => s.rcode !== 0)).toEqual([]);
    expect(seen.filter((s) => s.name === 'www.example.net' && s.address !== '192.0.2.11')).toEqual([]);
    const r = await dig(server.port, ['www.example.net', 'A']);
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.11']);
  }, 30_000);

  it('stops serving a zone whose file is removed: REFUSED, while the other zones answer', async () => {
    const seen = await whileQuerying(async () => {
      await rm(file);
      await reload((l) => l.msg === 'zone removed' && l.zone === 'example.net.');
    });
    expect(seen.filter((s) => s.rcode === null)).toEqual([]);
    expect(seen.filter((s) => s.name === 'www.child.example.net' && s.rcode !== 0)).toEqual([]);
    expect(seen.filter((s) => s.name === 'www.example.net' && s.rcode !== 0 && s.rcode !== 5)).toEqual([]);
    const r = await dig(server.port, ['www.example.net', 'A']);
    expect(r.status).toBe('REFUSED');
    const child = await dig(server.port, ['www.child.example.net', 'A']);
    expect(child.answer.map((a) => a.data)).toEqual(['192.0.2.60']);
  }, 30_000);
});

function udpPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind({ address: host, port }, () => s.close(() => resolve(true)));
  });
}

function tcpPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port }, () => s.close(() => resolve(true)));
  });
}
