// Negative answers (RFC 2308), wildcards (RFC 4592, CNAME wildcards included) and empty
// non-terminals, over real sockets with the real dig.

import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { dig, texts, type DigResult } from '../helpers/dig.ts';
import { gslbdForTests, ROOT } from '../helpers/gslbd.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
// example.net: SOA TTL 3600 > MINIMUM 300; child.example.net: SOA TTL 60 < MINIMUM 600.
const SOA_NET = 'example.net. 300 IN SOA ns1.example.net. hostmaster.example.net. 2024010101 7200 900 1209600 300';
const SOA_CHILD =
  'child.example.net. 60 IN SOA ns1.child.example.net. hostmaster.child.example.net. 2024010101 7200 900 1209600 600';
const lines = texts;

const served = gslbdForTests(['--zones', ZONES]);
const q = (...args: string[]) => dig(served.server.port, args);

/** Asserts an authoritative negative answer: no answer RRs, only the SOA in authority. */
function expectNegative(r: DigResult, status: 'NXDOMAIN' | 'NOERROR', soa: string): void {
  expect(r.status).toBe(status);
  expect(r.flags).toContain('aa');
  expect(r.answer).toEqual([]);
  expect(lines(r.authority)).toEqual([soa]);
  expect(r.additional).toEqual([]);
}

describe('NXDOMAIN and NODATA (RFC 2308)', () => {
  it('answers NXDOMAIN with the SOA at TTL = MINIMUM when MINIMUM is the smaller', async () => {
    expectNegative(await q('nothing.example.net', 'A'), 'NXDOMAIN', SOA_NET);
  });

  it('answers NODATA with the SOA at TTL = MINIMUM when MINIMUM is the smaller', async () => {
    expectNegative(await q('www.example.net', 'TXT'), 'NOERROR', SOA_NET);
  });

  it("answers NXDOMAIN with the SOA at the SOA's own TTL when that is the smaller", async () => {
    expectNegative(await q('nothing.child.example.net', 'A'), 'NXDOMAIN', SOA_CHILD);
  });

  it("answers NODATA with the SOA at the SOA's own TTL when that is the smaller", async () => {
    expectNegative(await q('www.child.example.net', 'MX'), 'NOERROR', SOA_CHILD);
  });

  it('answers NXDOMAIN over TCP the same way', async () => {
    expectNegative(await q('nothing.example.net', 'AAAA', '+tcp'), 'NXDOMAIN', SOA_NET);
  });
});

describe('wildcards (RFC 4592)', () => {
  it('synthesizes an answer owned by the name asked', async () => {
    const r = await q('anything.wild.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual(['anything.wild.example.net. 3600 IN A 203.0.113.80']);
    expect(r.authority).toEqual([]);
  });

  it('synthesizes each type the wildcard owns', async () => {
    const r = await q('anything.wild.example.net', 'TXT');
    expect(lines(r.answer)).toEqual(['anything.wild.example.net. 3600 IN TXT "from the wildcard"']);
  });

  it('answers NODATA for a type the wildcard does not own', async () => {
    expectNegative(await q('anything.wild.example.net', 'AAAA'), 'NOERROR', SOA_NET);
  });

  it('covers names several labels below the closest encloser', async () => {
    const r = await q('a.b.c.wild.example.net', 'A');
    expect(lines(r.answer)).toEqual(['a.b.c.wild.example.net. 3600 IN A 203.0.113.80']);
  });

  it('does not apply to a name that exists: its own data answers', async () => {
    const r = await q('exists.wild.example.net', 'A');
    expect(lines(r.answer)).toEqual(['exists.wild.example.net. 3600 IN A 203.0.113.81']);
  });

  it('does not apply to a name that exists but lacks the type: NODATA', async () => {
    expectNegative(await q('exists.wild.example.net', 'TXT'), 'NOERROR', SOA_NET);
  });

  it('answers the wildcard owner itself, asked literally, from its data', async () => {
    const r = await q('*.wild.example.net', 'A');
    expect(lines(r.answer)).toEqual(['*.wild.example.net. 3600 IN A 203.0.113.80']);
  });

  it("answers NODATA at the wildcard's parent, which exists as an empty non-terminal", async () => {
    expectNegative(await q('wild.example.net', 'A'), 'NOERROR', SOA_NET);
  });

  it('synthesizes a CNAME from a CNAME wildcard and follows it in the zone', async () => {
    const r = await q('foo.cw.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual([
      'foo.cw.example.net. 3600 IN CNAME www.example.net.',
      'www.example.net. 3600 IN A 192.0.2.10',
    ]);
  });

  it('answers a CNAME query at a CNAME wildcard with the synthesized CNAME alone', async () => {
    const r = await q('bar.cw.example.net', 'CNAME');
    expect(lines(r.answer)).toEqual(['bar.cw.example.net. 3600 IN CNAME www.example.net.']);
  });
});

describe('empty non-terminals', () => {
  it('answers NODATA, not NXDOMAIN, at an empty non-terminal', async () => {
    expectNegative(await q('b.ent.example.net', 'TXT'), 'NOERROR', SOA_NET);
  });

  it('answers NODATA at an empty non-terminal that a wildcard sibling would otherwise cover', async () => {
    // *.ent owns an A, but b.ent exists (it has a descendant), so the wildcard does not apply.
    expectNegative(await q('b.ent.example.net', 'A'), 'NOERROR', SOA_NET);
  });

  it('answers NODATA at an empty non-terminal two labels up', async () => {
    expectNegative(await q('ent.example.net', 'A'), 'NOERROR', SOA_NET);
  });

  it('lets the wildcard answer a name that does not exist beside the empty non-terminal', async () => {
    const r = await q('zz.ent.example.net', 'A');
    expect(lines(r.answer)).toEqual(['zz.ent.example.net. 3600 IN A 203.0.113.99']);
  });

  it('answers NXDOMAIN below an empty non-terminal, the closest encloser, which has no wildcard', async () => {
    expectNegative(await q('x.b.ent.example.net', 'A'), 'NXDOMAIN', SOA_NET);
  });

  it('serves the data of the name below the empty non-terminals', async () => {
    const r = await q('a.b.ent.example.net', 'TXT');
    expect(lines(r.answer)).toEqual(['a.b.ent.example.net. 3600 IN TXT "a.b.ent"']);
  });
});
