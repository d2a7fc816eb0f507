// GET /explain and `gslbd explain` against a real gslbd: for every policy and for a pool with
// groups, the candidates with their health and weight, the policy's scores, the chosen targets,
// TTL and ECS scope; where the policy is deterministic for a client (geo, failover, affinity) the
// choice must be what `dig` gets for that client. Locations come from the same geoip-lite data the
// server uses, looked up here at test time: nothing about where an address is, is hard-coded.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseName } from '../../src/0-base/name.ts';
import { GeoipLiteDatabase, type GeoLocation } from '../../src/3-geo/index.ts';
import { parsePoolsFile } from '../../src/4-gslb/pools-file.ts';
import type { PoolDef } from '../../src/4-gslb/types.ts';
import { distanceKm } from '../../src/3-policy/distance.ts';
import { dig, type DigResult } from '../helpers/dig.ts';
import { runCli } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';
import { bothProbed, fqdn, READ, startOps, ZONE, type OpsServer } from '../helpers/ops.ts';

let s: OpsServer;
const db = new GeoipLiteDatabase();
await db.load();

// The pools as the server reads them (locations, regions), from the fixture the server copied.
let pools: PoolDef[];
const pool = (label: string): PoolDef => pools.find((p) => p.label === label)!;

beforeAll(async () => {
  s = await startOps();
  const file = path.join(s.zones, 'ops.example.net.pools.yaml');
  const parsed = parsePoolsFile(readFileSync(file, 'utf8'), file, parseName(ZONE, null));
  expect(parsed.errors).toEqual([]);
  pools = parsed.pools;
  await bothProbed(s);
}, 30_000);
afterAll(async () => {
  await s?.stop();
});

interface Candidate {
  address: string;
  group?: string;
  weight: number;
  usable: boolean;
  state: string;
  because?: string;
  reason: string;
  score?: number;
}

async function explain(params: Record<string, string>): Promise<any> {
  const r = await s.api('GET', `/explain?${new URLSearchParams(params)}`, undefined, READ);
  if (r.status !== 200) throw new Error(`/explain ${JSON.stringify(params)}: HTTP ${r.status}: ${r.text}`);
  return r.body;
}

