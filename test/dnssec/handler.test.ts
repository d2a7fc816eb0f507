// The handler with a Signer and the answer cache, in process with a clock the test moves: a signed
// answer comes from the cache within its signatures' window and is signed anew in the next one;
// one with CO keeps CO from the cache; unsigned and signed answers never stand in for each other.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyFromText } from '../../src/0-base/name.ts';
import { Algorithm, generatePrivateKey, signingKey } from '../../src/1-codec/dnssec.ts';
import { ZoneStore } from '../../src/2-zone/store.ts';
import { allUp } from '../../src/4-gslb/health-view.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { Signer } from '../../src/5-answer/sign.ts';
import { AnswerCache } from '../../src/6-serve/cache.ts';
import { createHandler } from '../../src/6-serve/handler.ts';
import { ROOT } from '../helpers/gslbd.ts';
import { decodeMessage } from '../helpers/message.ts';
import { buildQuery } from '../helpers/raw.ts';

const DAY = 86_400_000;
let now = Date.UTC(2026, 11, 7, 0, 0, 0);
const store = new ZoneStore<PooledZone>();
const counts = { made: 0, hit: 0, miss: 0 };
let handle: ReturnType<typeof createHandler>;
const via = { tcp: false, address: '192.0.2.1' };

beforeAll(async () => {
  store.put(...(await loadZones(path.join(ROOT, 'test/fixtures/dnssec/zones'))).zones);
  const signer = new Signer({
    zones: [
      {
        origin: keyFromText('gslb.example.com.'),
        keys: [{ key: signingKey(13, generatePrivateKey(Algorithm.ECDSAP256SHA256)) }],
      },
    ],
    validityMs: 4 * DAY,
    onSignature: (r) => counts[r]++,
  });
  const inputs = { health: allUp, geo: null, random: () => 0, now: () => now };
  handle = createHandler({ zones: store, cache: new AnswerCache(), inputs: () => inputs, signer });
});

/** A Signer of the test zone with a key of its own. */
const signerOf = () =>
  new Signer({
    zones: [
      {
        origin: keyFromText('gslb.example.com.'),
        keys: [{ key: signingKey(13, generatePrivateKey(Algorithm.ECDSAP256SHA256)) }],
      },
    ],
    validityMs: 4 * DAY,
  });
const ask = (q: Buffer) => handle(q, via) as Buffer;
/** The first RRSIG of the answer or authority section, as text (its dates included). */
const rrsigText = (reply: Buffer) => {
  const m = decodeMessage(reply);
  const sig = [...m.answer, ...m.authority].find((r) => r.split(' ')[3] === 'RRSIG')!;
  return sig;
};

describe('signed answers and the answer cache', () => {
  it('signs with the new key from the time it is active, though the cached answer is in the same window', () => {
    const t0 = Date.UTC(2026, 11, 8, 0, 0, 0);
    const a = signingKey(13, generatePrivateKey(Algorithm.ECDSAP256SHA256));
    const b = signingKey(13, generatePrivateKey(Algorithm.ECDSAP256SHA256));
    const signer = new Signer({
      zones: [
        {
          origin: keyFromText('gslb.example.com.'),
          keys: [
            { key: a, inactive: t0 + 10_000, delete: t0 + 20_000 },
            { key: b, publish: t0, active: t0 + 10_000 },
          ],
        },
      ],
      validityMs: 4 * DAY,
    });
    let at = t0 + 1000;
    const inputs = { health: allUp, geo: null, random: () => 0, now: () => at };
    const h = createHandler({ zones: store, cache: new AnswerCache(), inputs: () => inputs, signer });
    const q = buildQuery('static.gslb.example.com', 1, { edns: { do: true } });
    // RRSIG RDATA in hex (RFC 3597 form): the key tag at octets 16-17.
    const tagOf = () =>
      parseInt(
        rrsigText(h(q, via) as Buffer)
          .split(' ')[6]!
          .slice(32, 36),
        16,
      );
    expect(tagOf()).toBe(a.tag);
    at = t0 + 15_000;
    expect(tagOf()).toBe(b.tag);
    at = t0 + 25_000;
    expect(tagOf()).toBe(b.tag);
    // Without DO too, the DNSKEY RRset is the one of the time asked, never an earlier one cached.
    const dnskeys = buildQuery('gslb.example.com', 48, { edns: {} });
    const count = () => decodeMessage(h(dnskeys, via) as Buffer).answer.length;
    at = t0 + 1000;
    expect([count(), count()]).toEqual([2, 2]);
    at = t0 + 25_000;
    expect(count()).toBe(1);
  });

  it('serves a signed answer from the cache within its window, and signs anew in the next', () => {
    const q = buildQuery('static.gslb.example.com', 1, { edns: { do: true } });
    const first = ask(q);
    const made = counts.made;
    now += 1000;
    expect(ask(q).equals(first)).toBe(true);
    expect(counts.made).toBe(made);
    now += DAY;
    const next = ask(q);
    expect(counts.made).toBe(made + 1);
    expect(rrsigText(next)).not.toBe(rrsigText(first));
  });

  it('keeps CO on a compact NXDOMAIN from the cache, and gives no CO to a query without it', () => {
    const withCo = buildQuery('nx.gslb.example.com', 1, { edns: { do: true, co: true } });
    const without = buildQuery('nx.gslb.example.com', 1, { edns: { do: true } });
    for (let i = 0; i < 2; i++) {
      const a = ask(withCo);
      expect(decodeMessage(a).rcode).toBe(3);
      expect(a.readUInt16BE(a.length - 4) & 0x4000).toBe(0x4000);
      const b = ask(without);
      expect(decodeMessage(b).rcode).toBe(0);
      expect(b.readUInt16BE(b.length - 4) & 0x4000).toBe(0);
    }
  });

  it('never answers a query without DO with a cached signed answer, nor the reverse', () => {
    const signed = buildQuery('chain.gslb.example.com', 1, { edns: { do: true } });
    const plain = buildQuery('chain.gslb.example.com', 1, { edns: {} });
    for (let i = 0; i < 2; i++) {
      expect(decodeMessage(ask(signed)).answer.some((r) => r.includes(' RRSIG '))).toBe(true);
      expect(decodeMessage(ask(plain)).answer.some((r) => r.includes(' RRSIG '))).toBe(false);
    }
  });

  it('reads the clock once per signed query: a pool answer, a static one through the cache, the apex DNSKEY', () => {
    let reads = 0;
    const inputs = { health: allUp, geo: null, random: () => 0, now: () => (reads++, now) };
    const h = createHandler({ zones: store, cache: new AnswerCache(), inputs: () => inputs, signer: signerOf() });
    for (const [name, qtype] of [
      ['weighted.gslb.example.com', 1],
      ['failover.gslb.example.com', 1],
      ['static.gslb.example.com', 1],
      ['gslb.example.com', 48],
    ] as const) {
      for (let i = 0; i < 2; i++) {
        reads = 0;
        const reply = decodeMessage(h(buildQuery(name, qtype, { edns: { do: true } }), via) as Buffer);
        expect(
          reply.answer.some((r) => r.includes(' RRSIG ')),
          name,
        ).toBe(true);
        expect(reads, `${name} ${qtype}, query ${i + 1}`).toBe(1);
      }
    }
  });
});
