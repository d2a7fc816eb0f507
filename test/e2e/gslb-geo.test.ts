// geo-proximity, geo-map and groups through a running gslbd (test/fixtures/gslb). Expectations
// come from the geo database at test time: each client subnet's location is looked up here with
// the same geoip-lite data the server uses, the nearest target computed with src/3-policy/distance.ts,
// the region set from the country and continent. Nothing about where an address is is hard-coded.
//
// Client subnets are drawn from a seeded generator and kept when the database locates them; a few
// go through `dig +subnet=…`, hundreds through raw UDP.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type } from '../../src/0-base/constants.ts';
import { parseName } from '../../src/0-base/name.ts';
import { GeoipLiteDatabase, type GeoLocation, type GeoPoint } from '../../src/3-geo/index.ts';
import { parsePoolsFile } from '../../src/4-gslb/pools-file.ts';
import type { PoolDef } from '../../src/4-gslb/types.ts';
import { distanceKm } from '../../src/3-policy/distance.ts';
import { dig, type DigResult } from '../helpers/dig.ts';
import { startGslbd } from '../helpers/gslbd.ts';
import { forTests } from '../helpers/fixture.ts';
import { GSLB_FIXTURE, poolQuery, UdpClient } from '../helpers/pool-queries.ts';
import { mulberry32 } from '../policy/helpers.ts';

const ZONE = 'gslb.example.net.';
const name = (label: string) => `${label}.${ZONE}`;

// The pools as the server reads them: target locations, biases and regions come from the fixture.
const POOLS_FILE = path.join(GSLB_FIXTURE, 'gslb.example.net.pools.yaml');
const parsed = parsePoolsFile(readFileSync(POOLS_FILE, 'utf8'), POOLS_FILE, parseName(ZONE, null));
const pool = (label: string): PoolDef => parsed.pools.find((p) => p.label === label)!;

const db = new GeoipLiteDatabase();
// Loaded before the tests are collected: addresses are looked up at collection time.
await db.load();
beforeAll(() => {
  expect(parsed.errors).toEqual([]);
});
const server = forTests(
  () => startGslbd(['--zones', GSLB_FIXTURE]),
  (it) => it.stop(),
);
const udp = forTests(
  async () => new UdpClient(server.port),
  (it) => it.close(),
);

interface Located {
  readonly subnet: string;
  /** The subnet's address (host bits zero): what the server looks up. */
  readonly address: string;
  readonly prefix: number;
  readonly where: GeoLocation;
}

/** `n` IPv4 /prefix subnets the database locates (with coordinates), from a seeded generator. */
function locatedV4(seed: number, n: number, prefix = 24): Located[] {
  const random = mulberry32(seed);
  const out: Located[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const first = 1 + Math.floor(random() * 223);
    if (first === 10 || first === 127) continue;
    const value = ((first << 24) | Math.floor(random() * 2 ** 24)) >>> 0;
    const masked = prefix === 0 ? 0 : (value & (0xffffffff << (32 - prefix))) >>> 0;
    const address = [24, 16, 8, 0].map((s) => (masked >>> s) & 0xff).join('.');
    if (seen.has(address)) continue;
    seen.add(address);
    const where = db.lookup(address);
    if (where?.point) out.push({ subnet: `${address}/${prefix}`, address, prefix, where });
  }
  return out;
}

/** `n` IPv6 /56 subnets the database locates, drawn from the regional registries' /12s. */
function locatedV6(seed: number, n: number): Located[] {
  const random = mulberry32(seed);
  const blocks = ['2a0', '260', '240', '280', '2c0'];
  const out: Located[] = [];
  for (let tries = 0; out.length < n && tries < 200_000; tries++) {
    const hex = (bits: number) => Math.floor(random() * 2 ** bits).toString(16);
    const address = `${blocks[Math.floor(random() * blocks.length)]}${hex(4)}:${hex(16)}:${hex(16)}:${(Math.floor(random() * 256) * 256).toString(16)}::`;
    const where = db.lookup(address);
    if (where?.point) out.push({ subnet: `${address}/56`, address, prefix: 56, where });
  }
  return out;
}

interface Placed {
  readonly key: string;
  readonly location?: GeoPoint | undefined;
  readonly bias?: number | undefined;
}

