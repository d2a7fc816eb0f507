// EDNS0 (RFC 6891) and UDP truncation (RFC 1035 §4.2.1, RFC 2181 §9), over real sockets with the
// real dig and raw messages for what dig cannot send.

import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { dig } from '../helpers/dig.ts';
import { gslbdForTests, ROOT } from '../helpers/gslbd.ts';
import { buildQuery, headerOf, rcodeOf, tcpExchange, udpExchange } from '../helpers/raw.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const TXT = 16;
const MX = 15;
const FORMERR = 1;

const served = gslbdForTests(['--zones', ZONES]);
const q = (...args: string[]) => dig(served.server.port, args);

async function udp(msg: Buffer): Promise<Buffer> {
  const reply = await udpExchange(served.server.port, msg);
  if (!reply) throw new Error('no reply over UDP');
  return reply;
}

/** The OPT record that ends `reply` (we put it last), as { payload, extRcode, version, do }. */
function trailingOpt(reply: Buffer) {
  const at = reply.length - 11;
  expect(reply[at]).toBe(0); // root owner
  expect(reply.readUInt16BE(at + 1)).toBe(41);
  expect(reply.readUInt16BE(at + 9)).toBe(0); // no options
  return {
    payload: reply.readUInt16BE(at + 3),
    extRcode: reply[at + 5],
    version: reply[at + 6],
    do: (reply[at + 7]! & 0x80) !== 0,
  };
}

describe('the OPT record', () => {
  it('is left out of the response when the query had none', async () => {
    const r = await q('www.example.net', 'A', '+noedns');
    expect(r.status).toBe('NOERROR');
    expect(r.edns).toBeNull();
    const reply = await udp(buildQuery('www.example.net', 1));
    expect(headerOf(reply).arcount).toBe(0);
  });

  it('is echoed when the query had one, advertising 1232 octets and version 0', async () => {
    const r = await q('www.example.net', 'A');
    expect(r.edns).toMatchObject({ version: 0, udp: 1232 });
  });

  it('advertises 1232 octets even when the client offers 4096', async () => {
    const r = await q('www.example.net', 'A', '+bufsize=4096');
    expect(r.edns).toMatchObject({ udp: 1232 });
  });

  it('carries the DO bit back when the query set it (RFC 3225)', async () => {
    const withDo = await q('www.example.net', 'A', '+dnssec');
    expect(String(withDo.edns?.flags ?? '')).toBe('do');
    const without = await q('www.example.net', 'A');
    expect(String(without.edns?.flags ?? '')).toBe('');
  });

  it('answers BADVERS with a version 0 OPT to EDNS version 1', async () => {
    const r = await q('www.example.net', 'A', '+edns=1', '+noednsnegotiation');
    expect(r.status).toBe('BADVERS');
    expect(r.answer).toEqual([]);
    expect(r.edns).toMatchObject({ version: 0 });
    // BADVERS is 16: 0 in the header, 1 in the OPT's extended RCODE (RFC 6891 §6.1.3).
    const reply = await udp(buildQuery('www.example.net', 1, { edns: { version: 1 } }));
    expect(rcodeOf(reply)).toBe(0);
    expect(trailingOpt(reply)).toMatchObject({ extRcode: 1, version: 0 });
  });

  it('answers FORMERR to a query with two OPT records', async () => {
    const one = buildQuery('www.example.net', 1, { edns: {} });
    const two = Buffer.concat([one, one.subarray(one.length - 11)]);
    two.writeUInt16BE(2, 10);
    expect(rcodeOf(await udp(two))).toBe(FORMERR);
    expect(rcodeOf(await udp(one))).toBe(0);
  });

  it('answers FORMERR, with an OPT, to an OPT whose option runs past its RDATA', async () => {
    // Option code 10 (COOKIE) claiming 8 octets where 2 follow (RFC 6891 §7: FORMERR with an OPT).
    const bad = buildQuery('www.example.net', 1, { edns: { options: Buffer.from([0, 10, 0, 8, 1, 2]) } });
    const reply = await udp(bad);
    expect(rcodeOf(reply)).toBe(FORMERR);
    expect(headerOf(reply).arcount).toBe(1);
    expect(trailingOpt(reply)).toMatchObject({ extRcode: 0, version: 0 });
  });

  it('answers FORMERR to an OPT whose RDATA runs past the end of the message', async () => {
    const q1 = buildQuery('www.example.net', 1, { edns: {} });
    q1.writeUInt16BE(40, q1.length - 2); // RDLENGTH 40, nothing follows
    expect(rcodeOf(await udp(q1))).toBe(FORMERR);
  });
});

