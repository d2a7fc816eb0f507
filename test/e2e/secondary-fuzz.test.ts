// A fake primary that answers gslbd's transfers with garbage: random bytes, streams cut short,
// another ID, bytes flipped in the headers, the same serial again. gslbd never crashes, and the
// good copy it has stays in service, unchanged. Then streams of a newer serial with any byte
// flipped: gslbd takes a valid one or keeps its copy, and answers throughout. Seeded: a failure
// gives the seed and the iteration to replay.

import dgram from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFromText, parseName } from '../../src/0-base/name.ts';
import { notifyMessage } from '../../src/6-serve/notify.ts';
import { dig } from '../helpers/dig.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-secondary-fuzz-'));
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const ZONE = 'fuzz.test.';

/** mulberry32: the same sequence for the same seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const wire = (name: string) => parseName(name, null);
const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const rr = (owner: string, type: number, rdata: Buffer) =>
  Buffer.concat([wire(owner), u16(type), u16(1), u32(300), u16(rdata.length), rdata]);
const soa = (serial: number) =>
  rr(
    ZONE,
    6,
    Buffer.concat([
      wire(`ns1.${ZONE}`),
      wire(`hostmaster.${ZONE}`),
      u32(serial),
      u32(3600),
      u32(600),
      u32(1209600),
      u32(30),
    ]),
  );

/** An AXFR answer of the zone at `serial` to the query with `id`: one message, framed. */
function axfr(id: number, serial: number): Buffer {
  const records = [
    soa(serial),
    rr(ZONE, 2, wire(`ns1.${ZONE}`)),
    rr(`ns1.${ZONE}`, 1, Buffer.from([192, 0, 2, 1])),
    rr(`www.${ZONE}`, 1, Buffer.from([192, 0, 2, serial & 0xff])),
    rr(`txt.${ZONE}`, 16, Buffer.from('\x05hello', 'latin1')),
    soa(serial),
  ];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8400, 2); // QR AA
  header.writeUInt16BE(records.length, 6);
  const msg = Buffer.concat([header, ...records]);
  return Buffer.concat([u16(msg.length), msg]);
}

type Reply = (query: Buffer) => Buffer;
let reply: Reply = (q) => axfr(q.readUInt16BE(0), 1);
let primary: net.Server;
let gslbd: Gslbd;

/** Tells gslbd (NOTIFY from the primary's address) to ask again, and waits for the refresh to end. */
async function refresh(): Promise<void> {
  const ends = (l: Record<string, unknown>) =>
    typeof l.msg === 'string' &&
    (l.msg.startsWith('secondary: refresh failed') ||
      l.msg === 'secondary: zone transferred' ||
      l.msg === 'secondary: the copy is current' ||
      l.msg.startsWith('secondary: the primary sent a serial'));
  const before = gslbd.logs.filter(ends).length;
  const s = dgram.createSocket('udp4');
  const n = notifyMessage(keyFromText(ZONE), 1, { ttl: 300, rdata: soa(1).subarray(wire(ZONE).length + 10) });
  await new Promise<void>((r) => s.send(n, gslbd.port, '127.0.0.1', () => r()));
  s.close();
  const deadline = Date.now() + 10_000;
  while (gslbd.logs.filter(ends).length === before) {
    if (Date.now() > deadline) throw new Error('no refresh after NOTIFY');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const www = async () =>
  (await dig(gslbd.port, [`www.${ZONE}`, 'A', '+timeout=2', '+tries=1'])).answer.map((a) => a.data);

beforeAll(async () => {
  primary = net.createServer((c) => {
    let buf = Buffer.alloc(0);
    c.on('error', () => {});
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
      c.end(reply(buf.subarray(2, 2 + buf.readUInt16BE(0))));
    });
  });
  await new Promise<void>((r) => primary.listen(0, '127.0.0.1', r));
  const port = (primary.address() as net.AddressInfo).port;
  mkdirSync(path.join(work, 'zones'));
  writeFileSync(
    path.join(work, 'gslbd.yaml'),
    [`zones: ${path.join(work, 'zones')}`, 'zones-options:', `  ${ZONE}:`, `    primary: "127.0.0.1:${port}"`, ''].join(
      '\n',
    ),
  );
  gslbd = await startGslbd(['--config', path.join(work, 'gslbd.yaml')]);
  await gslbd.waitForLog((l) => l.msg === 'secondary: zone transferred', 10_000);
}, 30_000);

afterAll(async () => {
  await gslbd?.stop();
  await new Promise<void>((r) => primary.close(() => r()));
  rmSync(work, { recursive: true, force: true });
});

describe('a fake primary sending garbage', () => {
  it('never replaces the good copy, and gslbd keeps answering', async () => {
    expect(await www()).toEqual(['192.0.2.1']);
    const random = prng(SEED);
    const kinds = ['random', 'cut', 'id', 'header', 'same-serial'] as const;
    const seen = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      reply = (q) => {
        const id = q.readUInt16BE(0);
        const good = axfr(id, 2);
        switch (kind) {
          case 'random':
            return Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
          case 'cut':
            return good.subarray(0, 1 + Math.floor(random() * (good.length - 2)));
          case 'id':
            return axfr((id + 1) & 0xffff, 2);
          case 'header': {
            // A field no valid answer can change: the length, the ID, QR and the opcode, the rcode,
            // the answer count. (Flipping AA, or a letter's case in a name, leaves a valid answer.)
            const out = Buffer.from(good);
            const [at, mask] = [
              [0, 0xff],
              [1, 0xff],
              [2, 0xff],
              [3, 0xff],
              [4, 0xf8],
              [5, 0x0f],
              [8, 0xff],
              [9, 0xff],
            ][Math.floor(random() * 8)]!;
            out[at!]! ^= (1 + Math.floor(random() * 255)) & mask! || mask!;
            return out;
          }
          case 'same-serial':
            return axfr(id, 1);
        }
      };
      try {
        await refresh();
        expect(await www()).toEqual(['192.0.2.1']);
      } catch (e) {
        throw new Error(`seed ${SEED}, iteration ${i} (${kind}): ${(e as Error).message}`, { cause: e });
      }
    }
    expect(seen.size).toBe(kinds.length);
    expect(gslbd.proc.exitCode).toBeNull();
  }, 120_000);

  it('takes a newer serial with any byte flipped only when it is a valid zone, and answers throughout', async () => {
    const random = prng(SEED + 1);
    for (let i = 0; i < 60; i++) {
      reply = (q) => {
        const out = axfr(q.readUInt16BE(0), 3 + i);
        out[2 + Math.floor(random() * (out.length - 2))]! ^= 1 + Math.floor(random() * 255);
        return out;
      };
      await refresh();
      const r = await dig(gslbd.port, [`txt.${ZONE}`, 'TXT', '+timeout=2', '+tries=1']);
      expect(r.status, `seed ${SEED}, iteration ${i}`).toMatch(/NOERROR|NXDOMAIN/);
    }
    // The real thing is taken at once after all that.
    reply = (q) => axfr(q.readUInt16BE(0), 200);
    await refresh();
    expect(await www()).toEqual(['192.0.2.200']);
    expect(gslbd.proc.exitCode).toBeNull();
  }, 120_000);
});
