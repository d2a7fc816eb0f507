// Referrals for delegated names (RFC 1034 §4.3.2 step 3b) and DS from the parent side of a cut
// (RFC 4035 §3.1.4.1), over real sockets with the real dig.

import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { dig, texts, type DigResult } from '../helpers/dig.ts';
import { gslbdForTests, ROOT } from '../helpers/gslbd.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const SOA_NET = 'example.net. 300 IN SOA ns1.example.net. hostmaster.example.net. 2024010101 7200 900 1209600 300';
const DELEG_NS = [
  'deleg.example.net. 3600 IN NS ns1.deleg.example.net.',
  'deleg.example.net. 3600 IN NS ns.example.org.',
];
const DELEG_GLUE = ['ns1.deleg.example.net. 3600 IN A 192.0.2.53', 'ns1.deleg.example.net. 3600 IN AAAA 2001:db8::53'];
const lines = texts;

const served = gslbdForTests(['--zones', ZONES]);
const q = (...args: string[]) => dig(served.server.port, args);

/** A referral: NOERROR, AA clear, no answer, the cut's NS in authority, `glue` in additional. */
function expectReferral(r: DigResult, ns: string[], glue: string[]): void {
  expect(r.status).toBe('NOERROR');
  expect(r.flags).toEqual(['qr']);
  expect(r.answer).toEqual([]);
  expect(lines(r.authority)).toEqual(ns);
  expect(lines(r.additional)).toEqual(glue);
}

describe('referrals', () => {
  it('refers a name below a cut: no AA, NS in authority, glue in additional', async () => {
    expectReferral(await q('host.deleg.example.net', 'A'), DELEG_NS, DELEG_GLUE);
  });

  it('refers a name several labels below the cut', async () => {
    expectReferral(await q('a.b.host.deleg.example.net', 'AAAA'), DELEG_NS, DELEG_GLUE);
  });

  it('refers a query for the delegation point itself', async () => {
    expectReferral(await q('deleg.example.net', 'A'), DELEG_NS, DELEG_GLUE);
  });

  it('refers an NS query at the delegation point (the child is authoritative for it)', async () => {
    expectReferral(await q('deleg.example.net', 'NS'), DELEG_NS, DELEG_GLUE);
  });

  it('refers a query for the glue name: glue is not authoritative data', async () => {
    expectReferral(await q('ns1.deleg.example.net', 'A'), DELEG_NS, DELEG_GLUE);
  });

  it('refers without glue when the only name server is out of the zone', async () => {
    expectReferral(await q('www.nods.example.net', 'A'), ['nods.example.net. 3600 IN NS ns.example.org.'], []);
  });

  it('refers the same way over TCP', async () => {
    const r = await q('host.deleg.example.net', 'A', '+tcp');
    expect(r.protocol).toBe('TCP');
    expectReferral(r, DELEG_NS, DELEG_GLUE);
  });
});

describe('DS at a delegation point', () => {
  it('answers DS at a cut from the parent side, with AA', async () => {
    const r = await q('deleg.example.net', 'DS');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toEqual(['qr', 'aa']);
    expect(r.answer.map((a) => [a.name, a.type, a.data.split(' ').slice(0, 3).join(' ')])).toEqual([
      ['deleg.example.net.', 'DS', '12345 13 2'],
    ]);
    expect(r.authority).toEqual([]);
  });

  it("answers NODATA with the parent's SOA at a cut without DS", async () => {
    const r = await q('nods.example.net', 'DS');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toEqual(['qr', 'aa']);
    expect(r.answer).toEqual([]);
    expect(lines(r.authority)).toEqual([SOA_NET]);
  });

  it('refers DS for a name below the cut, which the child answers', async () => {
    expectReferral(await q('host.deleg.example.net', 'DS'), DELEG_NS, DELEG_GLUE);
  });

  it('answers DS at a child apex from the parent when both zones are served', async () => {
    const r = await q('child.example.net', 'DS');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toEqual(['qr', 'aa']);
    expect(r.answer.map((a) => [a.name, a.type, a.data.split(' ').slice(0, 3).join(' ')])).toEqual([
      ['child.example.net.', 'DS', '54321 13 2'],
    ]);
    expect(r.authority).toEqual([]);
  });

  it('answers other types at that child apex from the child zone', async () => {
    const r = await q('child.example.net', 'TXT');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(r.authority.map((a) => a.name)).toEqual(['child.example.net.']);
  });
});
