// Header checks that come before any answering (RFC 1035 §4.1.1): QR=1 dropped, QDCOUNT other
// than 1 → FORMERR, unknown opcode → NOTIMP, zone transfers → REFUSED. After every bad message,
// over UDP and TCP, the server still answers a normal query.

import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { dig } from '../helpers/dig.ts';
import { gslbdForTests, ROOT } from '../helpers/gslbd.ts';
import { buildQuery, headerOf, tcpExchange, udpExchange } from '../helpers/raw.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const A = 1;
const Rcode = { NOERROR: 0, FORMERR: 1, NOTIMP: 4, REFUSED: 5 } as const;

const served = gslbdForTests(['--zones', ZONES]);

/** A normal query is answered over both transports. */
async function expectStillAnswering(): Promise<void> {
  const udp = await udpExchange(served.server.port, buildQuery('www.example.net', A, { id: 0x5555 }));
  expect(udp && headerOf(udp)).toMatchObject({ id: 0x5555, rcode: Rcode.NOERROR, ancount: 1 });
  const [tcp] = await tcpExchange(served.server.port, [buildQuery('www.example.net', A, { id: 0x6666 })]);
  expect(tcp && headerOf(tcp)).toMatchObject({ id: 0x6666, rcode: Rcode.NOERROR, ancount: 1 });
}

/** Sends `msg` over UDP and TCP; both replies (null when none came). */
async function both(msg: Buffer, timeoutMs = 1000): Promise<[Buffer | null, Buffer | null]> {
  const [udp, [tcp]] = await Promise.all([
    udpExchange(served.server.port, msg, timeoutMs),
    tcpExchange(served.server.port, [msg], 1, timeoutMs),
  ]);
  return [udp, tcp ?? null];
}

const header = (id: number, flags: number, qd: number, an = 0, ns = 0, ar = 0) => {
  const h = Buffer.alloc(12);
  [id, flags, qd, an, ns, ar].forEach((v, i) => h.writeUInt16BE(v, i * 2));
  return h;
};

describe('header checks', () => {
  it('drops a message with QR=1 without replying', async () => {
    const [udp, tcp] = await both(buildQuery('www.example.net', A, { flags: 0x8000 }), 500);
    expect(udp).toBeNull();
    expect(tcp).toBeNull();
    await expectStillAnswering();
  });

  it('drops a message shorter than a header without replying', async () => {
    const [udp, tcp] = await both(Buffer.from([0x12, 0x34, 0x01]), 500);
    expect(udp).toBeNull();
    expect(tcp).toBeNull();
    await expectStillAnswering();
  });

  it('answers FORMERR to QDCOUNT 0, with no question', async () => {
    for (const reply of await both(header(0x0a0a, 0, 0))) {
      expect(reply).not.toBeNull();
      expect(headerOf(reply!)).toMatchObject({ id: 0x0a0a, qr: true, rcode: Rcode.FORMERR, qdcount: 0, ancount: 0 });
      expect(reply!.length).toBe(12);
    }
    await expectStillAnswering();
  });

  it('answers FORMERR to QDCOUNT 2', async () => {
    const one = buildQuery('www.example.net', A, { id: 0x0b0b });
    const two = Buffer.concat([one, one.subarray(12)]);
    two.writeUInt16BE(2, 4);
    for (const reply of await both(two)) {
      expect(reply).not.toBeNull();
      expect(headerOf(reply!)).toMatchObject({ id: 0x0b0b, qr: true, rcode: Rcode.FORMERR, ancount: 0 });
    }
    await expectStillAnswering();
  });

  it('answers FORMERR to QDCOUNT 1 with no question in the message', async () => {
    for (const reply of await both(header(0x0c0c, 0, 1))) {
      expect(reply && headerOf(reply)).toMatchObject({ id: 0x0c0c, rcode: Rcode.FORMERR });
    }
    await expectStillAnswering();
  });

  it.each([
    ['STATUS', 2],
    ['IQUERY', 1],
    ['unassigned opcode 3', 3],
  ])('answers NOTIMP to opcode %s, echoing the opcode and question', async (_name, opcode) => {
    const query = buildQuery('www.example.net', A, { id: 0x0d0d, flags: opcode << 11 });
    for (const reply of await both(query)) {
      expect(reply).not.toBeNull();
      expect(headerOf(reply!)).toMatchObject({
        id: 0x0d0d,
        qr: true,
        opcode,
        aa: false,
        rcode: Rcode.NOTIMP,
        ancount: 0,
      });
      expect(reply!.subarray(12).equals(query.subarray(12))).toBe(true);
    }
    await expectStillAnswering();
  });

  it.each([
    ['AXFR', 252],
    ['IXFR', 251],
  ])('answers REFUSED to %s over UDP and TCP', async (_name, qtype) => {
    for (const reply of await both(buildQuery('example.net', qtype, { id: 0x0e0e }))) {
      expect(reply).not.toBeNull();
      expect(headerOf(reply!)).toMatchObject({ id: 0x0e0e, qr: true, aa: false, rcode: Rcode.REFUSED, ancount: 0 });
    }
    await expectStillAnswering();
  });

  it('refuses an AXFR from dig, which asks over TCP', async () => {
    // dig prints no message for a failed transfer, so read what it says.
    const out = await new Promise<string>((resolve) => {
      execFile(
        'dig',
        ['@127.0.0.1', '-p', String(served.server.port), '+tries=1', '+timeout=3', 'example.net', 'AXFR'],
        { timeout: 10_000 },
        (_err, stdout) => resolve(stdout),
      );
    });
    expect(out).toMatch(/Transfer failed/);
    expect(out).not.toMatch(/IN\s+SOA/);
    const r = await dig(served.server.port, ['www.example.net', 'A']);
    expect(r.status).toBe('NOERROR');
  });
});
