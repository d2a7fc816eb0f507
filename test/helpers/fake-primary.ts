// A primary of our own making for gslbd as a secondary: a TCP server that answers each transfer
// query with whatever the test says (a good AXFR of a small zone, or anything else), and a NOTIFY
// sent from 127.0.0.1 to make gslbd ask now.

import dgram from 'node:dgram';
import net from 'node:net';
import { keyFromText, parseName } from '../../src/0-base/name.ts';
import { notifyMessage } from '../../src/6-serve/notify.ts';

const wire = (name: string) => parseName(name, null);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const rr = (owner: string, type: number, rdata: Buffer) =>
  Buffer.concat([wire(owner), u16(type), u16(1), u32(300), u16(rdata.length), rdata]);

/** SOA RDATA of `zone` at `serial` (refresh 1 h, retry 10 min, expire 2 weeks). */
export const soaRdata = (zone: string, serial: number): Buffer =>
  Buffer.concat([
    wire(`ns1.${zone}`),
    wire(`hostmaster.${zone}`),
    u32(serial),
    u32(3600),
    u32(600),
    u32(1209600),
    u32(30),
  ]);

/**
 * A framed AXFR answer, one message, to the query with `id`: `zone` at `serial` with NS, ns1 A,
 * `www` A 192.0.2.<serial & 255> and `txt` TXT "hello".
 */
export function axfrAnswer(id: number, zone: string, serial: number): Buffer {
  const soa = rr(zone, 6, soaRdata(zone, serial));
  const records = [
    soa,
    rr(zone, 2, wire(`ns1.${zone}`)),
    rr(`ns1.${zone}`, 1, Buffer.from([192, 0, 2, 1])),
    rr(`www.${zone}`, 1, Buffer.from([192, 0, 2, serial & 0xff])),
    rr(`txt.${zone}`, 16, Buffer.from('\x05hello', 'latin1')),
    soa,
  ];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8400, 2); // QR AA
  header.writeUInt16BE(records.length, 6);
  const msg = Buffer.concat([header, ...records]);
  return Buffer.concat([u16(msg.length), msg]);
}

export interface FakePrimary {
  readonly port: number;
  /** What each transfer query (without its length prefix) is answered with; the connection then ends. */
  reply: (query: Buffer) => Buffer;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, answering `zone` at serial 1 until the test sets `reply`. */
export async function startFakePrimary(zone: string): Promise<FakePrimary> {
  const fake: { reply: (q: Buffer) => Buffer } = { reply: (q) => axfrAnswer(q.readUInt16BE(0), zone, 1) };
  const server = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('error', () => {});
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      c.end(fake.reply(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(fake, {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

/** An unsigned NOTIFY for `zone` from 127.0.0.1 (gslbd answers it; the answer is not awaited). */
export async function sendNotify(port: number, zone: string): Promise<void> {
  const s = dgram.createSocket('udp4');
  const n = notifyMessage(keyFromText(zone), 1, { ttl: 300, rdata: soaRdata(zone, 1) });
  await new Promise<void>((r) => s.send(n, port, '127.0.0.1', () => r()));
  s.close();
}
