// The Signer (5-answer/sign.ts) over the DNSSEC test zone, with a fixed clock: one signature per
// RRset as sent per validity window, reused from the cache whatever order the RRs were picked in,
// made anew for another TTL and in the next window; inception an hour back, expiration a validity on.

import { createPublicKey, verify } from 'node:crypto';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyFromText, keyToWire } from '../../src/0-base/name.ts';
import { Algorithm, generatePrivateKey, signingKey, type SigningKey } from '../../src/1-codec/dnssec.ts';
import type { Answer } from '../../src/1-codec/response.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import { Pool, type PooledZone } from '../../src/4-gslb/pool.ts';
import { allUp } from '../../src/4-gslb/health-view.ts';
import { Signer, type SignedZone } from '../../src/5-answer/sign.ts';
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

function setup(
  keys: SignedZone['keys'] = [{ key: signingKey(Algorithm.ECDSAP256SHA256, generatePrivateKey(13)) }],
  cacheSize?: number,
) {
  const counts = { made: 0, hit: 0, miss: 0 };
  const signer = new Signer({
    zones: [{ origin: ORIGIN, keys }],
    validityMs: 4 * DAY,
    onSignature: (r) => counts[r]++,
    ...(cacheSize !== undefined && { cacheSize }),
  });
  return { signer, counts };
}

/** A pool answer as resolve gives it: the pool's RRset, the RRs picked, the TTL sent. */
function poolAnswer(pick: number[], ttl: number, from: PooledZone = zone): Answer {
  const ctx = { client: undefined as never, random: () => 0, now: () => NOW };
  const rrset = from.pools!.get(POOL)!.answer(1, ctx, allUp).rrset!;
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

/**
 * Whether the RRSIG of a signed pool answer is `key`'s signature over the A RRs sent: the data of
 * RFC 4034 §3.1.8.1 rebuilt here (RRSIG RDATA less the signature, then each RR in canonical order).
 */
function verifies(signed: Answer, key: SigningKey): boolean {
  const e = signed.answer[0]!;
  const sig = rrsigOf(signed);
  const signerEnd = 18 + keyToWire(ORIGIN).length;
  const rdata = (e.pick ?? e.rrset.rdata.map((_, i) => i)).map((i) => e.rrset.rdata[i]!).sort(Buffer.compare);
  const rrs = rdata.flatMap((d) => {
    const head = Buffer.alloc(10);
    head.writeUInt16BE(1, 0);
    head.writeUInt16BE(1, 2);
    head.writeUInt32BE(e.ttl ?? e.rrset.ttl, 4);
    head.writeUInt16BE(d.length, 8);
    return [keyToWire(e.owner), head, d];
  });
  const data = Buffer.concat([sig.subarray(0, signerEnd), ...rrs]);
  return verify(
    'sha256',
    data,
    { key: createPublicKey(key.private), dsaEncoding: 'ieee-p1363' },
    sig.subarray(signerEnd),
  );
}

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

  it('makes a signature again once the cache dropped it, though the same answer was signed before', () => {
    const { signer, counts } = setup(undefined, 2);
    const sign = (pick: number[]) => rrsigOf(signer.sign(zone, POOL, 1, poolAnswer(pick, 30), NOW));
    const first = sign([0]);
    expect(sign([0])).toBe(first);
    expect(counts).toEqual({ made: 1, hit: 1, miss: 1 });
    // Two other answers fill the cache of two: the first one's signature is dropped, and made again.
    sign([1]);
    sign([0, 1]);
    expect(counts.made).toBe(3);
    expect(sign([0])).not.toBe(first);
    expect(counts).toEqual({ made: 4, hit: 1, miss: 4 });
    // The ones still in the cache are hits, each counted.
    sign([0, 1]);
    sign([0]);
    expect(counts).toEqual({ made: 4, hit: 3, miss: 4 });
  });

  it("signs a changed pool's addresses anew, though the same RRs are picked with the same TTL, and keeps signatures over the same content", () => {
    const key = signingKey(Algorithm.ECDSAP256SHA256, generatePrivateKey(13));
    const { signer, counts } = setup([{ key }]);
    const before = signer.sign(zone, POOL, 1, poolAnswer([0, 1], 30), NOW);
    expect(verifies(before, key)).toBe(true);
    // The pool as an update or a reload leaves it: other addresses at the same positions.
    const old = zone.pools!.get(POOL)!;
    const moved = (from: string, to: string) =>
      new Pool({ ...old.def, targets: old.def.targets.map((t) => ({ ...t, address: t.address.replace(from, to) })) });
    const changed = { ...zone, pools: new Map(zone.pools).set(POOL, moved('198.51.100.', '198.51.100.1')) };
    const after = signer.sign(changed, POOL, 1, poolAnswer([0, 1], 30, changed), NOW);
    expect(after.answer[0]!.rrset.rdata[0]).toEqual(Buffer.from([198, 51, 100, 11]));
    expect(verifies(after, key)).toBe(true);
    expect(counts.made).toBe(2);
    // A pool built again with the same addresses (a reload that changed nothing): no new signature.
    const same = { ...zone, pools: new Map(zone.pools).set(POOL, moved('', '')) };
    expect(verifies(signer.sign(same, POOL, 1, poolAnswer([1, 0], 30, same), NOW), key)).toBe(true);
    expect(counts.made).toBe(2);
  });

  it('signs with the key active now when the key before it had the same tag (RFC 4034 App. B)', () => {
    const a = signingKey(Algorithm.ECDSAP256SHA256, generatePrivateKey(13));
    const other = signingKey(Algorithm.ECDSAP256SHA256, generatePrivateKey(13));
    // Another key whose tag is a's: tags are 16 bits and collide (a validator tries each key).
    const b: SigningKey = { ...other, tag: a.tag };
    const { signer } = setup([
      { key: a, inactive: NOW + 10_000 },
      { key: b, active: NOW + 10_000 },
    ]);
    expect(verifies(signer.sign(zone, POOL, 1, poolAnswer([0], 30), NOW), a)).toBe(true);
    const later = signer.sign(zone, POOL, 1, poolAnswer([0], 30), NOW + 10_000);
    expect(verifies(later, b)).toBe(true);
  });

  it('keeps the signatures of a key read again (a rollover step sets the keys anew)', () => {
    const pem = generatePrivateKey(13);
    const key = signingKey(Algorithm.ECDSAP256SHA256, pem);
    const { signer, counts } = setup([{ key }]);
    const first = rrsigOf(signer.sign(zone, POOL, 1, poolAnswer([0], 30), NOW));
    signer.setZones([{ origin: ORIGIN, keys: [{ key: signingKey(Algorithm.ECDSAP256SHA256, pem) }] }]);
    expect(rrsigOf(signer.sign(zone, POOL, 1, poolAnswer([0], 30), NOW))).toBe(first);
    expect(counts.made).toBe(1);
  });

  it('covers the names of the zones it signs now, not those of a reload before', () => {
    const { signer } = setup();
    const name = keyFromText('static.gslb.example.com.');
    expect([signer.covers(name), signer.covers(keyFromText('example.com.'))]).toEqual([true, false]);
    expect(signer.covers(name)).toBe(true);
    signer.setZones([]);
    expect(signer.covers(name)).toBe(false);
  });

  it('leaves an answer from a zone it does not sign as it is', () => {
    const { signer } = setup();
    const other = { ...zone, origin: keyFromText('insecure.gslb.example.com.') };
    const a = poolAnswer([0], 30);
    expect(signer.sign(other, POOL, 1, a, NOW)).toBe(a);
  });
});
