// DNS Cookies end to end (RFC 7873, RFC 9018 server cookies): real gslbd processes with `cookies:`
// and the issue's `rrl:`, real UDP and TCP, real `dig +cookie`. Secrets are made here, per run.

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flood } from '../helpers/flood.ts';
import { decodeMessage } from '../helpers/message.ts';
import { metric } from '../helpers/ops.ts';
import { buildQuery, ednsOption, headerOf, tcpExchange, udpExchange } from '../helpers/raw.ts';
import { startWith, type Server } from '../helpers/rrl-server.ts';
import { until } from '../helpers/listeners.ts';

const S1 = randomBytes(16).toString('hex');
const S2 = randomBytes(16).toString('hex');
const RRL = 'rrl: { rate: 20, slip: 2, ipv4-prefix: 24, ipv6-prefix: 56, log-only: false, table-size: 100000 }';
const CLIENT = 'c1c2c3c4c5c6c7c8';

/** www.example.net A with a COOKIE option of `cookie` (hex). */
const withCookie = (cookie: string, id = 1) =>
  buildQuery('www.example.net', 1, { id, edns: { options: ednsOption(10, Buffer.from(cookie, 'hex')) } });

/** The reply's rcode (extended) and the COOKIE it carries (hex), or null. */
function cookieOf(reply: Buffer | null): { rcode: number; cookie: string | null } {
  if (!reply) throw new Error('no reply');
  const d = decodeMessage(reply);
  return { rcode: d.rcode, cookie: d.opt?.options.find((o) => o.code === 10)?.data ?? null };
}

/** A server cookie for CLIENT from the server on `port`. */
async function learn(port: number): Promise<string> {
  const { rcode, cookie } = cookieOf(await udpExchange(port, withCookie(CLIENT)));
  expect(rcode).toBe(0);
  expect(cookie).toMatch(new RegExp(`^${CLIENT}01000000[0-9a-f]{24}$`));
  return cookie!;
}

function digText(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'dig',
      ['@127.0.0.1', '-p', String(port), '+norecurse', '+tries=1', '+timeout=3', ...args],
      { timeout: 15_000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  );
}

