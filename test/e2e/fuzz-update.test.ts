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
import { signRequest } from '../../src/1-codec/tsig.ts';
import { fuzzSeed, Rng } from '../helpers/fuzz.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { decodeMessage } from '../helpers/message.ts';
import { buildQuery } from '../helpers/raw.ts';
import { badUpdateReply, baseUpdates, fuzzedUpdate, key, KEY_FLAG, ZONE } from '../helpers/update-fuzz.ts';
import { add, updateMessage } from '../update/helpers.ts';

const ZONES = path.join(ROOT, 'test/fixtures/update');
const UDP_MESSAGES = 3000;
const UDP_BATCH = 100;
const TCP_MESSAGES = 1000;
const SEED = fuzzSeed();
const CHECK_ID = 0xfffe;
const CHECK = buildQuery(`static.${ZONE}`, 1, { id: CHECK_ID });

/** True if the server must answer: it drops only runts and QR=1. */
const expectsReply = (msg: Buffer) => msg.length >= 12 && (msg[2]! & 0x80) === 0;

describe('TSIG-signed UPDATE under fuzzing, a gslbd process', () => {
  let server: Gslbd;
  let bases: Buffer[];
  beforeAll(async () => {
    bases = await baseUpdates();
    server = await startGslbd(['--zones', ZONES, '--tsig-key', KEY_FLAG], {
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
      const why = badUpdateReply(q.msg, reply);
      if (why) problems.push(`${why}: ${q.kind} ${q.msg.toString('hex')} (seed ${SEED})`);
    });
    let expected = 0;
    for (let i = 0; i < UDP_MESSAGES; i += UDP_BATCH) {
      for (let j = i; j < i + UDP_BATCH; j++) {
        const f = fuzzedUpdate(rng, bases, j);
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
    const queries = Array.from({ length: TCP_MESSAGES }, (_, i) => fuzzedUpdate(rng, bases, i)).filter((q) =>
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
      const why = q ? badUpdateReply(q.msg, r) : 'reply to no query sent';
      return why ? [`${why}: ${q?.kind} ${q?.msg.toString('hex')} (seed ${SEED})`] : [];
    });
    expect(problems.slice(0, 5)).toEqual([]);
  }, 60_000);

  it('applies a valid signed UPDATE afterwards, and logged no failed query', async () => {
    const msg = signRequest(
      updateMessage(ZONE, { id: 7, update: [await add(`after.${ZONE} 60 IN A 192.0.2.123`)] }),
      key,
      Date.now(),
    ).message;
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