/** `gslbd explain NAME [...args] --json` with the API address and token in the environment. */
async function cliExplain(name: string, args: string[] = []): Promise<any> {
  const r = await runCli(['explain', name, ...args, '--json'], 30_000, { GSLBD_API: s.base, GSLBD_API_TOKEN: READ });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** dig for `name`'s A records from `subnet` (ECS), or from this host without. */
const digFrom = (name: string, subnet?: string): Promise<DigResult> =>
  dig(s.gslbd.port, [name, 'A', ...(subnet ? [`+subnet=${subnet}`] : [])]);
const addresses = (r: DigResult): string[] => r.answer.filter((rr) => rr.type === 'A').map((rr) => rr.data);
/** The SCOPE PREFIX-LENGTH of dig's CLIENT-SUBNET line (`81.2.69.0/24/23`). */
const scopeOf = (r: DigResult): number => Number(String(r.edns?.['CLIENT-SUBNET']).split('/')[2]);

/** The explanation of `name`'s one pool. */
const onlyPool = (e: any) => {
  expect(e.pools).toHaveLength(1);
  return e.pools[0];
};

/** What dig gets is what explain says: addresses, TTL and, with ECS, scope. */
async function expectDigAgrees(name: string, e: any, subnet?: string): Promise<void> {
  const p = onlyPool(e);
  const r = await digFrom(name, subnet);
  expect(addresses(r)).toEqual(p.chosen);
  expect(r.answer.map((rr) => rr.ttl)).toEqual(p.chosen.map(() => p.ttl));
  expect(e.answer).toEqual(r.answer.map((rr) => `${rr.name} ${rr.ttl} IN A ${rr.data}`));
  if (subnet) {
    expect(scopeOf(r)).toBe(e.ecs_scope);
    expect(p.scope).toBe(e.ecs_scope);
  }
}

// Client networks spread over the registries; each is looked up here, and those the database
// cannot place are kept too (they exercise the fallback).
const SUBNETS = [
  '81.2.69.0/24',
  '8.8.8.0/24',
  '1.1.1.0/24',
  '200.160.2.0/24',
  '202.12.28.0/24',
  '41.203.64.0/24',
  '133.11.0.0/16',
  '192.0.2.0/24',
];
interface Client {
  readonly subnet: string;
  readonly where: GeoLocation | null;
}
const clients = (): Client[] => SUBNETS.map((subnet) => ({ subnet, where: db.lookup(subnet.split('/')[0]!) }));
const prefixOf = (subnet: string) => Number(subnet.split('/')[1]);

describe('explain, policy by policy', { timeout: 60_000 }, () => {
  it('round-robin: every candidate up with its weight, no scores, one chosen; explaining does not move the rotation', async () => {
    const e = await explain({ name: fqdn('rr') });
    const p = onlyPool(e);
    expect(p).toMatchObject({
      pool: fqdn('rr'),
      policy: 'round-robin',
      score_name: null,
      fallback: null,
      ttl: 30,
      scope: 0,
    });
    expect(p.candidates).toEqual(
      ['198.51.100.1', '198.51.100.2', '198.51.100.3'].map((address) => ({
        address,
        weight: 1,
        usable: true,
        state: 'up',
        because: 'default',
        reason: 'no check',
      })),
    );
    expect(p.chosen).toHaveLength(1);
    expect(e).toMatchObject({
      zone: ZONE,
      rcode: 'NOERROR',
      ecs_scope: 0,
      query: { name: fqdn('rr'), type: 'A', client: null, subnet: null },
    });

    // One full cycle by dig alone, then dig again with explanations (API and CLI) in between:
    // the rotation goes on exactly where it was.
    const cycle: string[] = [];
    for (let i = 0; i < 3; i++) cycle.push(addresses(await digFrom(fqdn('rr')))[0]!);
    expect([...cycle].sort()).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.3']);
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      await explain({ name: fqdn('rr') });
      await explain({ name: fqdn('rr'), subnet: '81.2.69.0/24' });
      if (i % 3 === 0) await cliExplain(fqdn('rr'));
      seen.push(addresses(await digFrom(fqdn('rr')))[0]!);
    }
    expect(seen).toEqual([...cycle, ...cycle]);
  });

  it('random: the answers it would give, distinct, among usable candidates', async () => {
    const p = onlyPool(await explain({ name: fqdn('rand') }));
    expect(p).toMatchObject({ policy: 'random', score_name: null, ttl: 31, scope: 0 });
    expect(p.candidates.map((c: Candidate) => c.address)).toEqual(['198.51.100.11', '198.51.100.12', '198.51.100.13']);
    expect(p.chosen).toHaveLength(2);
    expect(new Set(p.chosen).size).toBe(2);
    for (const a of p.chosen) expect(p.candidates.map((c: Candidate) => c.address)).toContain(a);
    expect(p.candidates.some((c: Candidate) => 'score' in c)).toBe(false);
  });

  it('weighted: each candidate with the weight in force (a weight set through the API shows), no scores', async () => {
    const url = `/v1/zones/${ZONE}/pools/weighted/targets/198.51.100.22/weight`;
    let p = onlyPool(await explain({ name: fqdn('weighted') }));
    expect(p).toMatchObject({ policy: 'weighted', score_name: null, ttl: 32 });
    expect(p.candidates.map((c: Candidate) => [c.address, c.weight])).toEqual([
      ['198.51.100.21', 3],
      ['198.51.100.22', 1],
    ]);
    expect((await s.api('PUT', url, { weight: 7 })).status).toBe(200);
    try {
      p = onlyPool(await explain({ name: fqdn('weighted') }));
      expect(p.candidates.map((c: Candidate) => [c.address, c.weight])).toEqual([
        ['198.51.100.21', 3],
        ['198.51.100.22', 7],
      ]);
      expect(p.candidates.some((c: Candidate) => 'score' in c)).toBe(false);
    } finally {
      expect((await s.api('DELETE', url)).status).toBe(200);
    }
  });

  it('least-load: says so when there are no reports; with reports, each load ratio as its score and the lowest chosen, as dig gets', async () => {
    let p = onlyPool(await explain({ name: fqdn('least') }));
    expect(p).toMatchObject({ policy: 'least-load', score_name: null, note: 'no load reports: weighted random' });
    const loads: [string, number][] = [
      ['198.51.100.31', 80],
      ['198.51.100.32', 10],
      ['198.51.100.33', 50],
    ];
    for (const [target, load] of loads) {
      const r = await s.api('PUT', `/v1/zones/${ZONE}/pools/least/targets/${target}/load`, {
        load,
        capacity: 100,
        valid_for: 300,
      });
      expect(r.status).toBe(200);
    }
    const e = await explain({ name: fqdn('least') });
    p = onlyPool(e);
    expect(p).toMatchObject({ score_name: 'load_ratio', note: null, chosen: ['198.51.100.32'], ttl: 33 });
    expect(p.candidates.map((c: Candidate) => [c.address, c.score])).toEqual([
      ['198.51.100.31', 0.8],
      ['198.51.100.32', 0.1],
      ['198.51.100.33', 0.5],
    ]);
    // The first answer since the reports: nothing handed out yet, so the same arithmetic.
    await expectDigAgrees(fqdn('least'), e);
    expect(await cliExplain(fqdn('least'))).toMatchObject({
      pools: [{ score_name: 'load_ratio', candidates: p.candidates }],
    });
  });

  it("geo-proximity: distances from the client's location as scores, the nearest chosen, scope from the database, as dig gets", async () => {
    const def = pool('near');
    let located = 0;
    for (const { subnet, where } of clients()) {
      const e = await explain({ name: fqdn('near'), subnet });
      const p = onlyPool(e);
      expect(p.policy).toBe('geo-proximity');
      expect(e.client).toMatchObject({ address: subnet.split('/')[0], prefix: prefixOf(subnet) });
      if (where?.point) {
        located++;
        const km = def.targets.map((t) => distanceKm(where.point!, t.location!));
        const nearest = def.targets[km.indexOf(Math.min(...km))]!.address;
        expect(p.score_name).toBe('distance_km');
        p.candidates.forEach((c: Candidate, i: number) => expect(c.score).toBeCloseTo(km[i]!, 6));
        expect(p.chosen).toEqual([nearest]);
        expect(e.ecs_scope).toBe(Math.min(prefixOf(subnet), where.prefix));
        expect(e.client.location).toMatchObject({ country: where.country, continent: where.continent });
      } else {
        // Unknown location: the fallback policy (failover: the first target) chooses, and says why.
        expect(p.note).toMatch(/^client location unknown: failover/);
        expect(p.chosen).toEqual([def.targets[0]!.address]);
      }
      await expectDigAgrees(fqdn('near'), e, subnet);
      expect(await cliExplain(fqdn('near'), ['--subnet', subnet])).toEqual(e);
    }
    expect(located).toBeGreaterThanOrEqual(5);
  });

  it('geo-proximity by source address: --client is placed like an ECS /32', async () => {
    const address = '8.8.4.4';
    const where = db.lookup(address);
    expect(where?.point).toBeTruthy();
    const def = pool('near');
    const km = def.targets.map((t) => distanceKm(where!.point!, t.location!));
    const e = await cliExplain(fqdn('near'), ['--client', address]);
    expect(e.client).toMatchObject({ address, prefix: 32 });
    expect(onlyPool(e).chosen).toEqual([def.targets[km.indexOf(Math.min(...km))]!.address]);
    expect(e.ecs_scope).toBe(Math.min(32, where!.prefix));
  });

  it("geo-map: the targets of the client's country, else continent, else default, as dig gets", async () => {
    const def = pool('regional');
    for (const { subnet, where } of clients()) {
      const e = await explain({ name: fqdn('regional'), subnet });
      const p = onlyPool(e);
      expect(p).toMatchObject({ policy: 'geo-map', score_name: null, ttl: 35 });
      const served = (code: string | undefined) =>
        def.targets.filter((t) => code !== undefined && t.regions?.includes(code));
      const set = [where?.country, where?.continent].map(served).find((x) => x.length) ?? served('default');
      expect(set).toHaveLength(1);
      expect(p.chosen).toEqual([set[0]!.address]);
      expect(e.ecs_scope).toBe(where ? Math.min(prefixOf(subnet), where.prefix) : prefixOf(subnet));
      await expectDigAgrees(fqdn('regional'), e, subnet);
    }
  });

  it('failover: the first tier; a drained target is shown drained and not usable, and the next tier answers', async () => {
    let e = await explain({ name: fqdn('failover') });
    expect(onlyPool(e)).toMatchObject({ policy: 'failover', chosen: ['198.51.100.41'], ttl: 36, scope: 0 });
    await expectDigAgrees(fqdn('failover'), e);
    const url = `/v1/zones/${ZONE}/pools/failover/targets/198.51.100.41/override`;
    expect((await s.api('PUT', url, { state: 'drain', reason: 'kernel upgrade' })).status).toBe(200);
    try {
      e = await explain({ name: fqdn('failover') });
      const p = onlyPool(e);
      expect(p.candidates[0]).toMatchObject({
        address: '198.51.100.41',
        usable: false,
        state: 'drain',
        because: 'override',
        reason: 'kernel upgrade',
      });
      expect(p.chosen).toEqual(['198.51.100.42']);
      await expectDigAgrees(fqdn('failover'), e);
    } finally {
      expect((await s.api('DELETE', url)).status).toBe(200);
    }
    expect(onlyPool(await explain({ name: fqdn('failover') })).chosen).toEqual(['198.51.100.41']);
  });

  it('affinity: a hash score per candidate, the highest chosen, scope the hashed prefix, as dig gets', async () => {
    for (const subnet of ['81.2.69.0/24', '8.8.8.0/24', '133.11.0.0/16', '198.51.100.0/28']) {
      const e = await explain({ name: fqdn('sticky'), subnet });
      const p = onlyPool(e);
      expect(p).toMatchObject({ policy: 'affinity', score_name: 'hash', ttl: 37 });
      const scores = p.candidates.map((c: Candidate) => c.score!);
      expect(scores.every((x: number) => x > 0)).toBe(true);
      expect(p.chosen).toEqual([p.candidates[scores.indexOf(Math.max(...scores))].address]);
      expect(e.ecs_scope).toBe(Math.min(prefixOf(subnet), 24));
      await expectDigAgrees(fqdn('sticky'), e, subnet);
      // Every client of the same /24 is explained the same way.
      const [a, b, c] = subnet.split('.');
      if (prefixOf(subnet) === 24)
        expect(onlyPool(await explain({ name: fqdn('sticky'), client: `${a}.${b}.${c}.77` })).chosen).toEqual(p.chosen);
    }
  });

  it("groups: the outer policy's score per group and the group chosen, each candidate with its group; dig answers from that group", async () => {
    const def = pool('dc');
    for (const { subnet, where } of clients().filter((c) => c.where?.point)) {
      const e = await explain({ name: fqdn('dc'), subnet });
      const p = onlyPool(e);
      const km = def.groups.map((g) => distanceKm(where!.point!, g.location!));
      const nearest = def.groups[km.indexOf(Math.min(...km))]!.name;
      expect(p).toMatchObject({
        policy: 'geo-proximity',
        group_score_name: 'distance_km',
        score_name: null,
        ttl: 38,
        note: `group ${nearest}`,
      });
      expect(
        p.groups.map((g: { name: string; policy: string; chosen: boolean }) => [g.name, g.policy, g.chosen]),
      ).toEqual([
        ['ams', 'weighted', nearest === 'ams'],
        ['nyc', 'round-robin', nearest === 'nyc'],
      ]);
      p.groups.forEach((g: { score: number }, i: number) => expect(g.score).toBeCloseTo(km[i]!, 6));
      expect(p.candidates.map((c: Candidate) => [c.address, c.group, c.weight, c.state])).toEqual([
        ['203.0.113.41', 'ams', 2, 'up'],
        ['203.0.113.42', 'ams', 1, 'up'],
        ['203.0.113.51', 'nyc', 1, 'up'],
        ['203.0.113.52', 'nyc', 1, 'up'],
      ]);
      const inGroup = p.candidates.filter((c: Candidate) => c.group === nearest).map((c: Candidate) => c.address);
      expect(inGroup).toContain(p.chosen[0]);
      // The group is the client's; which target of it answers is the inner policy's turn.
      const r = await digFrom(fqdn('dc'), subnet);
      expect(inGroup).toContain(addresses(r)[0]);
      expect(r.answer[0]!.ttl).toBe(p.ttl);
      expect(scopeOf(r)).toBe(e.ecs_scope);
    }
  });
});

