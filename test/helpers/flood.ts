// A paced UDP flood from one client, for the rate-limiting tests (in the style of Knot's RRL tests):
// every query has its own id, every reply is matched to it and counted as answered, slipped (TC=1),
// BADCOOKIE, or not answered at all (dropped).

import dgram from 'node:dgram';

export interface FloodResult {
  readonly sent: number;
  /** Full answers (TC=0, not BADCOOKIE). */
  readonly answered: number;
  /** Bare truncated replies (TC=1). */
  readonly slipped: number;
  /** BADCOOKIE replies (RCODE 23: 7 in the header, 1 in the OPT). */
  readonly badcookie: number;
  /** No reply. */
  readonly dropped: number;
  /** Every reply, in arrival order. */
  readonly replies: readonly Buffer[];
}

export interface FloodOptions {
  readonly port: number;
  /** The query with id `id` (0..65535). */
  readonly query: (id: number) => Buffer;
  readonly seconds: number;
  readonly qps: number;
  /** Source address (any 127.x.y.z works on Linux loopback); default 127.0.0.1. */
  readonly from?: string;
  /** Sockets to send from in turn (each its own source port); default 1. */
  readonly sockets?: number;
}

export async function flood(o: FloodOptions): Promise<FloodResult> {
  const total = Math.round(o.seconds * o.qps);
  if (total > 65536) throw new Error('a flood has at most 65536 queries (one id each)');
  const socks = await Promise.all(
    Array.from({ length: o.sockets ?? 1 }, async () => {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind({ address: o.from ?? '127.0.0.1', port: 0 }, r));
      return s;
    }),
  );
  const byId = new Map<number, Buffer>();
  const replies: Buffer[] = [];
  let lastReply = Date.now();
  for (const s of socks)
    s.on('message', (m) => {
      lastReply = Date.now();
      replies.push(m);
      if (m.length >= 12) byId.set(m.readUInt16BE(0), m);
    });
  const start = Date.now();
  let sent = 0;
  // Paced by the clock: as many as should have gone by now, every few milliseconds.
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((Date.now() - start) * o.qps) / 1000));
      for (; sent < due; sent++) socks[sent % socks.length]!.send(o.query(sent), o.port, '127.0.0.1');
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 5);
  });
  // Replies still on their way (a loaded machine may hold some back): until none came for 400 ms,
  // 5 s at most.
  const sentAll = Date.now();
  while (Date.now() - Math.max(lastReply, sentAll) < 400 && Date.now() - sentAll < 5000)
    await new Promise((r) => setTimeout(r, 50));
  for (const s of socks) s.close();
  let answered = 0;
  let slipped = 0;
  let badcookie = 0;
  for (const m of byId.values()) {
    const flags = m.readUInt16BE(2);
    if (flags & 0x0200) slipped++;
    else if ((flags & 0xf) === 7 && m.readUInt16BE(10) > 0) badcookie++;
    else answered++;
  }
  return { sent, answered, slipped, badcookie, dropped: sent - byId.size, replies };
}
