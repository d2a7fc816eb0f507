// Fuzzing RFC 2136 UPDATE with TSIG against a real gslbd, over UDP and TCP: valid UPDATEs of many
// shapes (prerequisites, adds, deletes, pool targets) mutated and then signed with the right key
// (so the mutation reaches the update code past authentication), signed and then mutated (the TSIG
// parser and verification), signed with an unknown key, a wrong secret or a clock far off, and
// signed untouched. Every reply is well-formed with the query's ID and never SERVFAIL; the server
// keeps answering, and a valid signed UPDATE afterwards is applied. FUZZ_SEED=<seed> replays a run.

import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest, type TsigKey } from '../../src/1-codec/tsig.ts';
import { fuzzSeed, mutateBytes, Rng } from '../helpers/fuzz.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { decodeMessage } from '../helpers/message.ts';
import { buildQuery } from '../helpers/raw.ts';
import {
  add,
  deleteName,
  deleteRR,
  deleteRRset,
  makeKey,
  nameInUse,
  nameNotInUse,
  rrsetAbsent,
  rrsetEquals,
  rrsetExists,
  updateMessage,
} from '../update/helpers.ts';

const ZONES = path.join(ROOT, 'test/fixtures/update');
const ZONE = 'dyn.example.net.';
const UDP_MESSAGES = 3000;
const UDP_BATCH = 100;
const TCP_MESSAGES = 1000;
const SEED = fuzzSeed();
const key = makeKey('fuzz-key.', 'hmac-sha256', [ZONE]);
/** Same name, another secret: every MAC it makes is wrong (BADSIG). */
const wrongSecret = makeKey('fuzz-key.', 'hmac-sha256', [ZONE]);
const unknown = makeKey('nobody.', 'hmac-sha256');
const CHECK_ID = 0xfffe;
const CHECK = buildQuery(`static.${ZONE}`, 1, { id: CHECK_ID });

/** RFC 2136 UPDATEs of dyn.example.net. of every kind, valid as sent. */
async function baseUpdates(): Promise<Buffer[]> {
  const n = `f.${ZONE}`;
  return [
    updateMessage(ZONE, { update: [await add(`${n} 60 IN A 192.0.2.99`)] }),
    updateMessage(ZONE, { update: [await add(`${n} 60 IN TXT "fuzz"`), await add(`${n} 60 IN AAAA 2001:db8::99`)] }),
    updateMessage(ZONE, {
      prereq: [nameNotInUse(`new.${ZONE}`)],
      update: [await add(`new.${ZONE} 60 IN MX 10 mx1.${ZONE}`)],
    }),
    updateMessage(ZONE, { prereq: [rrsetExists(`static.${ZONE}`, 1)], update: [deleteRRset(n, 16)] }),
    updateMessage(ZONE, { prereq: [await rrsetEquals(`multi.${ZONE} 0 IN A 192.0.2.11`)], update: [deleteName(n)] }),
    updateMessage(ZONE, {
      prereq: [nameInUse(`static.${ZONE}`), rrsetAbsent(n, 5)],
      update: [await deleteRR(`${n} 0 IN A 192.0.2.99`)],
    }),
    updateMessage(ZONE, { update: [await add(`www.${ZONE} 60 IN A 198.51.100.77`)] }),
    updateMessage(ZONE, { update: [await deleteRR(`www.${ZONE} 0 IN A 198.51.100.77`)] }),
    updateMessage(ZONE, {
      update: [await add(`${ZONE} 60 IN NS ns3.${ZONE}`), await add(`ns3.${ZONE} 60 IN A 192.0.2.55`)],
    }),
    updateMessage(ZONE, { update: [await add(`c.${ZONE} 60 IN CNAME static.${ZONE}`)] }),
  ];
}

const sign = (msg: Buffer, k: TsigKey, skewMs = 0) => signRequest(msg, k, Date.now() + skewMs).message;