describe('error answers to a query with EDNS (RFC 6891 §7: a response to an OPT carries one)', () => {
  it.each([
    ['STATUS', 'status'],
    ['NOTIFY', 'notify'],
  ])('answers NOTIMP with an OPT to dig +opcode=%s', async (_name, opcode) => {
    const r = await q('www.example.net', 'A', `+opcode=${opcode}`);
    expect(r.status).toBe('NOTIMP');
    expect(r.edns).toMatchObject({ version: 0, udp: 1232 });
  });

  it('answers NOTIMP with an OPT to an unassigned opcode, echoing the DO bit', async () => {
    const reply = await udp(buildQuery('www.example.net', 1, { flags: 3 << 11, edns: { do: true } }));
    expect(headerOf(reply)).toMatchObject({ opcode: 3, rcode: 4, arcount: 1 });
    expect(trailingOpt(reply)).toMatchObject({ payload: 1232, extRcode: 0, version: 0, do: true });
  });

  it('answers FORMERR with an OPT to QDCOUNT 0 and QDCOUNT 2', async () => {
    const one = buildQuery('www.example.net', 1, { edns: {} });
    const none = Buffer.concat([one.subarray(0, 12), one.subarray(one.length - 11)]);
    none.writeUInt16BE(0, 4);
    const question = one.subarray(12, one.length - 11);
    const two = Buffer.concat([one.subarray(0, 12), question, question, one.subarray(one.length - 11)]);
    two.writeUInt16BE(2, 4);
    for (const msg of [none, two]) {
      const reply = await udp(msg);
      expect(headerOf(reply)).toMatchObject({ rcode: FORMERR, arcount: 1 });
      expect(trailingOpt(reply)).toMatchObject({ payload: 1232, version: 0 });
    }
  });

  it('answers REFUSED with an OPT to a class we do not serve', async () => {
    const r = await q('version.bind', 'TXT', 'CH');
    expect(r.status).toBe('REFUSED');
    expect(r.edns).toMatchObject({ version: 0 });
  });

  it('answers an error without an OPT when the query had none', async () => {
    const reply = await udp(buildQuery('www.example.net', 1, { flags: 3 << 11 }));
    expect(headerOf(reply)).toMatchObject({ rcode: 4, arcount: 0 });
  });
});

describe('UDP payload size and truncation', () => {
  it('truncates an answer over 1232 octets even when the client offers 4096', async () => {
    const r = await q('big.example.net', 'TXT', '+bufsize=4096', '+ignore');
    expect(r.protocol).toBe('UDP');
    expect(r.flags).toContain('tc');
    expect(r.answer).toEqual([]);
    expect(r.size).toBeLessThanOrEqual(1232);
  });

  it('gives dig the full answer over TCP when it retries after TC=1', async () => {
    const r = await q('big.example.net', 'TXT', '+bufsize=4096');
    expect(r.protocol).toBe('TCP');
    expect(r.flags).not.toContain('tc');
    expect(r.answer).toHaveLength(6);
    expect(r.size).toBeGreaterThan(1232);
  });

  it('truncates at 512 octets when the client offers 512', async () => {
    const r = await q('medium.example.net', 'TXT', '+bufsize=512', '+ignore');
    expect(r.flags).toContain('tc');
    expect(r.answer).toEqual([]);
  });

  it("answers in full over UDP what fits the client's 1232 octets", async () => {
    const r = await q('medium.example.net', 'TXT', '+bufsize=1232', '+ignore');
    expect(r.protocol).toBe('UDP');
    expect(r.flags).not.toContain('tc');
    expect(r.answer).toHaveLength(3);
    expect(r.size).toBeGreaterThan(512);
  });

  it('truncates at 512 octets without EDNS', async () => {
    const r = await q('medium.example.net', 'TXT', '+noedns', '+ignore');
    expect(r.flags).toContain('tc');
    expect(r.answer).toEqual([]);
  });

  it('treats an offered payload below 512 as 512 (RFC 6891 §6.2.5)', async () => {
    const reply = await udp(buildQuery('example.net', MX, { edns: { payload: 100 } }));
    expect(reply.length).toBeGreaterThan(100);
    expect(headerOf(reply)).toMatchObject({ tc: false, ancount: 3 });
  });

  it('sends a truncated answer as the header, the question and the OPT only', async () => {
    const query = buildQuery('big.example.net', TXT, { edns: { payload: 4096 } });
    const reply = await udp(query);
    const questionEnd = query.length - 11;
    expect(headerOf(reply)).toMatchObject({ qr: true, tc: true, qdcount: 1, ancount: 0, nscount: 0, arcount: 1 });
    expect(reply.length).toBe(questionEnd + 11);
    expect(reply.subarray(12, questionEnd).equals(query.subarray(12, questionEnd))).toBe(true);
    expect(trailingOpt(reply)).toMatchObject({ payload: 1232, version: 0 });
  });

  it('sends a truncated answer without EDNS as the header and the question only', async () => {
    const query = buildQuery('medium.example.net', TXT);
    const reply = await udp(query);
    expect(headerOf(reply)).toMatchObject({ tc: true, qdcount: 1, ancount: 0, nscount: 0, arcount: 0 });
    expect(reply.equals(Buffer.concat([reply.subarray(0, 12), query.subarray(12)]))).toBe(true);
  });

  it('never sets TC over TCP, whatever the size', async () => {
    const [reply] = await tcpExchange(served.server.port, [buildQuery('big.example.net', TXT)]);
    expect(reply).toBeDefined();
    expect(headerOf(reply!)).toMatchObject({ tc: false, ancount: 6 });
    expect(reply!.length).toBeGreaterThan(1232);
    const r = await q('big.example.net', 'TXT', '+tcp', '+bufsize=512');
    expect(r.flags).not.toContain('tc');
    expect(r.answer).toHaveLength(6);
  });
});
