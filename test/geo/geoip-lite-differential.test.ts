// The adapter's compact tables against geoip-lite's own lookup(), over the bundled data: a seeded
// sample of addresses, geoip-lite's range boundaries (read from its data files), and the
// country-only fallback. Every expectation comes from geoip-lite at test time.

import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { continentOf } from '../../src/3-geo/continents.ts';
import { alignedPrefix, GEOIP_LITE_V6_PREFIX, GeoipLiteDatabase } from '../../src/3-geo/geoip-lite.ts';
import type { GeoDatabase } from '../../src/3-geo/types.ts';
import { parseIPv4 } from '../../src/0-base/address.ts';
import { blockEnds, inBlock, sampler } from './blocks.ts';
import { answerOf, geoip, geoipIn, runOf, v4Text, v6Text, type Answer } from './geoip-lite-oracle.ts';

const db = new GeoipLiteDatabase();
const DATA = db.dataDir;

const rand = sampler(11);
const int = (n: number) => Math.floor(rand() * n);
const u32 = () => int(2 ** 32);

/** The adapter's answer without continent and prefix, for comparing with answerOf(geoip-lite). */
function answer(loc: ReturnType<GeoDatabase['lookup']>): Answer | null {
  if (!loc) return null;
  expect(loc.continent).toBe(loc.country ? continentOf(loc.country) : undefined);
  return { ...(loc.country && { country: loc.country }), ...(loc.point && { point: loc.point }) };
}

/** Addresses where the adapter and geoip-lite disagree, with both answers (empty when none). */
function disagreements(addresses: Iterable<string>): string[] {
  const out: string[] = [];
  for (const address of addresses) {
    const want = JSON.stringify(answerOf(geoip.lookup(address)));
    const got = JSON.stringify(answer(db.lookup(address)));
    if (got !== want && out.length < 20) out.push(`${address}: got ${got}, want ${want}`);
  }
  return out;
}

/** Every `stride`-th record of a data file, as its bytes. */
function* records(file: string, size: number, stride = 1): Generator<Buffer> {
  const b = readFileSync(path.join(DATA, file));
  for (let at = 0; at + size <= b.length; at += size * stride) yield b.subarray(at, at + size);
}

// Random IPv6 addresses are almost all unallocated: start most of them in the RIRs' blocks.
const V6_STARTS = [0x2001, 0x2400, 0x2403, 0x2600, 0x2604, 0x2800, 0x2a00, 0x2a01, 0x2a02, 0x2c0f];
const randomV6 = () =>
  [rand() < 0.9 ? V6_STARTS[int(V6_STARTS.length)]! : int(0x10000), ...Array.from({ length: 7 }, () => int(0x10000))]
    .map((g) => g.toString(16))
    .join(':');

/** An address in a random record of geoip-city6.dat: its top 64 bits anywhere from start to end. */
const CITY6 = readFileSync(path.join(DATA, 'geoip-city6.dat'));
function inRecordV6(): string {
  const at = int(CITY6.length / 48) * 48;
  const [start, end] = [CITY6.readBigUInt64BE(at), CITY6.readBigUInt64BE(at + 16)];
  const top = start + ((BigInt(u32()) * 2n ** 32n + BigInt(u32())) % (end - start + 1n));
  return v6Text(
    Number(top >> 32n),
    Number(top & 0xffffffffn),
    Array.from({ length: 4 }, () => int(0x10000)),
  );
}