/** The nearest by biased great-circle distance (Route 53: distance × (1 − bias/100)), and how clear a winner it is. */
function nearest<T extends Placed>(point: GeoPoint, placed: readonly T[]): { best: T; margin: number } {
  const ranked = placed
    .map((t) => ({ t, km: distanceKm(point, t.location!) * (1 - (t.bias ?? 0) / 100) }))
    .sort((a, b) => a.km - b.km);
  return { best: ranked[0]!.t, margin: ranked[1]!.km / Math.max(ranked[0]!.km, 1e-9) };
}

const targetsOf = (label: string, family: 4 | 6) =>
  pool(label)
    .targets.filter((t) => t.family === family)
    .map((t) => ({ ...t, key: t.address }));

/** The widest correct scope for a located client: min(source prefix, database network prefix). */
const geoScope = (c: Located) => Math.min(c.prefix, c.where.prefix);

/** The CLIENT-SUBNET dig shows: address/source/scope. */
const ecsShown = (r: DigResult) => r.edns?.['CLIENT-SUBNET'];

/** One client per expected target (the first one clearly nearest to it), in target order. */
function onePerTarget<T extends Placed>(clients: Located[], placed: readonly T[]): { client: Located; target: T }[] {
  const out: { client: Located; target: T }[] = [];
  for (const target of placed) {
    const client = clients.find((c) => {
      const n = nearest(c.where.point!, placed);
      return n.best === target && n.margin > 1.05;
    });
    if (client) out.push({ client, target });
  }
  return out;
}

describe('geo-proximity', () => {
  const v4 = targetsOf('near', 4);
  const clients = locatedV4(1, 1500);

  it('answers, through dig +subnet, the target nearest to the subnet the database locates', async () => {
    const cases = onePerTarget(clients, v4);
    // The sample reaches most of the six sites; each one reached is shown.
    expect(cases.length).toBeGreaterThanOrEqual(5);
    for (const { client, target } of cases) {
      const r = await dig(server.port, [name('near'), 'A', `+subnet=${client.subnet}`]);
      expect(
        r.answer.map((rr) => rr.text),
        `${client.subnet} in ${client.where.country}`,
      ).toEqual([`${name('near')} 16 IN A ${target.address}`]);
      expect(ecsShown(r)).toBe(`${client.subnet}/${geoScope(client)}`);
    }
  });

  it('answers the nearest target for each of 600 located /24 subnets, scope min(24, database prefix)', async () => {
    const sample = clients.filter((c) => nearest(c.where.point!, v4).margin > 1.001).slice(0, 600);
    const replies = await udp.queryAll(sample.length, (i) => poolQuery(name('near'), Type.A, sample[i]!.subnet));
    const wrong = sample.flatMap((c, i) => {
      const want = nearest(c.where.point!, v4).best.address;
      const got = replies[i]!;
      return got.answer[0]?.data === want && got.ecs?.scopePrefix === geoScope(c)
        ? []
        : [`${c.subnet}: ${got.answer[0]?.data}/${got.ecs?.scopePrefix}, want ${want}/${geoScope(c)}`];
    });
    expect(wrong).toEqual([]);
    // Both sides of a bias are exercised: Singapore (+10) and San Francisco (−20) win some clients.
    const winners = new Set(sample.map((c) => nearest(c.where.point!, v4).best.address));
    expect(winners).toContain('203.0.113.3');
    expect(winners).toContain('203.0.113.6');
  });

  it('locates a shorter ECS prefix by its network address, scope min(source, database prefix)', async () => {
    const wide = locatedV4(2, 200, 16);
    const replies = await udp.queryAll(wide.length, (i) => poolQuery(name('near'), Type.A, wide[i]!.subnet));
    const got = replies.map((r) => `${r.answer[0]?.data}/${r.ecs?.sourcePrefix}/${r.ecs?.scopePrefix}`);
    expect(got).toEqual(wide.map((c) => `${nearest(c.where.point!, v4).best.address}/16/${geoScope(c)}`));
    expect(wide.some((c) => c.where.prefix < 16)).toBe(true);
  });

  it('claims the database prefix as scope when the client sent more bits (/32)', async () => {
    const exact = locatedV4(6, 100, 32);
    const replies = await udp.queryAll(exact.length, (i) => poolQuery(name('near'), Type.A, exact[i]!.subnet));
    expect(replies.map((r) => `${r.answer[0]?.data}/${r.ecs?.scopePrefix}`)).toEqual(
      exact.map((c) => `${nearest(c.where.point!, v4).best.address}/${c.where.prefix}`),
    );
  });

  it('answers AAAA with the IPv6 target nearest to an IPv6 client (/56: scope 56, geoip-lite knows /64s)', async () => {
    const v6 = targetsOf('near', 6);
    const v6clients = locatedV6(3, 120).filter((c) => nearest(c.where.point!, v6).margin > 1.001);
    expect(v6clients.length).toBeGreaterThan(50);
    const cases = onePerTarget(v6clients, v6);
    expect(cases.length).toBeGreaterThanOrEqual(2);
    for (const { client, target } of cases) {
      const r = await dig(server.port, [name('near'), 'AAAA', `+subnet=${client.subnet}`]);
      expect(r.answer.map((rr) => rr.data)).toEqual([target.address]);
      expect(ecsShown(r)).toBe(`${client.subnet}/56`);
    }
    const replies = await udp.queryAll(v6clients.length, (i) =>
      poolQuery(name('near'), Type.AAAA, v6clients[i]!.subnet),
    );
    expect(replies.map((r) => `${r.answer[0]?.data}/${r.ecs?.scopePrefix}`)).toEqual(
      v6clients.map((c) => `${nearest(c.where.point!, v6).best.address}/${geoScope(c)}`),
    );
  });

  it('follows a CNAME to the pool: CNAME with its zone TTL, then the nearest target with the pool TTL and the geo scope', async () => {
    const { client, target } = onePerTarget(clients, v4)[0]!;
    const r = await dig(server.port, [name('alias'), 'A', `+subnet=${client.subnet}`]);
    expect(r.answer.map((rr) => rr.text)).toEqual([
      `${name('alias')} 3600 IN CNAME ${name('near')}`,
      `${name('near')} 16 IN A ${target.address}`,
    ]);
    expect(ecsShown(r)).toBe(`${client.subnet}/${geoScope(client)}`);
  });
});

