// The network side of the query-path fuzzing, shared by test/e2e/fuzz.test.ts and bench/fuzz.ts:
// batches of fuzzed UDP packets each followed by a known-good check query, fuzzed TCP sessions
// written in random slices, and the matching of replies to what was sent.

import dgram from 'node:dgram';
import net from 'node:net';
import { answersA, checkReply, Rng, type Fuzzed } from './fuzz.ts';
import { buildQuery, tcpExchange } from './raw.ts';

/** The known-good query after each batch, and the answer it must get (zones/example.com.zone). */
export const CHECK_ID = 0xfffe;
/** Fuzzed messages get IDs below this, in sequence, so none collides with CHECK_ID. */
export const ID_SPACE = 0xff00;
export const CHECK = buildQuery('www.example.com', 1, { id: CHECK_ID });
export const CHECK_ADDRESS = ['192.0.2.10'];
/** Every few batches the check is a pool instead (zones/gslb.example.com.pools.yaml, round-robin). */
export const POOL_CHECK = buildQuery('rr.gslb.example.com', 1, { id: CHECK_ID, edns: {} });
export const POOL_ADDRESSES = ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4'];

export const hex = (b: Buffer) => b.toString('hex');
/** What failed, on which packet, and the seed that replays it. */
export const describeFailure = (p: Fuzzed, err: unknown, seed: number) =>
  `${(err as Error).message}\n  packet (${p.kind}, ${p.msg.length} bytes): ${hex(p.msg)}\n  seed ${seed}`;

/** True if the server must answer this message at all: it drops only runts and QR=1 (README). */
export const expectsReply = (msg: Buffer) => msg.length >= 12 && (msg[2]! & 0x80) === 0;

/** Sends `packets` from one socket, then the check query; resolves when the check is answered. */
export async function udpBatch(
  port: number,
  packets: Fuzzed[],
  firstId: number,
  check: Buffer,
  allowed: readonly string[],
  seed: number,
  onReply?: (sent: Fuzzed, reply: Buffer) => void,
): Promise<{ replies: number; expected: number; problems: string[] }> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const byId = new Map<number, Fuzzed>();
  const answered = new Set<number>();
  const problems: string[] = [];
  let expected = 0;
  let replies = 0;
  let onCheck: ((reply: Buffer) => void) | null = null;
  sock.on('message', (reply) => {
    const id = reply.length >= 2 ? reply.readUInt16BE(0) : -1;
    if (id === CHECK_ID) return onCheck?.(reply);
    const p = byId.get(id);
    if (!p) return void problems.push(`reply with an ID no query had: ${hex(reply)}`);
    if (answered.has(id)) return void problems.push(describeFailure(p, new Error('two replies to one query'), seed));
    answered.add(id);
    replies++;
    onReply?.(p, reply);
    try {
      checkReply(p.msg, reply, true);
    } catch (err) {
      problems.push(describeFailure(p, err, seed));
    }
  });
  packets.forEach((p, i) => {
    // IDs unique over many batches, so each reply finds its query, and a late reply to an earlier
    // batch (an UPDATE answered after the journal write) is never taken for one of this batch.
    const id = (firstId + i) % ID_SPACE;
    const msg = p.msg.length >= 2 ? Buffer.from(p.msg) : p.msg;
    if (msg.length >= 2) msg.writeUInt16BE(id, 0);
    const sent = { ...p, msg };
    if (msg.length >= 2) byId.set(id, sent);
    if (expectsReply(msg)) expected++;
    sock.send(msg, port, '127.0.0.1');
  });
  // UDP may lose the check itself under load: three tries before the server counts as hung.
  let checked: Buffer | null = null;
  for (let attempt = 0; attempt < 3 && !checked; attempt++) {
    checked = await new Promise<Buffer | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 2000);
      onCheck = (reply) => {
        clearTimeout(timer);
        resolve(reply);
      };
      sock.send(check, port, '127.0.0.1');
    });
  }
  // The server reads its socket in order: queries answered at once were answered before the check;
  // UPDATEs are answered after their journal write (RFC 7766 §7 order is free), so allow a moment.
  for (let waited = 0; replies < expected && waited < 50; waited += 5) await new Promise((r) => setTimeout(r, 5));
  sock.close();
  if (!checked) problems.push(`no reply to the check query after the batch (seed ${seed})`);
  else if (!answersA(checked, allowed)) problems.push(`wrong reply to the check query: ${hex(checked)}`);
  return { replies, expected, problems };
}

/**
 * One TCP connection: `stream` written in random slices, replies collected until `done` says
 * so, the server closes (after our FIN when `end`), or `timeoutMs` passes.
 */
export function tcpSession(
  port: number,
  stream: Buffer,
  rng: Rng,
  opts: { end?: boolean; timeoutMs?: number; done?: (replies: readonly Buffer[]) => boolean } = {},
): Promise<Buffer[]> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const replies: Buffer[] = [];
    let pending = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(replies);
    }, timeoutMs);
    sock.on('connect', () => {
      // Random slices: frames split across segments and several frames in one, both must work.
      for (let off = 0; off < stream.length;) {
        const n = rng.chance(0.1) ? rng.range(1, 3) : rng.range(1, 4000);
        sock.write(stream.subarray(off, off + n));
        off += n;
      }
      if (opts.end) sock.end();
    });
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const reply = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + reply.length);
        replies.push(reply);
      }
      if (opts.done?.(replies)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(replies);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(replies);
    });
  });
}

export const frame = (msg: Buffer) => {
  const f = Buffer.alloc(2 + msg.length);
  f.writeUInt16BE(msg.length, 0);
  msg.copy(f, 2);
  return f;
};

/** Splits a byte stream into messages as a TCP server must (RFC 1035 §4.2.2), complete frames only. */
export function framesOf(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (
    let off = 0;
    off + 2 <= stream.length && off + 2 + stream.readUInt16BE(off) <= stream.length;
    off += 2 + stream.readUInt16BE(off)
  ) {
    out.push(stream.subarray(off + 2, off + 2 + stream.readUInt16BE(off)));
  }
  return out;
}

/**
 * Pairs each reply with an unanswered query of the same ID (RFC 7766 §7: order is free; UPDATEs
 * are answered after the others) and checks it against that query. IDs may repeat in garbage.
 */
export function matchReplies(queries: readonly Fuzzed[], replies: readonly Buffer[], seed: number): void {
  const open = new Map<number, Fuzzed[]>();
  for (const q of queries) {
    if (q.msg.length < 2) continue;
    const id = q.msg.readUInt16BE(0);
    open.set(id, [...(open.get(id) ?? []), q]);
  }
  for (const reply of replies) {
    const candidates = open.get(reply.length >= 2 ? reply.readUInt16BE(0) : -1) ?? [];
    if (candidates.length === 0)
      throw new Error(`TCP reply to no query sent, or a second one: ${hex(reply)} (seed ${seed})`);
    let first: unknown = null;
    const i = candidates.findIndex((q) => {
      try {
        checkReply(q.msg, reply, false);
        return true;
      } catch (err) {
        first ??= err;
        return false;
      }
    });
    if (i < 0) throw new Error(describeFailure(candidates[0]!, first, seed));
    candidates.splice(i, 1);
  }
}

/** The server answers the check query over a new TCP connection. */
export async function answersOverTcp(port: number): Promise<boolean> {
  const [reply] = await tcpExchange(port, [CHECK]);
  return reply !== undefined && answersA(reply, CHECK_ADDRESS);
}