describe('explain and health', { timeout: 60_000 }, () => {
  it("a target whose listener stopped is down with the probe's reason, not usable, and not chosen", async () => {
    await s.a.stop();
    try {
      let p: any;
      await until(
        async () => {
          p = onlyPool(await explain({ name: fqdn('checked') }));
          return p.candidates[0].state === 'down';
        },
        10_000,
        '127.0.0.2 down in the explanation',
      );
      expect(p.candidates[0]).toMatchObject({
        address: '127.0.0.2',
        usable: false,
        state: 'down',
        because: 'probe',
        reason: 'connect ECONNREFUSED',
      });
      expect(p.candidates[1]).toMatchObject({
        address: '127.0.0.3',
        usable: true,
        state: 'up',
        because: 'probe',
        reason: 'connected',
      });
      expect(p.chosen).toEqual(['127.0.0.3']);
      expect(addresses(await digFrom(fqdn('checked')))).toEqual(['127.0.0.3']);
      const text = await runCli(['explain', fqdn('checked'), '--api', s.base, '--token', READ]);
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(/^ {4}127\.0\.0\.2 +down +weight 1 +probe: connect ECONNREFUSED$/m);
      expect(text.stdout).toMatch(/^ {2}\* 127\.0\.0\.3 +up +weight 1 +probe: connected$/m);
    } finally {
      await s.a.start();
    }
    await until(
      async () => onlyPool(await explain({ name: fqdn('checked') })).candidates[0].state === 'up',
      10_000,
      '127.0.0.2 up again',
    );
  });

  it('every target unusable: the fallback says so', async () => {
    const changes = (op: string) => ({
      changes: ['198.51.100.61', '198.51.100.62'].map((target) => ({
        op,
        zone: ZONE,
        pool: 'both',
        target,
        ...(op === 'set-override' && { state: 'down', reason: 'test' }),
      })),
    });
    expect((await s.api('POST', '/v1/batch', changes('set-override'))).status).toBe(200);
    try {
      const p = onlyPool(await explain({ name: fqdn('both') }));
      expect(p).toMatchObject({ fallback: 'all', chosen: ['198.51.100.61', '198.51.100.62'] });
      expect(p.candidates.map((c: Candidate) => [c.state, c.usable])).toEqual([
        ['down', false],
        ['down', false],
      ]);
      expect(p.candidates.map((c: Candidate) => c.because)).toEqual(['override', 'override']);
    } finally {
      expect((await s.api('POST', '/v1/batch', changes('clear-override'))).status).toBe(200);
    }
  });
});