describe('geo-map', () => {
  const targets = pool('regional').targets;
  const clients = locatedV4(4, 1500);

  /** Country first, then continent, then `default` (README of src/policy). */
  function expectedSet(where: GeoLocation | null): string[] {
    for (const code of [where?.country, where?.continent]) {
      const set = targets.filter((t) => code && t.regions?.includes(code));
      if (set.length) return set.map((t) => t.address);
    }
    return targets.filter((t) => t.regions?.includes('default')).map((t) => t.address);
  }

  it('answers through dig +subnet from the set mapped to the client country, else continent, else default', async () => {
    // One client for each distinct serving set the sample reaches.
    const bySet = new Map<string, Located>();
    for (const c of clients) {
      const key = expectedSet(c.where).join(' ');
      if (!bySet.has(key)) bySet.set(key, c);
    }
    expect(bySet.size).toBeGreaterThanOrEqual(5);
    for (const [set, c] of bySet) {
      const r = await dig(server.port, [name('regional'), 'A', `+subnet=${c.subnet}`]);
      expect(r.answer.map((rr) => rr.ttl)).toEqual([17]);
      expect(set.split(' '), `${c.subnet} in ${c.where.country}/${c.where.continent}`).toContain(r.answer[0]!.data);
      expect(ecsShown(r)).toBe(`${c.subnet}/${geoScope(c)}`);
    }
  });

  it('maps each of 600 located subnets to its region set, scope min(24, database prefix)', async () => {
    const sample = clients.slice(0, 600);
    const replies = await udp.queryAll(sample.length, (i) => poolQuery(name('regional'), Type.A, sample[i]!.subnet));
    const wrong = sample.flatMap((c, i) => {
      const got = replies[i]!;
      const ok = expectedSet(c.where).includes(got.answer[0]?.data ?? '') && got.ecs?.scopePrefix === geoScope(c);
      return ok ? [] : [`${c.subnet} (${c.where.country}): ${got.answer[0]?.data}/${got.ecs?.scopePrefix}`];
    });
    expect(wrong).toEqual([]);
  });
});

