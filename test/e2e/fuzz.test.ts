// Fuzzing the query path: random and mutated messages, first in-process (parser, handler and
// response writer, no sockets), then against a real gslbd process over UDP (batched UDP, the
// default, where the native module is built) and TCP.
//
// Every packet comes from one seeded PRNG; the seed is printed, and FUZZ_SEED=<seed> replays a
// run. After every batch the server must still answer a valid query correctly; at the end it
// must still be running and must not have logged a failed query.

import { MessageStream } from '../../src/6-serve/transfer.ts';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Flag } from '../../src/0-base/constants.ts';
import { createHandler, type Handler } from '../../src/6-serve/handler.ts';
import { keyFromText, nameToText, type NameKey } from '../../src/0-base/name.ts';
import { parseQuery, type Query } from '../../src/1-codec/query.ts';
import { encodeAnswer, type Answer, type Entry } from '../../src/1-codec/response.ts';
import { allUp } from '../../src/4-gslb/health-view.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import { makeRRset } from '../../src/1-codec/rrset.ts';
import { ZoneStore } from '../../src/2-zone/store.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { answersA, checkReply, fuzzSeed, mutateBytes, nextPacket, Rng, type Fuzzed } from '../helpers/fuzz.ts';
import { decodeMessage } from '../helpers/message.ts';
import { ResponseLimiter, RRL_DEFAULTS } from '../../src/6-serve/rrl.ts';
import { CookieSecrets } from '../../src/1-codec/cookie.ts';
import {
  answersOverTcp,
  CHECK,
  CHECK_ADDRESS,
  CHECK_ID,
  describeFailure as failure,
  expectsReply,
  frame,
  hex,
  framesOf,
  matchReplies as matchRepliesOf,
  POOL_ADDRESSES,
  POOL_CHECK,
  tcpSession,
  udpBatch,
} from '../helpers/fuzz-net.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { buildQuery, ednsOption } from '../helpers/raw.ts';

/** Packets sent to the server over UDP (the bulk of the run). */
const UDP_PACKETS = 100_000;
/** UDP packets in flight at once: sent together, then a check query; small enough for the socket buffer. */
const UDP_BATCH = 200;
/** Pipelined TCP messages, over TCP_CONNECTIONS connections. */
const TCP_MESSAGES = 12_000;
const TCP_CONNECTIONS = 4;
/** Messages through the in-process handler, and synthetic answers through the response writer. */
const IN_PROCESS_PACKETS = 100_000;
const IN_PROCESS_ANSWERS = 20_000;

