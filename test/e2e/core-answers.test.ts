// Authoritative answers over real sockets with the real dig: AA, CNAME chains (RFC 1034 §4.3.2,
// RFC 6604), the question echoed byte for byte, minimal responses, additional-section addresses,
// ANY (RFC 8482), REFUSED outside our zones, and the most specific of parent and child zones.

import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { dig, texts } from '../helpers/dig.ts';
import { gslbdForTests, ROOT } from '../helpers/gslbd.ts';
import { buildQuery, headerOf, udpExchange } from '../helpers/raw.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const SOA_NET = 'example.net. 300 IN SOA ns1.example.net. hostmaster.example.net. 2024010101 7200 900 1209600 300';
const lines = texts;

const served = gslbdForTests(['--zones', ZONES]);
const q = (...args: string[]) => dig(served.server.port, args);

describe('authoritative answers', () => {
  it('sets AA on an answer from zone data and keeps the authority section empty', async () => {
    const r = await q('www.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toEqual(['qr', 'aa']);
    expect(lines(r.answer)).toEqual(['www.example.net. 3600 IN A 192.0.2.10']);
    expect(r.authority).toEqual([]);
    expect(r.additional).toEqual([]);
  });

  it('answers the same over TCP', async () => {
    const r = await q('www.example.net', 'AAAA', '+tcp');
    expect(r.protocol).toBe('TCP');
    expect(r.flags).toEqual(['qr', 'aa']);
    expect(lines(r.answer)).toEqual(['www.example.net. 3600 IN AAAA 2001:db8::10']);
  });

  it('copies RD from the query and never sets RA', async () => {
    const r = await q('www.example.net', 'A', '+recurse');
    expect(r.flags).toEqual(['qr', 'aa', 'rd']);
  });
});

describe('CNAME chains', () => {
  it('follows a three-hop in-zone chain in order and ends with the target data', async () => {
    const r = await q('c1.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual([
      'c1.example.net. 3600 IN CNAME c2.example.net.',
      'c2.example.net. 3600 IN CNAME c3.example.net.',
      'c3.example.net. 3600 IN CNAME www.example.net.',
      'www.example.net. 3600 IN A 192.0.2.10',
    ]);
    expect(r.authority).toEqual([]);
  });

  it('follows a two-hop chain', async () => {
    const r = await q('two.example.net', 'AAAA');
    expect(lines(r.answer)).toEqual([
      'two.example.net. 3600 IN CNAME c3.example.net.',
      'c3.example.net. 3600 IN CNAME www.example.net.',
      'www.example.net. 3600 IN AAAA 2001:db8::10',
    ]);
  });

  it('answers a CNAME query with the CNAME alone, without following it', async () => {
    const r = await q('c1.example.net', 'CNAME');
    expect(lines(r.answer)).toEqual(['c1.example.net. 3600 IN CNAME c2.example.net.']);
  });

  it('keeps the chain and answers NXDOMAIN with the SOA when the chain ends at no name (RFC 6604)', async () => {
    const r = await q('dangling.example.net', 'A');
    expect(r.status).toBe('NXDOMAIN');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual(['dangling.example.net. 3600 IN CNAME nowhere.example.net.']);
    expect(lines(r.authority)).toEqual([SOA_NET]);
  });

  it('keeps the chain and answers NODATA with the SOA when the target lacks the type', async () => {
    const r = await q('c3.example.net', 'TXT');
    expect(r.status).toBe('NOERROR');
    expect(lines(r.answer)).toEqual(['c3.example.net. 3600 IN CNAME www.example.net.']);
    expect(lines(r.authority)).toEqual([SOA_NET]);
  });

  it('stops at a target outside every zone served', async () => {
    const r = await q('out.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual(['out.example.net. 3600 IN CNAME www.example.org.']);
    expect(r.authority).toEqual([]);
  });

  it('stops at the zone cut when the target is in a delegated child, adding the referral (as Knot does)', async () => {
    const r = await q('tochild.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(lines(r.answer)).toEqual(['tochild.example.net. 3600 IN CNAME www.child.example.net.']);
    expect(lines(r.authority)).toEqual(['child.example.net. 3600 IN NS ns1.child.example.net.']);
    expect(lines(r.additional)).toEqual(['ns1.child.example.net. 3600 IN A 192.0.2.54']);
  });

  it('ends a CNAME loop after each link once', async () => {
    const r = await q('loop1.example.net', 'A');
    expect(r.status).toBe('NOERROR');
    expect(lines(r.answer)).toEqual([
      'loop1.example.net. 3600 IN CNAME loop2.example.net.',
      'loop2.example.net. 3600 IN CNAME loop1.example.net.',
    ]);
  });
});

describe('the question', () => {
  it('is echoed byte for byte, mixed case (0x20) included', async () => {
    const query = buildQuery('wWw.ExAmPlE.NeT', 1, { id: 0xbeef });
    const reply = await udpExchange(served.server.port, query);
    expect(reply).not.toBeNull();
    const h = headerOf(reply!);
    expect(h).toMatchObject({ id: 0xbeef, qr: true, aa: true, qdcount: 1, ancount: 1 });
    expect(reply!.subarray(12, query.length).equals(query.subarray(12))).toBe(true);
  });

  it('reads back in dig with the case it was asked in', async () => {
    const r = await q('WwW.eXaMpLe.NeT', 'A');
    expect(r.question).toEqual(['WwW.eXaMpLe.NeT. IN A']);
    expect(r.answer.map((a) => a.data)).toEqual(['192.0.2.10']);
  });
});

describe('minimal responses and additional-section addresses', () => {
  it('adds the A and AAAA of in-zone MX targets, and nothing for an out-of-zone one', async () => {
    const r = await q('example.net', 'MX');
    expect(lines(r.answer)).toEqual([
      'example.net. 3600 IN MX 10 mail.example.net.',
      'example.net. 3600 IN MX 20 mail2.example.net.',
      'example.net. 3600 IN MX 30 mx.example.org.',
    ]);
    expect(r.authority).toEqual([]);
    expect(lines(r.additional)).toEqual([
      'mail.example.net. 3600 IN A 192.0.2.25',
      'mail2.example.net. 3600 IN AAAA 2001:db8::25',
    ]);
  });

  it('adds the A and AAAA of an in-zone SRV target', async () => {
    const r = await q('_sip._tcp.example.net', 'SRV');
    expect(lines(r.answer)).toEqual(['_sip._tcp.example.net. 3600 IN SRV 10 60 5060 sip.example.net.']);
    expect(r.authority).toEqual([]);
    expect(lines(r.additional)).toEqual([
      'sip.example.net. 3600 IN A 192.0.2.50',
      'sip.example.net. 3600 IN AAAA 2001:db8::50',
    ]);
  });

  it('adds the addresses of the apex NS targets to an NS answer', async () => {
    const r = await q('example.net', 'NS');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual([
      'example.net. 3600 IN NS ns1.example.net.',
      'example.net. 3600 IN NS ns2.example.net.',
    ]);
    expect(r.authority).toEqual([]);
    expect(lines(r.additional)).toEqual([
      'ns1.example.net. 3600 IN A 192.0.2.1',
      'ns1.example.net. 3600 IN AAAA 2001:db8::1',
      'ns2.example.net. 3600 IN A 198.51.100.2',
    ]);
  });
});

describe('ANY (RFC 8482)', () => {
  it('answers one RRset of a name that has several', async () => {
    const r = await q('www.example.net', 'ANY');
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual(['www.example.net. 3600 IN A 192.0.2.10']);
  });

  it('answers one RRset over TCP too', async () => {
    const r = await q('example.net', 'ANY', '+tcp');
    expect(new Set(r.answer.map((a) => a.type)).size).toBe(1);
    expect(r.answer.length).toBeGreaterThan(0);
  });

  it('adds the addresses of NS targets when the RRset chosen is the NS set (as Knot does)', async () => {
    const r = await q('example.net', 'ANY');
    expect(lines(r.answer)).toEqual([
      'example.net. 3600 IN NS ns1.example.net.',
      'example.net. 3600 IN NS ns2.example.net.',
    ]);
    expect(lines(r.additional)).toEqual([
      'ns1.example.net. 3600 IN A 192.0.2.1',
      'ns1.example.net. 3600 IN AAAA 2001:db8::1',
      'ns2.example.net. 3600 IN A 198.51.100.2',
    ]);
  });
});

describe('zones served', () => {
  it.each([
    ['www.example.org', 'A'],
    ['net', 'SOA'],
    ['.', 'NS'],
  ])('refuses %s %s, a name in no zone served, without AA', async (name, type) => {
    const r = await q(name, type);
    expect(r.status).toBe('REFUSED');
    expect(r.flags).toEqual(['qr']);
    expect(r.answer).toEqual([]);
    expect(r.authority).toEqual([]);
  });

  it("answers a name in the child zone from the child, not with the parent's referral", async () => {
    const r = await q('www.child.example.net', 'A');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual(['www.child.example.net. 3600 IN A 192.0.2.60']);
  });

  it('answers NS at the child apex from the child zone, authoritatively', async () => {
    const r = await q('child.example.net', 'NS');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual(['child.example.net. 3600 IN NS ns1.child.example.net.']);
    expect(r.authority).toEqual([]);
  });

  it("answers SOA at the child apex with the child's SOA", async () => {
    const r = await q('child.example.net', 'SOA');
    expect(r.flags).toContain('aa');
    expect(lines(r.answer)).toEqual([
      'child.example.net. 60 IN SOA ns1.child.example.net. hostmaster.child.example.net. 2024010101 7200 900 1209600 600',
    ]);
  });
});