/** One fuzzed UPDATE with the ID `id`, and how it was made. */
function fuzzed(rng: Rng, bases: readonly Buffer[], id: number): { kind: string; msg: Buffer } {
  const base = Buffer.from(rng.pick(bases));
  base.writeUInt16BE(id, 0);
  const r = rng.int(20);
  if (r < 8) {
    // Mutated, then signed: the mutation gets past authentication. Signing needs a header.
    const m = mutateBytes(rng, base);
    if (m.msg.length < 12) return { kind: `unsigned ${m.kind}`, msg: m.msg };
    m.msg.writeUInt16BE(id, 0);
    // A mutated ARCOUNT of 65535 leaves no room for the TSIG record: sent unsigned.
    if (m.msg.readUInt16BE(10) === 0xffff) return { kind: `unsigned ${m.kind}`, msg: m.msg };
    return { kind: `${m.kind} then signed`, msg: sign(m.msg, key) };
  }
  if (r < 14) {
    const m = mutateBytes(rng, sign(base, key));
    if (m.msg.length >= 2) m.msg.writeUInt16BE(id, 0);
    return { kind: `signed then ${m.kind}`, msg: m.msg };
  }
  if (r < 15) return { kind: 'unknown key', msg: sign(base, unknown) };
  if (r < 16) return { kind: 'wrong secret', msg: sign(base, wrongSecret) };
  if (r < 17) return { kind: 'clock off', msg: sign(base, key, rng.pick([-1, 1]) * rng.range(301, 10_000) * 1000) };
  return { kind: 'signed', msg: sign(base, key) };
}

/** Why `reply` is not an acceptable answer to `query` (undefined when it is). */
function badReply(query: Buffer, reply: Buffer): string | undefined {
  if (reply.length < 12) return `reply of ${reply.length} bytes`;
  if (!(reply[2]! & 0x80)) return 'reply has QR=0';
  if (reply.readUInt16BE(0) !== query.readUInt16BE(0)) return 'reply ID differs';
  if ((reply[3]! & 0xf) === 2) return 'SERVFAIL';
  try {
    decodeMessage(reply);
  } catch (err) {
    return `reply does not decode: ${(err as Error).message}`;
  }
  return undefined;
}

/** True if the server must answer: it drops only runts and QR=1. */
const expectsReply = (msg: Buffer) => msg.length >= 12 && (msg[2]! & 0x80) === 0;