describe('cookies:', { timeout: 60_000 }, () => {
  let a: Server;
  beforeAll(async () => {
    a = await startWith([RRL, `cookies: { secret: "${S1}" }`]);
  }, 30_000);
  afterAll(async () => {
    await a?.stop();
  });

  it('`dig +cookie` gets a server cookie, and sending it back is good and keeps it', async () => {
    const first = await digText(a.gslbd.port, ['www.example.net', '+cookie']);
    const cookie = /; COOKIE: ([0-9a-f]{48}) \(good\)/.exec(first)?.[1];
    expect(cookie).toBeDefined();
    const again = await digText(a.gslbd.port, ['www.example.net', `+cookie=${cookie}`]);
    expect(again).toContain(`; COOKIE: ${cookie} (good)`);
    expect(again).toContain('status: NOERROR');
  });

  it('a client that presents a valid server cookie is never limited', async () => {
    const cookie = await learn(a.gslbd.port);
    const before = await a.metrics();
    const r = await flood({
      port: a.gslbd.port,
      query: (id) => withCookie(cookie, id),
      seconds: 2,
      qps: 300,
      from: '127.0.0.1',
    });
    expect(r).toMatchObject({ sent: 600, answered: 600, slipped: 0, badcookie: 0, dropped: 0 });
    // Each answer carries the cookie back unchanged (valid and fresh: RFC 9018 §4.3).
    expect(new Set(r.replies.map((m) => cookieOf(m).cookie))).toEqual(new Set([cookie]));
    const after = await a.metrics();
    const moved = (name: string, labels: Record<string, string>) =>
      metric(after, name, labels) - metric(before, name, labels);
    expect(moved('gslbd_rrl_responses_total', { action: 'exempt' })).toBe(600);
    expect(moved('gslbd_rrl_responses_total', { action: 'dropped' })).toBe(0);
    expect(moved('gslbd_cookies_total', { result: 'valid' })).toBe(600);
  });

  it('a client with only a client cookie is limited, and what slips is a bare TC reply; over TCP it gets a server cookie that then exempts it', async () => {
    const r = await flood({
      port: a.gslbd.port,
      query: (id) => withCookie(CLIENT, id),
      seconds: 2,
      qps: 300,
      from: '127.0.5.1',
    });
    expect(r.answered).toBeLessThanOrEqual(60 * 1.2);
    expect(r.badcookie).toBe(0);
    expect(r.slipped).toBeGreaterThan((r.sent - r.answered) * 0.4);
    // Never more than a bare TC reply: the header and the question, no OPT, no cookie.
    const slipped = r.replies.find((m) => m.readUInt16BE(2) & 0x0200)!;
    expect(slipped.readUInt16BE(10)).toBe(0);
    expect(decodeMessage(slipped).opt).toBeNull();
    // Asked again over TCP, as a real client does after TC: answered, with a server cookie.
    const [overTcp] = await tcpExchange(a.gslbd.port, [withCookie(CLIENT)], 1, 3000, '127.0.0.1', '127.0.5.1');
    const { rcode, cookie } = cookieOf(overTcp!);
    expect(rcode).toBe(0);
    expect(cookie).toMatch(new RegExp(`^${CLIENT}01000000[0-9a-f]{24}$`));
    // The cookie is bound to 127.0.5.1: from there, presenting it is answered at once, still over the rate.
    const again = await flood({
      port: a.gslbd.port,
      query: (id) => withCookie(cookie!, id),
      seconds: 0.2,
      qps: 100,
      from: '127.0.5.1',
    });
    expect(again).toMatchObject({ sent: 20, answered: 20 });
  });

  it('answers a malformed COOKIE option FORMERR, with an OPT', async () => {
    for (const bad of ['c1c2c3c4c5c6c7', `${CLIENT}0102`, `${CLIENT}${'00'.repeat(33)}`]) {
      const reply = (await udpExchange(a.gslbd.port, withCookie(bad)))!;
      expect(decodeMessage(reply).rcode).toBe(1);
      expect(decodeMessage(reply).opt).not.toBeNull();
    }
    expect(metric(await a.metrics(), 'gslbd_cookies_total', { result: 'malformed' })).toBe(3);
  });

  it('answers a server cookie that is not ours BADCOOKIE over UDP with a fresh one, and the answer over TCP', async () => {
    const forged = `${CLIENT}01000000${randomBytes(12).toString('hex')}`;
    const udp = cookieOf(await udpExchange(a.gslbd.port, withCookie(forged)));
    expect(udp.rcode).toBe(23);
    expect(udp.cookie).not.toBe(forged);
    const retried = cookieOf(await udpExchange(a.gslbd.port, withCookie(udp.cookie!)));
    expect(retried).toEqual({ rcode: 0, cookie: udp.cookie });
    const [tcp] = await tcpExchange(a.gslbd.port, [withCookie(forged)]);
    expect(headerOf(tcp!).ancount).toBe(1);
    expect(cookieOf(tcp!).rcode).toBe(0);
    expect(cookieOf(tcp!).cookie).toMatch(new RegExp(`^${CLIENT}01`));
  });

  it('answers a query with no question and a COOKIE with a server cookie (RFC 7873 §5.4)', async () => {
    const q = withCookie(CLIENT);
    const header = Buffer.from(q.subarray(0, 12));
    header.writeUInt16BE(0, 4);
    const opt = q.subarray(12 + 'www.example.net'.length + 2 + 4);
    const reply = (await udpExchange(a.gslbd.port, Buffer.concat([header, opt])))!;
    expect(headerOf(reply)).toMatchObject({ qdcount: 0, ancount: 0, rcode: 0 });
    expect(cookieOf(reply).cookie).toMatch(new RegExp(`^${CLIENT}01000000`));
  });

  it('a second process with the same secret accepts its cookies: it sends the very cookie back', async () => {
    const cookie = await learn(a.gslbd.port);
    const b = await startWith([`cookies: { secret: "${S1}" }`]);
    const other = await startWith([`cookies: { secret: "${S2}" }`]);
    try {
      expect(cookieOf(await udpExchange(b.gslbd.port, withCookie(cookie)))).toEqual({ rcode: 0, cookie });
      expect(cookieOf(await udpExchange(other.gslbd.port, withCookie(cookie))).rcode).toBe(23);
    } finally {
      await Promise.all([b.stop(), other.stop()]);
    }
  });

  it('rotation: restarted with a new secret and the old one as previous-secret, old cookies are still good', async () => {
    const cookie = await learn(a.gslbd.port);
    const rotated = await startWith([`cookies: { secret: "${S2}", previous-secret: "${S1}" }`]);
    try {
      const r = cookieOf(await udpExchange(rotated.gslbd.port, withCookie(cookie)));
      // Valid, and replaced by a cookie of the new secret, which this server then keeps as it is.
      expect(r.rcode).toBe(0);
      expect(r.cookie).not.toBe(cookie);
      expect(cookieOf(await udpExchange(rotated.gslbd.port, withCookie(r.cookie!)))).toEqual({
        rcode: 0,
        cookie: r.cookie,
      });
    } finally {
      await rotated.stop();
    }
  });

  for (const workers of ['1', '2']) {
    it(`rotation without a restart (--workers ${workers}): SIGHUP with the new secret and the old as previous-secret keeps old cookies good; without it they are BADCOOKIE`, async () => {
      const s = await startWith([`cookies: { secret: "${S1}" }`], ['--workers', workers]);
      try {
        const old = await learn(s.gslbd.port);
        const count = (msg: string) => s.gslbd.logs.filter((l) => l.msg === msg).length;
        // Done when gslbd.yaml was taken and the zones reloaded (in every worker: they take the
        // secrets before their reload message).
        const done = workers === '1' ? 'zone loaded' : 'worker reloaded';
        const reloaded = async (lines: string[]) => {
          s.rewrite(lines);
          const [c0, d0] = [count('config reloaded: API tokens and TSIG keys'), count(done)];
          s.gslbd.proc.kill('SIGHUP');
          await until(
            () => count('config reloaded: API tokens and TSIG keys') > c0 && count(done) >= d0 + Number(workers),
            10_000,
            `the reload: ${JSON.stringify(s.gslbd.logs.slice(-12).map((l) => l.msg))}`,
          );
        };
        await reloaded([`cookies: { secret: "${S2}", previous-secret: "${S1}" }`]);
        const r = cookieOf(await udpExchange(s.gslbd.port, withCookie(old)));
        expect(r.rcode).toBe(0);
        expect(r.cookie).not.toBe(old);
        await reloaded([`cookies: { secret: "${S2}" }`]);
        expect(cookieOf(await udpExchange(s.gslbd.port, withCookie(old))).rcode).toBe(23);
        expect(cookieOf(await udpExchange(s.gslbd.port, withCookie(r.cookie!))).rcode).toBe(0);
      } finally {
        await s.stop();
      }
    }, 30_000);
  }
});
