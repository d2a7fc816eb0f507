// Every non-geo policy, the fallbacks and the address families, through real `dig` queries against
// a running gslbd serving test/fixtures/gslb (geo policies: gslb-geo.test.ts; ECS: gslb-ecs.test.ts;
// thousands of answers: gslb-statistics.test.ts).
//
// Pool state (rotation, SWRR currents) lives in the server and is shared by every query to a pool,
// so each test here is the only one that asks its pool, and tests within this file run in order.

import { describe, expect, it } from 'vitest';
import { makeClient } from '../../src/4-gslb/client.ts';
import { policies } from '../../src/3-policy/index.ts';
import { dig, type DigResult } from '../helpers/dig.ts';
import { gslbdForTests } from '../helpers/gslbd.ts';
import { clientSubnet, GSLB_FIXTURE } from '../helpers/pool-queries.ts';
const ZONE = 'gslb.example.net.';
const name = (label: string) => `${label}.${ZONE}`;

const { server } = gslbdForTests(['--zones', GSLB_FIXTURE]);

const ask = (label: string, type = 'A', ...extra: string[]) => dig(server.port, [name(label), type, ...extra]);
const addresses = (r: DigResult) => r.answer.map((rr) => rr.data);
/** `n` queries one after the other (each waits for the previous reply, so the order is the server's). */
async function inTurn(n: number, label: string, type = 'A', ...extra: string[]): Promise<DigResult[]> {
  const out: DigResult[] = [];
  for (let i = 0; i < n; i++) out.push(await ask(label, type, ...extra));
  return out;
}

/** An authoritative NODATA: NOERROR, no answer, the zone's SOA in authority with `ttl`. */
function expectNodata(r: DigResult, ttl: number): void {
  expect(r.status).toBe('NOERROR');
  expect(r.flags).toContain('aa');
  expect(r.answer).toEqual([]);
  expect(r.authority.map((rr) => [rr.name, rr.ttl, rr.type])).toEqual([[ZONE, ttl, 'SOA']]);
}

describe("the issue's example pool (weighted 3:1:1, one IPv6 target)", () => {
  it('answers A by smooth weighted round-robin over its IPv4 targets, with the pool TTL', async () => {
    const rs = await inTurn(8, 'www');
    for (const r of rs) {
      expect(r.status).toBe('NOERROR');
      expect(r.flags).toEqual(['qr', 'aa']);
      expect(r.answer.map((rr) => [rr.name, rr.ttl, rr.type])).toEqual([[name('www'), 20, 'A']]);
    }
    // Weights 3 and 1: each cycle of 4 is a a b a (nginx SWRR, ties to the first listed).
    expect(rs.map((r) => r.answer[0]!.data)).toEqual([
      '192.0.2.10',
      '192.0.2.10',
      '192.0.2.20',
      '192.0.2.10',
      '192.0.2.10',
      '192.0.2.10',
      '192.0.2.20',
      '192.0.2.10',
    ]);
  });

  it('answers AAAA from its IPv6 target only', async () => {
    const r = await ask('www', 'AAAA');
    expect(r.answer.map((rr) => rr.text)).toEqual([`${name('www')} 20 IN AAAA 2001:db8::10`]);
  });

  it('keeps static data of other types beside the pool', async () => {
    const r = await ask('www', 'TXT');
    expect(r.answer.map((rr) => [rr.type, rr.data])).toEqual([['TXT', '"the issue\'s example pool"']]);
  });

  it("answers ANY with one RRset (RFC 8482 §4.2): the pool's A answer", async () => {
    for (const r of [await ask('www', 'ANY'), await ask('www', 'ANY', '+tcp')]) {
      expect(r.status).toBe('NOERROR');
      expect(r.answer.map((rr) => [rr.ttl, rr.type])).toEqual([[20, 'A']]);
      expect(['192.0.2.10', '192.0.2.20']).toContain(r.answer[0]!.data);
    }
    const v6 = await ask('v6only', 'ANY');
    expect(v6.answer.map((rr) => rr.text)).toEqual([`${name('v6only')} 25 IN AAAA 2001:db8::141`]);
  });
});

describe('round-robin', () => {
  it('starts each answer one target further on, answering `answers` consecutive targets', async () => {
    const rs = await inTurn(4, 'rr');
    expect(rs.map(addresses)).toEqual([
      ['198.51.100.1', '198.51.100.2'],
      ['198.51.100.2', '198.51.100.3'],
      ['198.51.100.3', '198.51.100.1'],
      ['198.51.100.1', '198.51.100.2'],
    ]);
    expect(rs.flatMap((r) => r.answer.map((rr) => rr.ttl))).toEqual(Array(8).fill(11));
  });

  it('rotates the IPv6 targets for AAAA on their own', async () => {
    const rs = await inTurn(3, 'rr', 'AAAA');
    expect(rs.map(addresses)).toEqual([
      ['2001:db8::1', '2001:db8::2'],
      ['2001:db8::2', '2001:db8::1'],
      ['2001:db8::1', '2001:db8::2'],
    ]);
  });
});

describe('random', () => {
  it('answers `answers` distinct targets of the pool, not always the same ones', async () => {
    const targets = ['198.51.100.21', '198.51.100.22', '198.51.100.23'];
    const rs = await inTurn(15, 'random');
    for (const r of rs) {
      expect(r.answer.map((rr) => rr.ttl)).toEqual([12, 12]);
      const got = addresses(r);
      expect(new Set(got).size).toBe(2);
      for (const a of got) expect(targets).toContain(a);
    }
    // All 15 leading with one target: 3 × (1/3)^15 ≈ 2e-7.
    expect(new Set(rs.map((r) => addresses(r)[0])).size).toBeGreaterThan(1);
  });
});

