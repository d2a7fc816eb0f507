// Each prober against real listeners on 127.0.0.x: what passes, what fails, which failures are
// hard (the target itself said no), and that every probe ends by its timeout.

import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rcode, Type } from '../../src/0-base/constants.ts';
import type { CheckSpec } from '../../src/3-health/types.ts';
import { dnsProber } from '../../src/3-health/probers/dns.ts';
import { httpProber, USER_AGENT } from '../../src/3-health/probers/http.ts';
import { tcpProber } from '../../src/3-health/probers/tcp.ts';
import type { ProbeResult, Prober } from '../../src/3-health/types.ts';
import {
  httpListener,
  selfSignedCert,
  tcpListener,
  until,
  type Certificate,
  type HttpListener,
  type Listener,
} from '../helpers/listeners.ts';

const BASE: CheckSpec = {
  type: 'tcp',
  port: 0,
  intervalMs: 2000,
  timeoutMs: 500,
  rise: 1,
  fall: 1,
  path: '/',
  expect: [200],
  insecure: false,
};

/** Runs one probe the way the scheduler does: its signal aborts when the timeout passes. */
async function probe(
  prober: Prober,
  address: string,
  spec: Partial<CheckSpec>,
  watch?: { signal: AbortSignal; onLost: () => void },
): Promise<ProbeResult> {
  const full = { ...BASE, ...spec };
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), full.timeoutMs);
  try {
    return await prober.probe({ address, spec: full }, { signal: ctl.signal, ...(watch && { watch }) });
  } finally {
    clearTimeout(timer);
  }
}

/** A port on `host` with nothing listening: bind one, then close it. */
async function closedPort(host: string): Promise<number> {
  const l = await tcpListener(host);
  await l.stop();
  return l.port;
}