describe('TSIG-signed UPDATE under fuzzing, a gslbd process', () => {
  let server: Gslbd;
  let bases: Buffer[];
  beforeAll(async () => {
    bases = await baseUpdates();
    server = await startGslbd(['--zones', ZONES, '--tsig-key', `fuzz-key.:hmac-sha256:${key.base64}:${ZONE}`], {
      GSLBD_LOG_LEVEL: 'info',
    });
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it(`answers ${UDP_MESSAGES} fuzzed UPDATEs over UDP well-formed, never SERVFAIL, answering a query after every batch`, async () => {
    console.log(`UPDATE fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    const rng = new Rng(SEED);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const sent = new Map<number, { kind: string; msg: Buffer }>();
    const problems: string[] = [];
    const rcodes = new Map<number, number>();
    let onCheck: ((b: Buffer) => void) | null = null;
    let replies = 0;
    sock.on('message', (reply) => {
      const id = reply.length >= 2 ? reply.readUInt16BE(0) : -1;
      if (id === CHECK_ID) return onCheck?.(reply);
      const q = sent.get(id);
      if (!q) return void problems.push(`reply to no query sent: ${reply.toString('hex')}`);
      sent.delete(id);
      replies++;
      rcodes.set(reply[3]! & 0xf, (rcodes.get(reply[3]! & 0xf) ?? 0) + 1);
      const why = badReply(q.msg, reply);
      if (why) problems.push(`${why}: ${q.kind} ${q.msg.toString('hex')} (seed ${SEED})`);
    });
    let expected = 0;
    for (let i = 0; i < UDP_MESSAGES; i += UDP_BATCH) {
      for (let j = i; j < i + UDP_BATCH; j++) {
        const f = fuzzed(rng, bases, j);
        if (expectsReply(f.msg)) {
          expected++;
          sent.set(j, f);
        }
        sock.send(f.msg, server.port, '127.0.0.1');
      }
      const checked = await new Promise<Buffer | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), 3000);
        onCheck = (b) => {
          clearTimeout(timer);
          resolve(b);
        };
        sock.send(CHECK, server.port, '127.0.0.1');
      });
      expect(checked && decodeMessage(checked).answer.length, `check query after batch ${i / UDP_BATCH}`).toBe(1);
    }
    // UPDATEs are answered after their journal write: give the last ones a moment.
    for (let waited = 0; replies < expected && waited < 3000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    sock.close();
    console.log(
      `UPDATE fuzz, UDP: ${UDP_MESSAGES} sent, ${replies} replies of ${expected} expected; rcodes ${JSON.stringify(Object.fromEntries(rcodes))}`,
    );
    expect(problems.slice(0, 5)).toEqual([]);
    expect(replies).toBeGreaterThan(expected * 0.95);
    // NOERROR (applied), NOTAUTH (TSIG), FORMERR and prerequisite failures all happen.
    expect([0, 1, 9].every((rc) => (rcodes.get(rc) ?? 0) > 0)).toBe(true);
  }, 60_000);

  it(`answers ${TCP_MESSAGES} fuzzed UPDATEs pipelined over TCP, every one`, async () => {
    const rng = new Rng(SEED ^ 0x2136);
    const queries = Array.from({ length: TCP_MESSAGES }, (_, i) => fuzzed(rng, bases, i)).filter((q) =>
      expectsReply(q.msg),
    );
    const stream = Buffer.concat(
      queries.flatMap((q) => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(q.msg.length);
        return [len, q.msg];
      }),
    );
    const replies = await new Promise<Buffer[]>((resolve, reject) => {
      const out: Buffer[] = [];
      let pending = Buffer.alloc(0);
      const sock = net.connect({ port: server.port, host: '127.0.0.1' }, () => sock.write(stream));
      const timer = setTimeout(() => {
        sock.destroy();
        resolve(out);
      }, 30_000);
      sock.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          out.push(pending.subarray(2, 2 + pending.readUInt16BE(0)));
          pending = pending.subarray(2 + pending.readUInt16BE(0));
        }
        if (out.length === queries.length) {
          clearTimeout(timer);
          sock.destroy();
          resolve(out);
        }
      });
      sock.on('error', reject);
    });
    expect(replies.length).toBe(queries.length);
    const byId = new Map(queries.map((q) => [q.msg.readUInt16BE(0), q]));
    const problems = replies.flatMap((r) => {
      const q = byId.get(r.readUInt16BE(0));
      const why = q ? badReply(q.msg, r) : 'reply to no query sent';
      return why ? [`${why}: ${q?.kind} ${q?.msg.toString('hex')} (seed ${SEED})`] : [];
    });
    expect(problems.slice(0, 5)).toEqual([]);
  }, 60_000);

  it('applies a valid signed UPDATE afterwards, and logged no failed query', async () => {
    const msg = sign(updateMessage(ZONE, { id: 7, update: [await add(`after.${ZONE} 60 IN A 192.0.2.123`)] }), key);
    const sock = dgram.createSocket('udp4');
    const reply = await new Promise<Buffer>((resolve) => {
      sock.on('message', resolve);
      sock.send(msg, server.port, '127.0.0.1');
    });
    expect(reply[3]! & 0xf).toBe(0);
    const answer = await new Promise<Buffer>((resolve) => {
      sock.removeAllListeners('message');
      sock.on('message', resolve);
      sock.send(buildQuery(`after.${ZONE}`, 1, { id: 8 }), server.port, '127.0.0.1');
    });
    sock.close();
    expect(decodeMessage(answer).answer).toEqual([`after.${ZONE} 60 IN A 192.0.2.123`]);
    expect(server.proc.exitCode).toBeNull();
    expect(server.logs.filter((l) => l.msg === 'query failed: answered SERVFAIL')).toEqual([]);
  });
});
