import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AnswerCache } from '../../src/6-serve/cache.ts';
import { createHandler } from '../../src/6-serve/handler.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import { ZoneStore } from '../../src/2-zone/store.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { applyEdits } from '../../src/2-zone/overlay.ts';
import { ROOT } from '../helpers/gslbd.ts';
import { buildQuery } from '../helpers/raw.ts';

const ZONES = path.join(ROOT, 'zones');

async function store(): Promise<ZoneStore<PooledZone>> {
  const s = new ZoneStore<PooledZone>();
  const r = await loadZones(ZONES);
  s.put(...r.zones);
  return s;
}

/** Mixed case, as resolvers using 0x20 send it. */
const mixed = (name: string, seed: number) =>
  [...name].map((c, i) => ((seed >> (i % 16)) & 1 ? c.toUpperCase() : c)).join('');

// Static names only: pool answers are never cached (and two handlers over one pool would each
// move its rotation), see the next test.
const NAMES = [
  'www.example.com',
  'example.com',
  'nothing.example.com',
  'mail.example.com',
  'sub.example.com',
  'x.wild.example.com',
  'alias.example.com',
  'gslb.example.com',
  'nowhere.test',
  '10.2.0.192.in-addr.arpa',
];
const TYPES = [1, 28, 15, 16, 2, 6, 255, 43, 33];
const EDNS = [
  undefined,
  { payload: 1232 },
  { payload: 512 },
  { payload: 4096, do: true },
  { payload: 1232, options: Buffer.from('0008000700011800cb0071', 'hex') },
];

describe('answer cache', () => {
  it('gives byte for byte the response the uncached path gives, for every variant of a question', async () => {
    const zones = await store();
    const cache = new AnswerCache();
    const cached = createHandler({ zones, cache });
    const plain = createHandler({ zones });
    let n = 0;
    let missesAfterFirstRound = 0;
    for (let round = 0; round < 2; round++) {
      if (round === 1) missesAfterFirstRound = cache.misses;
      for (const name of NAMES) {
        for (const type of TYPES) {
          for (const edns of EDNS) {
            for (const tcp of [false, true]) {
              const q = buildQuery(mixed(name, n * 7919 + round), type, {
                id: n & 0xffff,
                flags: round ? 0x0100 : 0,
                ...(edns && { edns }),
              });
              const via = { tcp, address: '192.0.2.200' };
              const want = plain(q, via) as Buffer;
              const got = cached(q, via) as Buffer;
              expect(got.toString('hex'), `${name} ${type} ${JSON.stringify(edns)} tcp=${tcp}`).toBe(
                want.toString('hex'),
              );
              n++;
            }
          }
        }
      }
    }
    // The second round asked the same questions (other case, ID, RD): every one a hit. (The first
    // round hits too where only the DO bit or a payload above ours differs.)
    expect(cache.misses).toBe(missesAfterFirstRound);
    expect(cache.hits + cache.misses).toBe(n);
    expect(cache.hits).toBeGreaterThanOrEqual(n / 2);
  });

  it('never caches a pool answer: a round-robin pool keeps rotating', async () => {
    const zones = await store();
    const handle = createHandler({ zones, cache: new AnswerCache() });
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const r = handle(buildQuery('rr.gslb.example.com', 1, { id: i }), { tcp: false, address: '192.0.2.1' }) as Buffer;
      seen.add(r.subarray(r.length - 4).join('.'));
    }
    expect(seen.size).toBe(4);
  });

  it('stops looking up a name a pool answered, until the zones change', async () => {
    const zones = await store();
    const cache = new AnswerCache();
    const handle = createHandler({ zones, cache });
    // A query is answered at once (only UPDATE answers later): what it returns is not needed here.
    const ask = (name: string): void => void handle(buildQuery(name, 1), { tcp: false, address: '192.0.2.1' });
    for (let i = 0; i < 5; i++) ask('rr.gslb.example.com');
    // The first question found it was a pool's; the four after it skip the cache.
    expect(cache.hits + cache.misses).toBe(1);
    ask('www.example.com');
    ask('www.example.com');
    expect([cache.hits, cache.misses]).toEqual([1, 2]);
    const zone = zones.get(zones.all().find((z) => z.origin.startsWith('\x07example'))!.origin)!;
    zones.put(
      applyEdits(
        zone,
        new Map([['new.example.com.|1', { name: 'new.example.com.', type: 1, ttl: 60, rdata: ['c0000263'] }]]),
      ),
    );
    ask('rr.gslb.example.com');
    expect(cache.misses).toBe(3);
  });

  it('forgets every answer when the zones in service change', async () => {
    const zones = await store();
    const handle = createHandler({ zones, cache: new AnswerCache() });
    const ask = () =>
      (handle(buildQuery('new.example.com', 1), { tcp: false, address: '192.0.2.1' }) as Buffer).readUInt16BE(2) & 0xf;
    expect(ask()).toBe(3);
    expect(ask()).toBe(3);
    const zone = zones.get(zones.all().find((z) => z.origin.startsWith('\x07example'))!.origin)!;
    zones.put(
      applyEdits(
        zone,
        new Map([['new.example.com.|1', { name: 'new.example.com.', type: 1, ttl: 60, rdata: ['c0000263'] }]]),
      ),
    );
    expect(ask()).toBe(0);
  });
});
