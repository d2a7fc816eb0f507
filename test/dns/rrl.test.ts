// The limiter alone, with an injected clock: exact counts of sent, slipped and dropped.

import { describe, expect, it } from 'vitest';
import { RRL_DEFAULTS, RrlAction, RrlClass, ResponseLimiter, type RrlEvent } from '../../src/6-serve/rrl.ts';

const { SENT, SLIPPED, DROPPED, EXEMPT, LOGGED } = RrlAction;

function limiter(opts: Partial<ConstructorParameters<typeof ResponseLimiter>[0]> = {}) {
  const clock = { t: 1_000_000 };
  const events: RrlEvent[] = [];
  const l = new ResponseLimiter(
    { ...RRL_DEFAULTS, whitelist: [], rate: 10, ...opts },
    () => clock.t,
    (e) => events.push(e),
  );
  return { l, clock, events };
}

/** Actions for `n` responses to `address` at the same instant. */
const burst = (l: ResponseLimiter, address: string, n: number, cls: number = RrlClass.ANSWER) =>
  Array.from({ length: n }, () => l.decide(address, cls));

const count = (actions: number[], a: number) => actions.filter((x) => x === a).length;

describe('ResponseLimiter', () => {
  it('sends `rate` responses, then slips every slip-th and drops the rest', () => {
    const { l } = limiter({ rate: 10, slip: 2 });
    const a = burst(l, '192.0.2.1', 30);
    expect(a.slice(0, 10)).toEqual(Array(10).fill(SENT));
    expect(a.slice(10)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 1 ? SLIPPED : DROPPED)));
  });

  it('refills at `rate` per second', () => {
    const { l, clock } = limiter({ rate: 10, slip: 0 });
    burst(l, '192.0.2.1', 10);
    expect(l.decide('192.0.2.1', RrlClass.ANSWER)).toBe(DROPPED);
    clock.t += 500;
    const a = burst(l, '192.0.2.1', 6);
    expect(count(a, SENT)).toBe(5);
    expect(count(a, DROPPED)).toBe(1);
  });

  it('slip 1 slips every limited response; slip 0 drops every one', () => {
    expect(count(burst(limiter({ slip: 1 }).l, '192.0.2.1', 20), SLIPPED)).toBe(10);
    expect(count(burst(limiter({ slip: 0 }).l, '192.0.2.1', 20), DROPPED)).toBe(10);
  });

  it('shares a bucket within the IPv4 /24 and IPv6 /56, not beyond', () => {
    const { l } = limiter({ rate: 10 });
    burst(l, '192.0.2.1', 10);
    expect(l.decide('192.0.2.200', RrlClass.ANSWER)).not.toBe(SENT);
    expect(l.decide('192.0.3.1', RrlClass.ANSWER)).toBe(SENT);
    burst(l, '2001:db8:0:100::1', 10);
    expect(l.decide('2001:db8:0:1ff::2', RrlClass.ANSWER)).not.toBe(SENT);
    expect(l.decide('2001:db8:0:200::1', RrlClass.ANSWER)).toBe(SENT);
  });

  it('keeps a bucket per class: an NXDOMAIN flood leaves answers alone', () => {
    const { l } = limiter({ rate: 10 });
    burst(l, '192.0.2.1', 50, RrlClass.NXDOMAIN);
    expect(l.decide('192.0.2.1', RrlClass.ANSWER)).toBe(SENT);
  });

  it('never limits the whitelist', () => {
    const { l } = limiter({ rate: 1, whitelist: ['192.0.2.0/25', '2001:db8::/32'] });
    expect(new Set(burst(l, '192.0.2.127', 50))).toEqual(new Set([EXEMPT]));
    expect(new Set(burst(l, '2001:db8:ffff::1', 50))).toEqual(new Set([EXEMPT]));
    expect(burst(l, '192.0.2.128', 3)).toEqual([SENT, DROPPED, SLIPPED]);
  });

  it('log-only sends everything beyond the rate as logged', () => {
    const { l } = limiter({ rate: 5, logOnly: true });
    const a = burst(l, '192.0.2.1', 20);
    expect(count(a, SENT)).toBe(5);
    expect(count(a, LOGGED)).toBe(15);
  });

  it('logs a limited prefix at most once every 30 s, with the count since the last line', () => {
    const { l, clock, events } = limiter({ rate: 1, slip: 0 });
    burst(l, '192.0.2.9', 10);
    expect(events).toEqual([{ prefix: '192.0.2.0/24', class: 'answer', limited: 1, logOnly: false }]);
    clock.t += 29_000;
    burst(l, '192.0.2.9', 10, RrlClass.NXDOMAIN);
    expect(events).toHaveLength(1);
    clock.t += 1_000;
    burst(l, '2001:db8:1:2::3', 3);
    l.decide('192.0.2.9', RrlClass.ANSWER);
    l.decide('192.0.2.9', RrlClass.ANSWER);
    expect(events.slice(1)).toEqual([
      { prefix: '2001:db8:1::/56', class: 'answer', limited: 1, logOnly: false },
      { prefix: '192.0.2.0/24', class: 'answer', limited: 8 + 9 + 1, logOnly: false },
    ]);
  });

  it('holds at most table-size buckets, letting the stalest go', () => {
    const { l, clock } = limiter({ rate: 1, slip: 0, tableSize: 3 });
    l.decide('192.0.1.1', RrlClass.ANSWER); // the flooder, limited from now on
    clock.t += 10;
    l.decide('192.0.2.1', RrlClass.ANSWER);
    l.decide('192.0.3.1', RrlClass.ANSWER);
    clock.t += 1000;
    // Used again: it moves behind the others, so a new prefix evicts 192.0.2.0/24, not it.
    expect(l.decide('192.0.1.1', RrlClass.ANSWER)).toBe(SENT);
    expect(l.decide('192.0.1.1', RrlClass.ANSWER)).toBe(DROPPED);
    l.decide('192.0.4.1', RrlClass.ANSWER);
    expect(l.size).toBe(3);
    expect(l.decide('192.0.1.1', RrlClass.ANSWER)).toBe(DROPPED);
  });
});