describe('least-load', () => {
  it('without monitor reports picks by weight among the undrained targets', async () => {
    const rs = await inTurn(12, 'least-load');
    for (const r of rs) {
      expect(r.answer.map((rr) => [rr.ttl, rr.type])).toEqual([[13, 'A']]);
      expect(['198.51.100.61', '198.51.100.62']).toContain(r.answer[0]!.data);
    }
  });
});

describe('failover', () => {
  it('serves the first tier with a usable target: tier 1 drained, so all of tier 2 and nothing of tier 3', async () => {
    const rs = await inTurn(3, 'failover');
    for (const r of rs)
      expect(r.answer.map((rr) => `${rr.ttl} ${rr.data}`)).toEqual(['14 198.51.100.73', '14 198.51.100.74']);
  });

  it('tiers each address family on its own: the IPv6 tier 1 target is up', async () => {
    expect(addresses(await ask('failover', 'AAAA'))).toEqual(['2001:db8::71']);
  });

  it('answers only tier 1 while it is up, fewer than `answers` rather than mixing tiers', async () => {
    const rs = await inTurn(3, 'primary');
    for (const r of rs) expect(addresses(r)).toEqual(['198.51.100.81']);
  });
});

describe('affinity', () => {
  const v4 = ['198.51.100.91', '198.51.100.92', '198.51.100.93'];
  const v6 = ['2001:db8::91', '2001:db8::92'];

  /** What rendezvous hashing gives the client `subnet` among `targets` (keys are the addresses). */
  function expected(subnet: string, targets: string[]): string {
    const client = makeClient('127.0.0.1', clientSubnet(subnet), null);
    const cands = targets.map((key, index) => ({ index, key, weight: 1 }));
    const pick = policies.affinity({}).pick(cands, 1, { client, random: () => 0, now: () => 0 });
    return targets[pick.indexes[0]!]!;
  }

  it('gives a client subnet the same target every time, as the rendezvous hash says', async () => {
    for (const subnet of ['203.0.113.0/24', '198.18.7.0/24', '100.64.9.0/24', '192.0.2.0/24']) {
      const rs = await inTurn(3, 'sticky', 'A', `+subnet=${subnet}`);
      for (const r of rs) {
        expect(r.answer.map((rr) => `${rr.ttl} ${rr.data}`)).toEqual([`15 ${expected(subnet, v4)}`]);
        expect(r.edns?.['CLIENT-SUBNET']).toBe(`${subnet}/24`);
      }
    }
  });

  it('hashes the /24: every address and longer prefix inside it gets the same target', async () => {
    const base = addresses(await ask('sticky', 'A', '+subnet=198.18.7.0/24'));
    for (const subnet of ['198.18.7.200/32', '198.18.7.128/25']) {
      expect(addresses(await ask('sticky', 'A', `+subnet=${subnet}`))).toEqual(base);
    }
  });

  it('hashes IPv6 clients by /56 and answers AAAA from the IPv6 targets', async () => {
    const want = expected('2001:db8:4711:aa00::/56', v6);
    for (const subnet of ['2001:db8:4711:aa00::/56', '2001:db8:4711:aaff::/64']) {
      expect(addresses(await ask('sticky', 'AAAA', `+subnet=${subnet}`))).toEqual([want]);
    }
  });
});

describe('fallback when no target is usable', () => {
  it('`all`: every target of the family answers (fail open), with the pool TTL', async () => {
    const a = await ask('drained-all');
    expect(a.answer.map((rr) => `${rr.ttl} ${rr.data}`)).toEqual(['21 192.0.2.101', '21 192.0.2.102']);
    const aaaa = await ask('drained-all', 'AAAA');
    expect(aaaa.answer.map((rr) => `${rr.ttl} ${rr.data}`)).toEqual(['21 2001:db8::101']);
  });

  it('`none`: NODATA with the SOA, cached no longer than the pool TTL', async () => {
    expectNodata(await ask('drained-none'), 22);
  });

  it('sorry addresses: those of the asked family answer, else NODATA', async () => {
    expect((await ask('drained-sorry')).answer.map((rr) => `${rr.ttl} ${rr.data}`)).toEqual([
      '23 192.0.2.250',
      '23 192.0.2.251',
    ]);
    expect((await ask('drained-sorry', 'AAAA')).answer.map((rr) => `${rr.ttl} ${rr.data}`)).toEqual([
      '23 2001:db8::250',
    ]);
  });
});

describe('address families', () => {
  it('answers NODATA with the SOA for a family the pool has no target of (TTL min(SOA, MINIMUM, pool TTL))', async () => {
    expectNodata(await ask('v4only', 'AAAA'), 24);
    expectNodata(await ask('v6only', 'A'), 25);
  });

  it('answers the family it has', async () => {
    expect((await ask('v4only')).answer.map((rr) => rr.text)).toEqual([`${name('v4only')} 24 IN A 192.0.2.131`]);
    expect((await ask('v6only', 'AAAA')).answer.map((rr) => rr.text)).toEqual([
      `${name('v6only')} 25 IN AAAA 2001:db8::141`,
    ]);
  });

  it('answers NODATA for other types at a pool name without static data of that type', async () => {
    expectNodata(await ask('rr', 'MX'), 300);
  });
});
