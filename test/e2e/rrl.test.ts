// Response rate limiting end to end, in the style of Knot's RRL tests: a real gslbd with the issue's
// `rrl:` line, a paced flood of a few seconds from one client over real UDP, each query counted as
// answered, slipped (TC=1) or dropped; the rate and slip honoured within tolerance, /metrics in
// agreement with the counts, TCP and the whitelist never limited, and `--workers 2` together
// holding the configured rate. Loopback only: 127.0.x.y are distinct clients (each /24 a prefix).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flood } from '../helpers/flood.ts';
import { metric, type Sample } from '../helpers/ops.ts';
import { startWith, type Server } from '../helpers/rrl-server.ts';
import { buildQuery, headerOf, tcpExchange } from '../helpers/raw.ts';

const RATE = 20;
const RRL = `rrl: { rate: ${RATE}, slip: 2, whitelist: ["127.0.0.2/32"], ipv4-prefix: 24, ipv6-prefix: 56, log-only: false, table-size: 100000 }`;

const www = (id: number) => buildQuery('www.example.net', 1, { id });
const rrlMetric = (m: Sample[], labels: Record<string, string>) => metric(m, 'gslbd_rrl_responses_total', labels);

describe('rrl: one process', { timeout: 60_000 }, () => {
  let s: Server;
  beforeAll(async () => {
    // Transfers of example.net allowed to 127.0.0.1 alone: the others' AXFR is REFUSED by the transfer path.
    s = await startWith([RRL, 'zones-options:', '  example.net.:', '    transfer: { allow: ["127.0.0.1/32"] }']);
  }, 30_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('answers a flood from one /24 at the rate, slips every second limited answer, drops the rest; /metrics agrees', async () => {
    const seconds = 3;
    const r = await flood({ port: s.gslbd.port, query: www, seconds, qps: 400, from: '127.0.1.1' });
    const m = await s.metrics();
    // A full bucket (one second's worth), then the rate: 20 + 20 × 3 = 80.
    const expected = RATE + RATE * seconds;
    expect(r.sent).toBe(1200);
    expect(r.answered).toBeGreaterThanOrEqual(expected * 0.8);
    expect(r.answered).toBeLessThanOrEqual(expected * 1.2);
    const limited = r.sent - r.answered;
    expect(r.slipped / limited).toBeGreaterThan(0.45);
    expect(r.slipped / limited).toBeLessThan(0.55);
    expect(r.slipped + r.dropped).toBe(limited);
    expect(rrlMetric(m, { class: 'answer', action: 'sent' })).toBe(r.answered);
    expect(rrlMetric(m, { class: 'answer', action: 'slipped' })).toBe(r.slipped);
    expect(rrlMetric(m, { class: 'answer', action: 'dropped' })).toBe(r.dropped);
  });

  it('limits zone transfer questions over UDP like any other answer (REFUSED here: class error)', async () => {
    const r = await flood({
      port: s.gslbd.port,
      query: (id) => buildQuery('example.net', 252, { id }),
      seconds: 1,
      qps: 200,
      from: '127.0.9.1',
    });
    expect(r.answered).toBeLessThanOrEqual((RATE + RATE * 1) * 1.2);
    expect(r.slipped).toBeGreaterThan(0);
    expect(rrlMetric(await s.metrics(), { class: 'error', action: 'sent' })).toBeGreaterThanOrEqual(r.answered);
  });

  it('slips a bare TC=1 reply: header and question, no records, no OPT', async () => {
    const r = await flood({
      port: s.gslbd.port,
      query: (id) => buildQuery('www.example.net', 1, { id, edns: { payload: 1232 } }),
      seconds: 1,
      qps: 200,
      from: '127.0.2.1',
    });
    const tc = r.replies.filter((m) => headerOf(m).tc);
    expect(tc.length).toBeGreaterThan(50);
    const question = buildQuery('www.example.net', 1).subarray(12);
    for (const m of tc) {
      expect(headerOf(m)).toMatchObject({ qdcount: 1, ancount: 0, nscount: 0, arcount: 0, rcode: 0, qr: true });
      expect(m.subarray(12)).toEqual(question);
    }
  });

  it('logs a limited prefix once, not once per limited answer', async () => {
    const lines = s.gslbd.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('rrl:'));
    expect(lines.filter((l) => l.prefix === '127.0.1.0/24')).toHaveLength(1);
    expect(lines.find((l) => l.prefix === '127.0.1.0/24')).toMatchObject({ class: 'answer', limited: 1 });
  });

  it('keeps classes apart: an NXDOMAIN flood is limited on its own, and TCP is never limited', async () => {
    const nx = await flood({
      port: s.gslbd.port,
      query: (id) => buildQuery(`nx${id}.example.net`, 1, { id }),
      seconds: 2,
      qps: 300,
      from: '127.0.3.1',
    });
    expect(nx.answered).toBeLessThanOrEqual((RATE + RATE * 2) * 1.2);
    // The NXDOMAIN bucket is near empty (the flood's quiet 0.4 s refilled ~8): 15 answers of another class
    // at once go out in full, as do NXDOMAIN answers over TCP.
    const [udpAnswer, tcpNx] = await Promise.all([
      flood({ port: s.gslbd.port, query: www, seconds: 0.05, qps: 300, from: '127.0.3.1' }),
      tcpExchange(
        s.gslbd.port,
        Array.from({ length: 50 }, (_, id) => buildQuery(`tcp${id}.example.net`, 1, { id })),
        50,
        5000,
      ),
    ]);
    expect(udpAnswer).toMatchObject({ sent: 15, answered: 15 });
    expect(tcpNx).toHaveLength(50);
    expect(tcpNx.every((m) => headerOf(m).rcode === 3 && !headerOf(m).tc)).toBe(true);
    const m = await s.metrics();
    expect(rrlMetric(m, { class: 'nxdomain', action: 'sent' })).toBe(nx.answered);
    expect(rrlMetric(m, { class: 'nxdomain', action: 'dropped' })).toBe(nx.dropped);
  });

  it('never limits a whitelisted client', async () => {
    const r = await flood({ port: s.gslbd.port, query: www, seconds: 2, qps: 300, from: '127.0.0.2' });
    expect(r).toMatchObject({ sent: 600, answered: 600, slipped: 0, dropped: 0 });
    expect(rrlMetric(await s.metrics(), { action: 'exempt' })).toBe(600);
  });
});

describe('rrl: --workers 2', { timeout: 60_000 }, () => {
  let s: Server;
  beforeAll(async () => {
    s = await startWith([RRL], ['--workers', '2']);
    await s.gslbd.waitForLog((l) => l.msg === 'workers ready', 20_000);
  }, 40_000);
  afterAll(async () => {
    await s?.stop();
  });

  it('holds the configured rate across both workers: each limits to rate / 2', async () => {
    const seconds = 3;
    // Many source ports: SO_REUSEPORT spreads them over both workers, as a real flood's would be.
    const r = await flood({ port: s.gslbd.port, query: www, seconds, qps: 400, from: '127.0.1.1', sockets: 32 });
    const expected = RATE + RATE * seconds;
    expect(r.answered).toBeGreaterThanOrEqual(expected * 0.75);
    expect(r.answered).toBeLessThanOrEqual(expected * 1.25);
    const m = await s.metrics();
    expect(rrlMetric(m, { action: 'sent' })).toBe(r.answered);
    expect(rrlMetric(m, { action: 'slipped' })).toBe(r.slipped);
    expect(rrlMetric(m, { action: 'dropped' })).toBe(r.dropped);
  });
});