const SEED = fuzzSeed();
console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} npx vitest run test/e2e/fuzz)`);
const describeFailure = (p: Fuzzed, err: unknown) => failure(p, err, SEED);
const matchReplies = (queries: readonly Fuzzed[], replies: readonly Buffer[]) => matchRepliesOf(queries, replies, SEED);

/** One message through the in-process handler: from where, over which transport. */
interface Sent {
  readonly p: Fuzzed;
  readonly tcp: boolean;
  readonly address: string;
}

/**
 * Puts `n` messages from `next` through `handler`: nothing thrown (onError), a reply to every message
 * that expects one (over UDP, `dropped` says whether one may be missing: the rate limiter's), never a
 * transfer stream, every reply well-formed. Each reply goes to `onReply`.
 */
async function fuzzHandler(
  handler: Handler,
  errors: readonly unknown[],
  n: number,
  next: () => Sent,
  opts: { readonly dropped?: boolean; readonly onReply?: (out: Buffer) => void } = {},
): Promise<{ replies: number; unanswered: number }> {
  let replies = 0;
  let unanswered = 0;
  for (let i = 0; i < n; i++) {
    const { p, tcp, address } = next();
    const out = await handler(p.msg, { tcp, address });
    if (errors.length) throw new Error(describeFailure(p, errors[0]));
    if (!out) {
      if (expectsReply(p.msg) && (tcp || !opts.dropped)) throw new Error(describeFailure(p, new Error('no reply')));
      if (expectsReply(p.msg)) unanswered++;
      continue;
    }
    // No transfer is configured here: a transfer's stream of messages cannot come back.
    if (out instanceof MessageStream) throw new Error(describeFailure(p, new Error('a transfer stream')));
    replies++;
    try {
      checkReply(p.msg, out, !tcp);
    } catch (err) {
      throw new Error(describeFailure(p, err), { cause: err });
    }
    opts.onReply?.(out);
  }
  return { replies, unanswered };
}

/** The zones of zones/, in a store. */
async function exampleZones(): Promise<ZoneStore<PooledZone>> {
  const store = new ZoneStore<PooledZone>();
  store.put(...(await loadZones(path.join(ROOT, 'zones'))).zones);
  return store;
}

describe('fuzz, in process', () => {
  it(`answers ${IN_PROCESS_PACKETS} fuzzed messages without an exception, each reply well-formed`, async () => {
    const errors: unknown[] = [];
    const rng = new Rng(SEED);
    const inputs = {
      health: allUp,
      geo: null,
      random: () => rng.int(1 << 30) / (1 << 30),
      now: () => 1_700_000_000_000,
    };
    const handler = createHandler({
      zones: await exampleZones(),
      onError: (err) => errors.push(err),
      inputs: () => inputs,
    });
    const { replies } = await fuzzHandler(handler, errors, IN_PROCESS_PACKETS, () => ({
      p: nextPacket(rng),
      tcp: rng.chance(0.2),
      address: rng.pick(['192.0.2.1', '2001:db8::1', '::ffff:198.51.100.7']),
    }));
    console.log(`in-process: ${IN_PROCESS_PACKETS} messages, ${replies} replies, ${handler.stats.dropped} dropped`);
    expect(handler.stats.errors).toBe(0);
  }, 60_000);

  it(`answers ${IN_PROCESS_PACKETS / 2} fuzzed messages, half with COOKIE options, with rate limiting and cookies on`, async () => {
    const errors: unknown[] = [];
    const rng = new Rng(SEED ^ 0x2c00c1e5);
    let now = 1_700_000_000_000;
    const inputs = { health: allUp, geo: null, random: () => rng.int(1 << 30) / (1 << 30), now: () => now };
    const handler = createHandler({
      zones: await exampleZones(),
      onError: (err) => errors.push(err),
      inputs: () => inputs,
      rrl: new ResponseLimiter({ rate: 5, whitelist: ['192.0.2.128/25'], ...RRL_DEFAULTS, tableSize: 64 }, () => now),
      cookies: CookieSecrets.of({
        secret: rng.bytes(16).toString('hex'),
        previousSecret: rng.bytes(16).toString('hex'),
      }),
    });
    /** Server cookies seen in replies: presented again, whole or mutated. */
    const learned: Buffer[] = [];
    const cookieQuery = (): Fuzzed => {
      const r = rng.int(4);
      const data =
        r === 0 && learned.length
          ? rng.pick(learned)
          : r === 1 && learned.length
            ? mutateBytes(rng, rng.pick(learned)).msg
            : rng.bytes(rng.pick([0, 7, 8, 9, 15, 16, 24, 40, 41, rng.int(60)]));
      const q = buildQuery(
        rng.pick(['www.example.com', 'nx.example.com', 'www.gslb.example.com', '']),
        rng.pick([1, 28, 6, 255]),
        { id: rng.int(65536), edns: { options: ednsOption(10, data) } },
      );
      return rng.chance(0.2) ? mutateBytes(rng, q) : { kind: 'cookie', msg: q };
    };
    const next = (): Sent => {
      now += rng.int(3);
      const p = rng.chance(0.5) ? cookieQuery() : nextPacket(rng);
      const tcp = rng.chance(0.1);
      const address = rng.pick([
        '192.0.2.1',
        '192.0.2.200',
        `198.51.100.${rng.int(256)}`,
        '2001:db8::1',
        '::ffff:198.51.100.7',
      ]);
      return { p, tcp, address };
    };
    const { replies, unanswered } = await fuzzHandler(handler, errors, IN_PROCESS_PACKETS / 2, next, {
      // Dropped by the rate limiter: UDP only.
      dropped: true,
      onReply: (out) => {
        const cookie = decodeMessage(out).opt?.options.find((o) => o.code === 10);
        if (cookie && cookie.data.length > 16 && learned.length < 256) learned.push(Buffer.from(cookie.data, 'hex'));
      },
    });
    console.log(
      `in-process with rrl and cookies: ${replies} replies, ${unanswered} limited, ${learned.length} cookies learned`,
    );
    expect(handler.stats.errors).toBe(0);
    expect(learned.length).toBeGreaterThan(0);
    expect(unanswered).toBeGreaterThan(0);
  }, 60_000);

  it(`keeps ${IN_PROCESS_ANSWERS} synthetic answers within the size limit, truncating (TC=1) only when answer and authority do not fit`, () => {
    const rng = new Rng(SEED ^ 0x5a5a5a5a);
    const queries: Query[] = [];
    while (queries.length < 500) {
      const parsed = parseQuery(nextPacket(rng).msg);
      // Owners are compared as text: keep to names whose characters need no escaping.
      if (parsed.kind === 'query' && /^[a-z0-9_*-]*$/.test(nameToText(parsed.query.qname).replaceAll('.', '')))
        queries.push(parsed.query);
    }
    const owners = [
      'www.example.com.',
      'example.com.',
      'mail.example.com.',
      'a.very.long.name.below.example.com.',
      'x.gslb.example.com.',
    ].map((t) => keyFromText(t));
    /** The RRs an entry must produce, as decodeMessage prints them; every entry's RDATA is unique. */
    const rrsOf = new Map<Entry, string[]>();
    let serial = 0;
    /** An A RRset of `n` records for `owner`, sometimes with a TTL override and a pick. */
    const entry = (owner: NameKey, n: number): Entry => {
      const id = serial++ & 0xffff;
      const rdata = Array.from({ length: n }, (_, i) => Buffer.from([10, id >> 8, id & 0xff, i]));
      const rrset = makeRRset(owner, 1, 300, rdata);
      const pick = rng.chance(0.3)
        ? Array.from({ length: rng.range(1, n) }, () => rng.int(n)).filter((v, i, a) => a.indexOf(v) === i)
        : undefined;
      const ttl = rng.chance(0.3) ? rng.int(100) : undefined;
      const e: Entry = { owner, rrset, ...(ttl !== undefined && { ttl }), ...(pick && { pick }) };
      rrsOf.set(
        e,
        (pick ?? rdata.map((_, i) => i)).map((i) => `${nameToText(owner)} ${ttl ?? 300} IN A ${rdata[i]!.join('.')}`),
      );
      return e;
    };
    for (let i = 0; i < IN_PROCESS_ANSWERS; i++) {
      const q = rng.pick(queries);
      const size = rng.pick([1, 4, 16, 40, 80, 120]);
      const answer: Answer = {
        rcode: rng.pick([0, 0, 3]),
        aa: rng.chance(0.9),
        answer: Array.from({ length: rng.int(3) }, () =>
          entry(rng.chance(0.5) ? q.qname : rng.pick(owners), rng.range(1, size)),
        ),
        authority: Array.from({ length: rng.int(2) }, () => entry(rng.pick(owners), rng.range(1, 4))),
        additional: Array.from({ length: rng.int(6) }, () => entry(rng.pick(owners), rng.range(1, 12))),
        ...(rng.chance(0.3) && { ecsScope: rng.int(25) }),
      };
      const limit = rng.pick([512, 1232, 1232, rng.range(512, 1232), 65535]);
      const out = encodeAnswer(q, answer, limit);
      const context = () => `seed ${SEED}, answer ${i}, limit ${limit}, query ${hex(q.message)}`;
      let reply;
      try {
        reply = checkReply(q.message, out, false);
      } catch (err) {
        throw new Error(`${(err as Error).message}; ${context()}`, { cause: err });
      }
      expect(out.length, context()).toBeLessThanOrEqual(limit);
      expect(reply.flags & 0x7800, 'opcode echoed').toBe(q.flags & 0x7800);
      expect(reply.rcode & 0xf).toBe(answer.rcode);
      expect(reply.opt !== null).toBe(q.edns !== null);
      if (reply.flags & Flag.TC) {
        // RFC 2181 §9: a truncated answer carries nothing the resolver might take as complete.
        expect([...reply.answer, ...reply.authority, ...reply.additional], context()).toEqual([]);
        expect(encodeAnswer(q, answer, 65535).length, context()).toBeGreaterThan(limit);
        continue;
      }
      // Names decompress to the owners given (TTL overrides and picks applied, in pick order).
      expect(reply.answer, context()).toEqual(answer.answer.flatMap((e) => rrsOf.get(e)!));
      expect(reply.authority, context()).toEqual(answer.authority.flatMap((e) => rrsOf.get(e)!));
      // Additional RRsets go in whole or not at all, in their order.
      const additional = reply.additional;
      let at = 0;
      for (const e of answer.additional) {
        const rrs = rrsOf.get(e)!;
        if (rrs.every((rr, j) => additional[at + j] === rr)) at += rrs.length;
      }
      expect(at, context()).toBe(additional.length);
      if (q.edns?.ecs) {
        // RFC 7871 §7.2.1: ECS echoed with the query's family and source prefix, our scope.
        const ecs = Buffer.from(reply.opt!.options.find((o) => o.code === 8)!.data, 'hex');
        expect([ecs.readUInt16BE(0), ecs[2], ecs[3]]).toEqual([
          q.edns.ecs.family,
          q.edns.ecs.sourcePrefix,
          answer.ecsScope ?? 0,
        ]);
      }
    }
  }, 60_000);
});

describe('fuzz, a gslbd process', () => {
  let server: Gslbd;
  beforeAll(async () => {
    server = await startGslbd(['--zones', path.join(ROOT, 'zones'), '--io', 'batched'], { GSLBD_LOG_LEVEL: 'info' });
    // Without the native module (no compiler here) the run fuzzes dgram, and says so.
    console.log(`fuzz: UDP served through ${String(server.logs.find((l) => l.msg === 'listening')?.io)}`);
  }, 30_000);
  afterAll(async () => {
    await server?.stop();
  });

  it(`survives ${UDP_PACKETS} fuzzed UDP packets, answering a check query correctly after every batch`, async () => {
    const rng = new Rng(SEED ^ 0x0d0d0d0d);
    const started = performance.now();
    let sent = 0;
    let replies = 0;
    let expected = 0;
    for (let batch = 0; sent < UDP_PACKETS; batch++) {
      const packets = Array.from({ length: Math.min(UDP_BATCH, UDP_PACKETS - sent) }, () => nextPacket(rng));
      const pool = batch % 10 === 9;
      const r = await udpBatch(
        server.port,
        packets,
        sent,
        pool ? POOL_CHECK : CHECK,
        pool ? POOL_ADDRESSES : CHECK_ADDRESS,
        SEED,
      );
      if (r.problems.length) throw new Error(`batch ${batch}: ${r.problems.slice(0, 3).join('\n')}`);
      sent += packets.length;
      replies += r.replies;
      expected += r.expected;
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `UDP: ${sent} packets in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), ` +
        `${replies} replies of ${expected} expected (${expected - replies} lost)`,
    );
    expect(server.proc.exitCode).toBeNull();
    // Loopback loses little; many more losses than that mean the server stopped answering something.
    expect(replies).toBeGreaterThan(expected * 0.95);
  }, 120_000);

  it(`survives ${TCP_MESSAGES} pipelined fuzzed TCP messages over ${TCP_CONNECTIONS} connections, answering every one`, async () => {
    const rng = new Rng(SEED ^ 0x7c7c7c7c);
    const started = performance.now();
    const sessions = Array.from({ length: TCP_CONNECTIONS }, async (_, session) => {
      const queries: Fuzzed[] = Array.from({ length: TCP_MESSAGES / TCP_CONNECTIONS }, (_, i) => {
        const p = nextPacket(rng);
        const msg = Buffer.from(p.msg);
        if (msg.length >= 2) msg.writeUInt16BE(i, 0);
        return { kind: p.kind, msg };
      });
      const expected = queries.filter((q) => expectsReply(q.msg)).length;
      queries.push({ kind: 'check', msg: CHECK });
      // Slicing draws from its own stream: connections connect in any order, packets stay reproducible.
      const replies = await tcpSession(
        server.port,
        Buffer.concat(queries.map((q) => frame(q.msg))),
        new Rng(SEED + session),
        { done: (r) => r.length > expected },
      );
      matchReplies(queries, replies);
      const check = replies.find((r) => r.readUInt16BE(0) === CHECK_ID);
      expect(check && answersA(check, CHECK_ADDRESS), `check query answered (seed ${SEED})`).toBe(true);
      return { replies: replies.length - 1, expected };
    });
    const results = await Promise.all(sessions);
    const replies = results.reduce((s, r) => s + r.replies, 0);
    const expected = results.reduce((s, r) => s + r.expected, 0);
    console.log(
      `TCP: ${TCP_MESSAGES} messages in ${((performance.now() - started) / 1000).toFixed(1)} s, ${replies} replies of ${expected} expected`,
    );
    // TCP loses nothing: every message the server does not drop by design gets its reply.
    expect(replies).toBe(expected);
  }, 120_000);

  it('survives bad TCP framing: empty frames, short frames, garbage, byte-by-byte writes, resets', async () => {
    const rng = new Rng(SEED ^ 0x3e3e3e3e);
    const port = server.port;

    // Zero-length frames carry no message: skipped, and the connection still answers after them.
    const empties = await tcpSession(port, Buffer.concat([Buffer.alloc(200), frame(CHECK)]), rng, {
      timeoutMs: 5000,
      done: (r) => r.length > 0,
    });
    expect(empties.length).toBe(1);
    expect(answersA(empties[0]!, CHECK_ADDRESS)).toBe(true);

    // A length larger than the data that follows, then the client closes.
    for (let i = 0; i < 20; i++) {
      const sock = net.connect({ port, host: '127.0.0.1' });
      await new Promise<void>((r) => sock.on('connect', r));
      const head = Buffer.from([0, 0]);
      head.writeUInt16BE(rng.range(13, 65535), 0);
      sock.end(Buffer.concat([head, rng.bytes(rng.range(0, 12))]));
      await new Promise((r) => sock.on('close', r));
    }
    expect(await answersOverTcp(port)).toBe(true);

    // Garbage: random byte streams, and random frames whose last length field lies. Whatever
    // frames they hold are answered well-formed; then our FIN, and the server closes.
    for (let i = 0; i < 40; i++) {
      const stream =
        i % 2 === 0
          ? rng.bytes(rng.range(1, 20_000))
          : Buffer.concat([
              ...Array.from({ length: rng.range(1, 100) }, () => frame(rng.bytes(rng.int(600)))),
              Buffer.from([rng.int(256), rng.int(256)]),
              rng.bytes(rng.int(100)),
            ]);
      const queries = framesOf(stream).map((msg) => ({ kind: 'garbage frame', msg }));
      const replies = await tcpSession(port, stream, rng, { end: true, timeoutMs: 5000 });
      matchReplies(queries, replies);
    }
    expect(await answersOverTcp(port)).toBe(true);

    // One query a byte at a time, each byte its own segment.
    const slow = net.connect({ port, host: '127.0.0.1' });
    slow.setNoDelay(true);
    await new Promise<void>((r) => slow.on('connect', r));
    let got: Buffer = Buffer.alloc(0);
    const reply = new Promise<void>((r) =>
      slow.on('data', (c: Buffer) => {
        got = Buffer.concat([got, c]);
        if (got.length >= 2 && got.length >= 2 + got.readUInt16BE(0)) r();
      }),
    );
    for (const b of frame(CHECK)) {
      slow.write(Buffer.from([b]));
      await new Promise((r) => setTimeout(r, 2));
    }
    await reply;
    slow.destroy();
    expect(answersA(got.subarray(2), CHECK_ADDRESS)).toBe(true);

    // Connections reset in the middle of a frame (RST, not FIN).
    for (let i = 0; i < 50; i++) {
      const sock = net.connect({ port, host: '127.0.0.1' });
      await new Promise<void>((r) => sock.on('connect', r));
      sock.write(frame(nextPacket(rng).msg).subarray(0, rng.range(1, 40)));
      sock.resetAndDestroy();
    }
    expect(await answersOverTcp(port)).toBe(true);
    expect(server.proc.exitCode).toBeNull();
  }, 60_000);

  it('reads no more from a TCP client that does not read its replies (back-pressure, not unbounded memory)', async () => {
    const rssMiB = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]) / 1024;
    const query = frame(buildQuery('example.com', 15, { edns: {} }));
    const chunk = Buffer.concat(Array.from({ length: 1000 }, () => query));
    const before = rssMiB();
    const sock = net.connect({ port: server.port, host: '127.0.0.1' });
    sock.pause();
    sock.on('error', () => {});
    await new Promise<void>((r) => sock.on('connect', r));
    // Without back-pressure the server reads all of this and queues every reply (about 13 MiB of
    // memory per MB of queries); with it, the write stalls once the socket buffers are full.
    const LIMIT = 40e6;
    let sent = 0;
    while (sent < LIMIT) {
      sent += chunk.length;
      if (sock.write(chunk)) continue;
      const drained = await new Promise<boolean>((r) => {
        const timer = setTimeout(() => r(false), 1000);
        sock.once('drain', () => {
          clearTimeout(timer);
          r(true);
        });
      });
      if (!drained) break;
    }
    const grown = rssMiB() - before;
    sock.destroy();
    console.log(
      `non-reading TCP client: ${(sent / 1e6).toFixed(1)} MB written before the stall, server RSS +${grown.toFixed(0)} MiB`,
    );
    expect(sent).toBeLessThan(LIMIT);
    expect(grown).toBeLessThan(150);
    expect(await answersOverTcp(server.port)).toBe(true);
  }, 60_000);

  it('is still running at the end and logged no failed query', () => {
    expect(server.proc.exitCode).toBeNull();
    expect(server.proc.signalCode).toBeNull();
    expect(server.logs.filter((l) => l.msg === 'query failed: answered SERVFAIL')).toEqual([]);
  });
});
