// The Signer (5-answer/sign.ts) over the DNSSEC test zone, with a fixed clock: one signature per
// RRset as sent per validity window, reused from the cache whatever order the RRs were picked in,
// made anew for another TTL and in the next window; inception an hour back, expiration a validity on.

import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyFromText } from '../../src/0-base/name.ts';
import { Algorithm, generatePrivateKey, signingKey } from '../../src/1-codec/dnssec.ts';
import type { Answer } from '../../src/1-codec/response.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { allUp } from '../../src/4-gslb/health-view.ts';
import { Signer } from '../../src/5-answer/sign.ts';
import { ROOT } from '../helpers/gslbd.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7, 12, 0, 0);
const ORIGIN = keyFromText('gslb.example.com.');
const POOL = keyFromText('round-robin.gslb.example.com.');

let zone: PooledZone;
beforeAll(async () => {
  const r = await loadZones(path.join(ROOT, 'test/fixtures/dnssec/zones'));
  zone = r.zones.find((z) => z.origin === ORIGIN)!;
});

function setup() {
  const counts = { made: 0, hit: 0, miss: 0 };
  const signer = new Signer({
    zones: [{ origin: ORIGIN, keys: [{ key: signingKey(Algorithm.ECDSAP256SHA256, generatePrivateKey(13)) }] }],
    validityMs: 4 * DAY,
    onSignature: (r) => counts[r]++,
  });
  return { signer, counts };
}

/** A pool answer as resolve gives it: the pool's RRset, the RRs picked, the TTL sent. */
function poolAnswer(pick: number[], ttl: number): Answer {
  const ctx = { client: undefined as never, random: () => 0, now: () => NOW };
  const rrset = zone.pools!.get(POOL)!.answer(1, ctx, allUp).rrset!;
  return {
    zone: ORIGIN,
    rcode: 0,
    aa: true,
    answer: [{ owner: POOL, rrset, pick, ttl }],
    authority: [],
    additional: [],
  };
}

const rrsigOf = (a: Answer) => a.answer.find((e) => e.rrset.type === 46)!.rrset.rdata[0]!;

describe('Signer', () => {
  it('signs a pool answer once per window, whatever the order of the picked RRs', () => {
    const { signer, counts } = setup();
    const first = signer.sign(zone, POOL, 1, poolAnswer([0, 1], 30), NOW);
    const again = signer.sign(zone, POOL, 1, poolAnswer([1, 0], 30), NOW + 1000);
    expect(counts).toEqual({ made: 1, hit: 1, miss: 1 });
    expect(rrsigOf(again)).toBe(rrsigOf(first));
    // Other RRs, or the same with another TTL, are another RRset as sent.
    signer.sign(zone, POOL, 1, poolAnswer([1, 2], 30), NOW);
    const shorter = signer.sign(zone, POOL, 1, poolAnswer([0, 1], 29), NOW);
    expect(counts.made).toBe(3);
    expect(rrsigOf(shorter).readUInt32BE(4)).toBe(29);
  });

  it('dates a signature from an hour before its window to a validity after it, and signs again in the next window', () => {
    const { signer, counts } = setup();
    const sig = rrsigOf(signer.sign(zone, POOL, 1, poolAnswer([0], 30), NOW));
    const start = Math.floor(NOW / 1000) - (Math.floor(NOW / 1000) % 86_400);
    expect(sig.readUInt32BE(12)).toBe(start - 3600);
    expect(sig.readUInt32BE(8)).toBe(start + 4 * 86_400);
    // Later in the same window (a quarter of the validity): the same signature.
    signer.sign(zone, POOL, 1, poolAnswer([0], 30), NOW + (start + 86_400) * 1000 - NOW - 1);
    expect(counts.made).toBe(1);
    const next = rrsigOf(signer.sign(zone, POOL, 1, poolAnswer([0], 30), (start + 86_400) * 1000));
    expect(counts.made).toBe(2);
    expect(next.readUInt32BE(12)).toBe(start + 86_400 - 3600);
    // Every signature given out keeps at least three quarters of its validity.
    expect(next.readUInt32BE(8) - (start + 86_400 + 86_399)).toBeGreaterThanOrEqual(3 * 86_400 - 1);
  });

  it('leaves an answer from a zone it does not sign as it is', () => {
    const { signer } = setup();
    const other = { ...zone, origin: keyFromText('insecure.gslb.example.com.') };
    const a = poolAnswer([0], 30);
    expect(signer.sign(other, POOL, 1, a, NOW)).toBe(a);
  });
});
