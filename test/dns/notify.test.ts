// NOTIFY out (6-serve/notify.ts) against a secondary on a real loopback UDP socket: the message
// (opcode NOTIFY, AA, the zone's SOA, signed with the key), retries with a doubling wait until an
// answer, giving up after `tries`, a newer serial replacing the retries of an older one, and an
// answer whose TSIG does not verify counting as no answer.

import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { Opcode, Rcode } from '../../src/0-base/constants.ts';
import { keyFromText } from '../../src/0-base/name.ts';
import { sign, verifyRequest } from '../../src/1-codec/tsig.ts';
import { Notifier, type NotifyTarget } from '../../src/6-serve/notify.ts';
import { decodeMessage } from '../helpers/message.ts';
import { makeKey } from '../update/helpers.ts';

const ZONE = keyFromText('gslb.example.com.');
/** SOA RDATA: root MNAME and RNAME, serial 7, the four timers. */
const soaRdata = (serial: number) => {
  const b = Buffer.alloc(22);
  b.writeUInt32BE(serial, 2);
  return b;
};

interface Secondary {
  readonly port: number;
  readonly received: { msg: Buffer; at: number }[];
  close(): void;
}

/** A UDP socket on 127.0.0.1 that answers the `answerFrom`-th NOTIFY on (1-based), with `answer`. */
async function secondary(answerFrom: number, answer: (msg: Buffer) => Buffer | null): Promise<Secondary> {
  const sock = dgram.createSocket('udp4');
  const received: { msg: Buffer; at: number }[] = [];
  sock.on('message', (msg, rinfo) => {
    received.push({ msg, at: Date.now() });
    if (received.length < answerFrom) return;
    const out = answer(msg);
    if (out) sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, received, close: () => sock.close() };
}

/** The plain answer to a NOTIFY: the header with QR set, the question echoed (§4.7). */
function ack(msg: Buffer, rcode: number = Rcode.NOERROR): Buffer {
  const qend = 12 + msg.subarray(12).indexOf(0) + 1 + 4;
  const out = Buffer.from(msg.subarray(0, qend));
  out.writeUInt16BE(0x8000 | (Opcode.NOTIFY << 11) | 0x0400 | rcode, 2);
  out.writeUInt16BE(0, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function notifier(tries = 4, firstWaitMs = 100) {
  const reports: { fields: Record<string, unknown>; ok: boolean }[] = [];
  const n = new Notifier({ now: Date.now, report: (fields, ok) => reports.push({ fields, ok }), tries, firstWaitMs });
  cleanup.push(() => n.stop());
  return { n, reports };
}

const target = (port: number, serial = 7, key: NotifyTarget['key'] = null): NotifyTarget => ({
  zone: ZONE,
  serial,
  soa: { ttl: 3600, rdata: soaRdata(serial) },
  to: { host: '127.0.0.1', port },
  key,
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  for (const deadline = Date.now() + ms; !cond();) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('Notifier', () => {
  it('sends NOTIFY with AA and the SOA, again after a wait that doubles, until the secondary answers', async () => {
    const s = await secondary(3, (m) => ack(m));
    cleanup.push(() => s.close());
    const { n, reports } = notifier();
    n.notify(target(s.port));
    await until(() => reports.length > 0);
    expect(reports).toEqual([
      { ok: true, fields: expect.objectContaining({ zone: 'gslb.example.com.', serial: 7, tries: 3 }) },
    ]);
    expect(s.received).toHaveLength(3);
    const first = s.received[0]!.msg;
    expect((first[2]! >> 3) & 0xf).toBe(Opcode.NOTIFY);
    expect(first.readUInt16BE(2) & 0x0400).toBe(0x0400);
    const d = decodeMessage(first);
    expect(d.answer).toHaveLength(1);
    expect(d.answer[0]).toMatch(/^gslb\.example\.com\. 3600 IN SOA \. \. 7 0 0 0 0$/);
    // The same message each time; the waits at least 100 and 200 ms (timers never fire early).
    expect(s.received.every((r) => r.msg.equals(first))).toBe(true);
    expect(s.received[1]!.at - s.received[0]!.at).toBeGreaterThanOrEqual(95);
    expect(s.received[2]!.at - s.received[1]!.at).toBeGreaterThanOrEqual(195);
  });

  it('gives up after `tries` sends with no answer, and reports it', async () => {
    const s = await secondary(Infinity, () => null);
    cleanup.push(() => s.close());
    const { n, reports } = notifier(3, 20);
    n.notify(target(s.port));
    await until(() => reports.length > 0);
    expect(reports[0]).toMatchObject({ ok: false, fields: { tries: 3, reason: 'no answer' } });
    expect(s.received).toHaveLength(3);
  });

  it('replaces the retries for an older serial with the newer one', async () => {
    const s = await secondary(Infinity, () => null);
    cleanup.push(() => s.close());
    const { n } = notifier(5, 200);
    n.notify(target(s.port, 7));
    n.notify(target(s.port, 8));
    await until(() => s.received.length >= 3, 3000);
    const serials = s.received.map((r) => decodeMessage(r.msg).answer[0]!.split(' ')[6]);
    expect(serials.slice(0, 3)).toEqual(['7', '8', '8']);
  });

  it('signs with the key; an answer that does not verify is no answer, one that does ends it', async () => {
    const key = makeKey('xfr-key.');
    let forge = true;
    const s = await secondary(1, (m) => {
      const v = verifyRequest(m, [key], Date.now());
      expect(v.kind).toBe('ok');
      if (v.kind !== 'ok') return null;
      const signer = forge ? makeKey('xfr-key.') : key;
      forge = false;
      return sign(ack(m), signer, v.record.mac, Date.now()).message;
    });
    cleanup.push(() => s.close());
    const { n, reports } = notifier(4, 100);
    n.notify(target(s.port, 9, key));
    await until(() => reports.length > 0);
    expect(reports).toEqual([{ ok: true, fields: expect.objectContaining({ tries: 2, key: 'xfr-key.' }) }]);
  });

  it('reports a refusal by its rcode, without retrying', async () => {
    const s = await secondary(1, (m) => ack(m, Rcode.NOTAUTH));
    cleanup.push(() => s.close());
    const { n, reports } = notifier(4, 100);
    n.notify(target(s.port));
    await until(() => reports.length > 0);
    expect(reports[0]).toMatchObject({ ok: false, fields: { rcode: 'NOTAUTH', tries: 1 } });
    await new Promise((r) => setTimeout(r, 250));
    expect(s.received).toHaveLength(1);
  });
});