describe('explain: bad requests', { timeout: 60_000 }, () => {
  it.each([
    ['name missing', {}, 'name'],
    ['an empty label', { name: 'a..ops.example.net' }, 'name'],
    ['an unknown type', { name: fqdn('rr'), type: 'BOGUS' }, 'type'],
    ['a client that is no address', { name: fqdn('rr'), client: 'somewhere' }, 'client'],
    ['a subnet prefix too long', { name: fqdn('rr'), subnet: '192.0.2.0/33' }, 'subnet'],
    ['a subnet that is no address', { name: fqdn('rr'), subnet: 'nowhere/24' }, 'subnet'],
    ['both client and subnet', { name: fqdn('rr'), client: '192.0.2.1', subnet: '192.0.2.0/24' }, 'subnet'],
    ['an unknown parameter', { name: fqdn('rr'), qtype: 'A' }, 'qtype'],
  ])('%s: 400 naming the field', async (_what, params, field) => {
    const r = await s.api('GET', `/explain?${new URLSearchParams(params as Record<string, string>)}`, undefined, READ);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 'ERR_VALIDATION', field });
    expect(r.body.error.message).toMatch(new RegExp(`^${field}: `));
  });

  it("needs a token, and the CLI reports the API's error and exits non-zero", async () => {
    expect((await s.api('GET', `/explain?name=${fqdn('rr')}`, undefined, null)).status).toBe(401);
    const r = await runCli(['explain', fqdn('rr'), '--type', 'BOGUS', '--api', s.base, '--token', READ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^gslbd: GET http:\/\/127\.0\.0\.1:\d+\/explain\?.*: HTTP 400: type: unknown type "BOGUS"\n$/,
    );
  });
});