const V4 = Array.from({ length: 20_000 }, () => v4Text(u32()));
const V6 = [...Array.from({ length: 2_500 }, randomV6), ...Array.from({ length: 2_500 }, inRecordV6)];
const FIXED = [
  '81.2.69.142',
  '8.8.8.8',
  '1.1.1.1',
  '0.0.0.0',
  '255.255.255.255',
  '1.0.0.0',
  '223.255.255.255',
  '9.255.255.255',
  '10.0.0.0',
  '10.255.255.255',
  '11.0.0.0',
  '172.15.255.255',
  '172.16.0.0',
  '172.31.255.255',
  '172.32.0.0',
  '192.167.255.255',
  '192.168.0.0',
  '192.168.255.255',
  '192.169.0.0',
  '127.0.0.1',
  '2001:4860:4860::8888',
  '2a00:1450:4001:81c::200e',
  '2001:db8::1',
  '::',
  '::1',
  'fe80::1',
  'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

describe('geoip-lite tables against geoip-lite', () => {
  beforeAll(() => db.load());

  it('agree on 20,000 random IPv4 addresses, 5,000 IPv6 addresses and fixed edge cases', () => {
    expect(disagreements([...V4, ...V6, ...FIXED])).toEqual([]);
    // The sample means something: a good share of it is located.
    expect(V4.filter((a) => db.lookup(a)).length).toBeGreaterThan(10_000);
    expect(V6.filter((a) => db.lookup(a)).length).toBeGreaterThan(2_500);
  });

  it('agree at both ends of, and just outside, every 32nd IPv4 range of geoip-city.dat', () => {
    const addresses: string[] = [];
    for (const r of records('geoip-city.dat', 24, 32)) {
      const start = r.readUInt32BE(0);
      const end = r.readUInt32BE(4);
      addresses.push(v4Text(start), v4Text(end));
      if (start > 0) addresses.push(v4Text(start - 1));
      if (end < 2 ** 32 - 1) addresses.push(v4Text(end + 1));
    }
    expect(addresses.length).toBeGreaterThan(400_000);
    expect(disagreements(addresses)).toEqual([]);
  }, 120_000);

  it('agree on the first and last /64 of every IPv6 record of geoip-city6.dat, and the /64s around them', () => {
    // Records narrower than a /64 overlap once only the top 64 bits count, and the file is not
    // quite sorted: which record answers is up to geoip-lite's binary search, and this is where
    // the tables could differ from it.
    const addresses: string[] = [];
    let i = 0;
    for (const r of records('geoip-city6.dat', 48)) {
      const [sHi, sLo, eHi, eLo] = [r.readUInt32BE(0), r.readUInt32BE(4), r.readUInt32BE(16), r.readUInt32BE(20)];
      addresses.push(v6Text(sHi, sLo), v6Text(eHi, eLo, [0xffff, 0xffff, 0xffff, 0xffff]));
      if (i++ % 4 === 0) {
        if (sLo > 0) addresses.push(v6Text(sHi, sLo - 1, [int(0x10000), 1, 2, 3]));
        if (eLo < 2 ** 32 - 1) addresses.push(v6Text(eHi, eLo + 1));
      }
    }
    expect(addresses.length).toBeGreaterThan(900_000);
    expect(disagreements(addresses)).toEqual([]);
  }, 120_000);

  it('give each located IPv4 address the widest aligned prefix inside its run of equal answers', () => {
    const located = V4.filter((a) => db.lookup(a)).slice(0, 5_000);
    const check = sampler(3);
    for (const address of located) {
      const ip = parseIPv4(address)!.readUInt32BE(0);
      const [start, end] = runOf(ip);
      const { prefix } = db.lookup(address)!;
      expect(prefix, `${address} in [${v4Text(start)}, ${v4Text(end)}]`).toBe(alignedPrefix(ip, start, end));
      // And geoip-lite itself gives the block's ends and a few addresses inside the same answer.
      const want = JSON.stringify(answerOf(geoip.lookup(address)));
      const inside = Array.from({ length: 4 }, () => inBlock(address, prefix, check));
      for (const other of [...blockEnds(address, prefix), ...inside]) {
        expect(JSON.stringify(answerOf(geoip.lookup(other))), `${other} in ${address}/${prefix}`).toBe(want);
      }
    }
  }, 120_000);

  it('report /64 for IPv6, inside which geoip-lite gives one answer', () => {
    const check = sampler(4);
    for (const address of V6.filter((a) => db.lookup(a)).slice(0, 1_000)) {
      expect(db.lookup(address)!.prefix).toBe(GEOIP_LITE_V6_PREFIX);
      const want = JSON.stringify(answerOf(geoip.lookup(address)));
      const inside = Array.from({ length: 4 }, () => inBlock(address, GEOIP_LITE_V6_PREFIX, check));
      for (const other of [...blockEnds(address, GEOIP_LITE_V6_PREFIX), ...inside]) {
        expect(JSON.stringify(answerOf(geoip.lookup(other))), `${other} in ${address}/64`).toBe(want);
      }
    }
  });
});

describe('geoip-lite tables from the country files only', () => {
  // geoip-lite falls back to geoip-country*.dat when the city files are missing.
  const dir = mkdtempSync(path.join(tmpdir(), 'gslbd-geoip-country-'));
  for (const file of ['geoip-country.dat', 'geoip-country6.dat'])
    symlinkSync(path.join(DATA, file), path.join(dir, file));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('agree with geoip-lite on 5,000 IPv4 and 2,000 IPv6 addresses', async () => {
    const addresses = [...V4.slice(0, 5_000), ...V6.slice(0, 2_000), ...FIXED];
    const raws = geoipIn(dir, addresses);
    const countryOnly = new GeoipLiteDatabase({ dataDir: dir });
    await countryOnly.load();
    const wrong = addresses.flatMap((a, i) => {
      const want = JSON.stringify(answerOf(raws[i]!));
      const got = JSON.stringify(answer(countryOnly.lookup(a)));
      return got === want ? [] : [`${a}: got ${got}, want ${want}`];
    });
    expect(wrong.slice(0, 20)).toEqual([]);
    expect(raws.filter((r) => r?.country).length).toBeGreaterThan(2_000);
    expect(raws.every((r) => !answerOf(r)?.point)).toBe(true);
  }, 60_000);
});