describe('groups: the outer policy picks a datacenter, the inner one a target in it', () => {
  const groups = pool('api').groups.map((g) => ({ ...g, key: g.name }));
  const clients = locatedV4(5, 1500);
  const clientNear = (group: string) => onePerTarget(clients, groups).find((x) => x.target.name === group)!.client;

  it('Amsterdam: the nearest group, weighted 2:1 inside (its drained target never), two answers', async () => {
    const c = clientNear('ams');
    const rs: DigResult[] = [];
    for (let i = 0; i < 6; i++) rs.push(await dig(server.port, [name('api'), 'A', `+subnet=${c.subnet}`]));
    expect(rs.map((r) => r.answer.map((rr) => rr.data))).toEqual([
      ['203.0.113.41', '203.0.113.42'],
      ['203.0.113.42', '203.0.113.41'],
      ['203.0.113.41', '203.0.113.42'],
      ['203.0.113.41', '203.0.113.42'],
      ['203.0.113.42', '203.0.113.41'],
      ['203.0.113.41', '203.0.113.42'],
    ]);
    for (const r of rs) {
      expect(r.answer.map((rr) => rr.ttl)).toEqual([18, 18]);
      // The answer depends on the outer (geo) choice: its scope holds for the whole answer.
      expect(ecsShown(r)).toBe(`${c.subnet}/${geoScope(c)}`);
    }
  });

  it('New York: round-robin inside the group', async () => {
    const c = clientNear('nyc');
    const rs: string[][] = [];
    for (let i = 0; i < 3; i++)
      rs.push((await dig(server.port, [name('api'), 'A', `+subnet=${c.subnet}`])).answer.map((rr) => rr.data));
    expect(rs).toEqual([
      ['203.0.113.51', '203.0.113.52'],
      ['203.0.113.52', '203.0.113.53'],
      ['203.0.113.53', '203.0.113.51'],
    ]);
  });

  it('Sydney: failover inside the group, its first tier only', async () => {
    const c = clientNear('syd');
    const r = await dig(server.port, [name('api'), 'A', `+subnet=${c.subnet}`]);
    expect(r.answer.map((rr) => rr.data)).toEqual(['203.0.113.62']);
  });
});

describe('clients without a location', () => {
  // Over loopback every query comes from 127.0.0.1. The database has no location for it, which we
  // check first: so a query without ECS shows that the source address was looked up (and found
  // nowhere) by getting the fallback policy's answer. `fallback-policy: failover` with every
  // target in tier 1 answers the first target listed.
  it('without ECS looks up the source address: 127.0.0.1 has no location, so the fallback policy answers', async () => {
    expect(db.lookup('127.0.0.1')).toBeNull();
    const r = await dig(server.port, [name('near'), 'A']);
    expect(r.answer.map((rr) => rr.text)).toEqual([`${name('near')} 16 IN A 203.0.113.1`]);
    expect(r.edns).not.toHaveProperty('CLIENT-SUBNET');
    expect((await dig(server.port, [name('near'), 'AAAA'])).answer.map((rr) => rr.data)).toEqual(['2001:db8::1:1']);
    expect((await dig(server.port, [name('regional'), 'A'])).answer.map((rr) => rr.data)).toEqual(['203.0.113.19']);
  });

  it('an ECS subnet the database does not know falls back, with the whole source prefix as scope', async () => {
    for (const subnet of ['10.20.30.0/24', '192.168.1.0/24', '198.18.0.0/15']) {
      expect(db.lookup(subnet.split('/')[0]!)).toBeNull();
      const prefix = subnet.split('/')[1];
      const near = await dig(server.port, [name('near'), 'A', `+subnet=${subnet}`]);
      expect(near.answer.map((rr) => rr.data)).toEqual(['203.0.113.1']);
      expect(ecsShown(near)).toBe(`${subnet}/${prefix}`);
      const regional = await dig(server.port, [name('regional'), 'A', `+subnet=${subnet}`]);
      expect(regional.answer.map((rr) => rr.data)).toEqual(['203.0.113.19']);
      expect(ecsShown(regional)).toBe(`${subnet}/${prefix}`);
    }
  });

  it('ECS source prefix 0 ("do not use my address", RFC 7871 §7.1.2) falls back with scope 0', async () => {
    const r = await dig(server.port, [name('near'), 'A', '+subnet=0.0.0.0/0']);
    expect(r.answer.map((rr) => rr.data)).toEqual(['203.0.113.1']);
    expect(ecsShown(r)).toBe('0.0.0.0/0/0');
  });
});