describe('tcp prober', () => {
  let up: Listener;
  beforeAll(async () => {
    up = await tcpListener('127.0.0.2');
  });
  afterAll(async () => {
    await up.stop();
  });

  it('passes when the handshake completes', async () => {
    const r = await probe(tcpProber, '127.0.0.2', { port: up.port });
    expect(r).toMatchObject({ ok: true, reason: 'connected', hard: false });
    expect(r.latencyMs).toBeLessThan(500);
  });

  it('fails hard on a refused connection', async () => {
    const r = await probe(tcpProber, '127.0.0.2', { port: await closedPort('127.0.0.2') });
    expect(r).toMatchObject({ ok: false, reason: 'connect ECONNREFUSED', hard: true });
  });

  describe('a listener that never completes the handshake', () => {
    // A frozen server (SIGSTOP) whose accept queue is full: the kernel drops further SYNs, so a
    // connect neither succeeds nor is refused; only the probe's timeout ends it.
    let frozen: ChildProcess;
    let port: number;
    const fillers: net.Socket[] = [];
    beforeAll(async () => {
      frozen = spawn(
        process.execPath,
        [
          '-e',
          `
        const s = require('node:net').createServer(() => {});
        s.listen({ host: '127.0.0.3', port: 0, backlog: 1 }, () => console.log(s.address().port));
      `,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      port = await new Promise<number>((resolve, reject) => {
        frozen.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        frozen.once('exit', (code) => reject(new Error(`listener exited (${code})`)));
      });
      frozen.kill('SIGSTOP');
      // Fill the accept queue (backlog + 1 on Linux) and then some.
      for (let i = 0; i < 4; i++) {
        const s = net.connect({ host: '127.0.0.3', port });
        s.on('error', () => {});
        fillers.push(s);
      }
      await new Promise((r) => setTimeout(r, 200));
    });
    afterAll(() => {
      for (const s of fillers) s.destroy();
      if (frozen.pid !== undefined && frozen.exitCode === null) frozen.kill('SIGKILL');
    });

    it('fails by timeout, not hard, within the timeout', async () => {
      const started = performance.now();
      const r = await probe(tcpProber, '127.0.0.3', { port, timeoutMs: 300 });
      expect(r).toMatchObject({ ok: false, reason: 'timeout after 300 ms', hard: false });
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(performance.now() - started).toBeLessThan(3000);
    });
  });

  it('with a watch, reports the loss when the target closes the connection', async () => {
    const watch = new AbortController();
    let lost = 0;
    const r = await probe(tcpProber, '127.0.0.2', { port: up.port }, { signal: watch.signal, onLost: () => lost++ });
    expect(r.ok).toBe(true);
    await until(() => up.open.size === 1, 2000, 'the watched connection at the listener');
    // The server side goes away (a crashed server's kernel resets its connections).
    for (const s of up.open) s.resetAndDestroy();
    await until(() => lost === 1, 2000, 'onLost');
    await new Promise((r) => setTimeout(r, 100));
    expect(lost).toBe(1);
    watch.abort();
  });

  it('with a watch, closes the connection without reporting a loss when the watch ends', async () => {
    const watch = new AbortController();
    let lost = 0;
    const before = up.accepted.length;
    const r = await probe(tcpProber, '127.0.0.2', { port: up.port }, { signal: watch.signal, onLost: () => lost++ });
    expect(r.ok).toBe(true);
    await until(() => up.accepted.length === before + 1 && up.open.size === 1, 2000, 'the watched connection');
    watch.abort();
    await until(() => up.open.size === 0, 2000, 'the connection to close');
    expect(lost).toBe(0);
  });

  it('without a watch, closes the connection at once', async () => {
    const r = await probe(tcpProber, '127.0.0.2', { port: up.port });
    expect(r.ok).toBe(true);
    await until(() => up.open.size === 0, 2000, 'the probe connection to close');
  });
});

describe('http prober', () => {
  let web: HttpListener;
  const spec = (over: Partial<CheckSpec> = {}): Partial<CheckSpec> => ({ type: 'http', port: web.port, ...over });
  beforeAll(async () => {
    web = await httpListener('127.0.0.4');
  });
  afterAll(async () => {
    await web.stop();
  });

  it('passes on 200, sending GET path with our User-Agent and the address as Host', async () => {
    web.mode = { kind: 'ok' };
    const before = web.requests.length;
    expect(await probe(httpProber, '127.0.0.4', spec({ path: '/healthz?x=1' }))).toMatchObject({
      ok: true,
      reason: 'HTTP 200',
      hard: false,
    });
    expect(web.requests.slice(before)).toEqual([
      expect.objectContaining({ path: '/healthz?x=1', host: '127.0.0.4', userAgent: USER_AGENT }),
    ]);
  });

  it('sends `hostname` as the Host header', async () => {
    web.mode = { kind: 'ok' };
    await probe(httpProber, '127.0.0.4', spec({ hostHeader: 'app.example.com' }));
    expect(web.requests.at(-1)!.host).toBe('app.example.com');
  });

  it('fails, not hard, on a status outside `expect`', async () => {
    web.mode = { kind: 'status', status: 500 };
    expect(await probe(httpProber, '127.0.0.4', spec())).toMatchObject({ ok: false, reason: 'HTTP 500', hard: false });
  });

  it('passes on any status of the `expect` list', async () => {
    web.mode = { kind: 'ok', status: 204 };
    expect(await probe(httpProber, '127.0.0.4', spec({ expect: [200, 204] }))).toMatchObject({
      ok: true,
      reason: 'HTTP 204',
    });
    web.mode = { kind: 'status', status: 503 };
    expect(await probe(httpProber, '127.0.0.4', spec({ expect: [200, 204] }))).toMatchObject({
      ok: false,
      reason: 'HTTP 503',
    });
    expect(await probe(httpProber, '127.0.0.4', spec({ expect: [503] }))).toMatchObject({
      ok: true,
      reason: 'HTTP 503',
    });
  });

  it('passes when the body contains `body` and fails when it does not', async () => {
    web.mode = { kind: 'ok' };
    expect(await probe(httpProber, '127.0.0.4', spec({ body: 'status: OK' }))).toMatchObject({
      ok: true,
      reason: 'HTTP 200, body matched',
    });
    web.mode = { kind: 'wrong-body' };
    expect(await probe(httpProber, '127.0.0.4', spec({ body: 'status: OK' }))).toMatchObject({
      ok: false,
      reason: 'HTTP 200, body lacks "status: OK"',
      hard: false,
    });
  });

  it('fails with a timeout reason when the response is slower than the timeout', async () => {
    web.mode = { kind: 'slow', ms: 2000 };
    const started = performance.now();
    const r = await probe(httpProber, '127.0.0.4', spec({ timeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 300 ms', hard: false });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('fails with a timeout reason when the body it must read never comes', async () => {
    web.mode = { kind: 'stall-body' };
    const started = performance.now();
    const r = await probe(httpProber, '127.0.0.4', spec({ timeoutMs: 300, body: 'status: OK' }));
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 300 ms', hard: false });
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('fails hard on a refused connection', async () => {
    const r = await probe(httpProber, '127.0.0.4', spec({ port: await closedPort('127.0.0.4') }));
    expect(r).toMatchObject({ ok: false, reason: 'http ECONNREFUSED', hard: true });
  });
});

describe('https prober', () => {
  let cert: Certificate;
  let web: HttpListener;
  const spec = (over: Partial<CheckSpec> = {}): Partial<CheckSpec> => ({ type: 'https', port: web.port, ...over });
  beforeAll(async () => {
    cert = selfSignedCert();
    web = await httpListener('127.0.0.5', { tls: cert });
  });
  afterAll(async () => {
    await web.stop();
  });

  it('fails on a self-signed certificate unless `insecure`', async () => {
    const r = await probe(httpProber, '127.0.0.5', spec());
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(
      /^https (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID)/,
    );
    expect(r.hard).toBe(false);
  });

  it('passes on a self-signed certificate with `insecure: true`, body checked over TLS', async () => {
    web.mode = { kind: 'ok' };
    expect(await probe(httpProber, '127.0.0.5', spec({ insecure: true, body: 'status: OK' }))).toMatchObject({
      ok: true,
      reason: 'HTTP 200, body matched',
    });
  });

  it('sends `hostname` as the SNI server name and the Host header', async () => {
    web.mode = { kind: 'ok' };
    await probe(httpProber, '127.0.0.5', spec({ insecure: true, hostHeader: 'app.example.com' }));
    expect(web.requests.at(-1)).toMatchObject({
      servername: 'app.example.com',
      host: 'app.example.com',
      userAgent: USER_AGENT,
    });
  });

  it('sends no SNI when probing by address alone (RFC 6066 §3: no IP literals)', async () => {
    await probe(httpProber, '127.0.0.5', spec({ insecure: true }));
    expect(web.requests.at(-1)).toMatchObject({ servername: false, host: '127.0.0.5' });
  });

  it('fails with a timeout reason on a slow TLS server', async () => {
    web.mode = { kind: 'slow', ms: 2000 };
    const r = await probe(httpProber, '127.0.0.5', spec({ insecure: true, timeoutMs: 300 }));
    expect(r).toMatchObject({ ok: false, reason: 'timeout after 300 ms' });
    web.mode = { kind: 'ok' };
  });

  it('without `insecure`, checks the certificate: matching `hostname` still fails on trust', async () => {
    // The certificate is for CN=localhost: the failure is the untrusted issuer, not the name.
    const r = await probe(httpProber, '127.0.0.5', spec({ hostHeader: 'localhost' }));
    expect(r.reason).toMatch(/SELF_SIGNED/);
  });
});

describe('dns prober', () => {
  /** A UDP responder that echoes each query back with QR set and `rcode` (or stays silent). */
  let sock: dgram.Socket;
  let port: number;
  let rcode: number | 'silent' = Rcode.NOERROR;
  const asked: { name: string; type: number }[] = [];
  beforeAll(async () => {
    sock = dgram.createSocket('udp4');
    sock.on('message', (msg, from) => {
      let off = 12;
      const labels: string[] = [];
      while (msg[off]! > 0) {
        labels.push(msg.subarray(off + 1, off + 1 + msg[off]!).toString('latin1'));
        off += 1 + msg[off]!;
      }
      asked.push({ name: labels.join('.'), type: msg.readUInt16BE(off + 1) });
      if (rcode === 'silent') return;
      const reply = Buffer.from(msg.subarray(0, off + 5));
      reply.writeUInt16BE(0x8400 | rcode, 2);
      reply.writeUInt16BE(1, 4);
      reply.fill(0, 6, 12);
      sock.send(reply, from.port, from.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.6', () => r()));
    port = sock.address().port;
  });
  afterAll(() => {
    sock.close();
  });
  const spec = (expectRcode: number, over: Partial<CheckSpec> = {}): Partial<CheckSpec> => ({
    type: 'dns',
    port,
    query: { name: 'health.example.com', type: Type.SOA, rcode: expectRcode },
    ...over,
  });

  it('passes when the answer carries the expected rcode, asking the configured name and type', async () => {
    rcode = Rcode.NOERROR;
    expect(await probe(dnsProber, '127.0.0.6', spec(Rcode.NOERROR))).toMatchObject({
      ok: true,
      reason: 'rcode NOERROR',
      hard: false,
    });
    expect(asked.at(-1)).toEqual({ name: 'health.example.com', type: Type.SOA });
  });

  it('fails on another rcode, naming it', async () => {
    rcode = Rcode.REFUSED;
    expect(await probe(dnsProber, '127.0.0.6', spec(Rcode.NOERROR))).toMatchObject({
      ok: false,
      reason: 'rcode REFUSED',
    });
    rcode = Rcode.NXDOMAIN;
    expect(await probe(dnsProber, '127.0.0.6', spec(Rcode.NXDOMAIN))).toMatchObject({
      ok: true,
      reason: 'rcode NXDOMAIN',
    });
  });

  it('fails by timeout when no answer comes', async () => {
    rcode = 'silent';
    const started = performance.now();
    const r = await probe(dnsProber, '127.0.0.6', spec(Rcode.NOERROR, { timeoutMs: 300 }));
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/timeout/);
    expect(performance.now() - started).toBeLessThan(1500);
    rcode = Rcode.NOERROR;
  });
});
