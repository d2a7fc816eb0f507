// `<origin>.pools.yaml`: what loads (the issue's example as written, every key, the defaults), what
// is rejected (each with `file:line: path: reason`), and how a pools file joins its zone.

import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { nameToText } from '../../src/0-base/name.ts';
import { attachPools } from '../../src/4-gslb/attach.ts';
import { parsePoolsFile } from '../../src/4-gslb/pools-file.ts';
import type { CheckSpec } from '../../src/3-health/types.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import { runCli } from '../helpers/gslbd.ts';
import { build, HEAD, key, ORIGIN, tempDir } from '../zone/helpers.ts';

const FILE = 'example.com.pools.yaml';
const parse = (text: string) => parsePoolsFile(text, FILE, ORIGIN);

/** The pool of `text` that must load without errors. */
function onlyPool(text: string) {
  const r = parse(text);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  expect(r.pools).toHaveLength(1);
  return r.pools[0]!;
}

// Verbatim from issue 3, "Pools beside zones".
const ISSUE_EXAMPLE = `www:                          # owner name relative to the zone: www.<origin>
  policy: weighted            # round-robin | random | weighted | least-load | geo-proximity | geo-map | failover | affinity
  ttl: 20                     # low TTL, seconds
  answers: 1                  # addresses per answer (default 1)
  fallback: all               # no healthy target: all | none | [sorry addresses]
  check: { type: tcp, port: 80, interval: 2s, timeout: 1s, rise: 2, fall: 2 }
  targets:
    - { address: 192.0.2.10, weight: 3, location: { lat: 52.37, lon: 4.90 } }
    - { address: 192.0.2.20, weight: 1, location: { lat: 40.71, lon: -74.01 } }
    - { address: "2001:db8::10", weight: 1 }
`;

const TCP_80: CheckSpec = {
  type: 'tcp',
  port: 80,
  intervalMs: 2000,
  timeoutMs: 1000,
  rise: 2,
  fall: 2,
  path: '/',
  expect: [200],
  insecure: false,
};

describe('parsePoolsFile: what loads', () => {
  it("loads the issue's example as written", () => {
    expect(parse(ISSUE_EXAMPLE)).toMatchObject({
      errors: [],
      pools: [
        {
          name: key('www'),
          label: 'www',
          policy: 'weighted',
          fallbackPolicy: 'weighted',
          ttl: 20,
          answers: 1,
          fallback: { kind: 'all' },
          targets: [
            {
              id: 'www.example.com./192.0.2.10',
              address: '192.0.2.10',
              family: 4,
              weight: 3,
              location: { lat: 52.37, lon: 4.9 },
              check: TCP_80,
              line: 8,
            },
            {
              id: 'www.example.com./192.0.2.20',
              address: '192.0.2.20',
              family: 4,
              weight: 1,
              location: { lat: 40.71, lon: -74.01 },
              check: TCP_80,
              line: 9,
            },
            {
              id: 'www.example.com./2001:db8::10',
              address: '2001:db8::10',
              family: 6,
              weight: 1,
              check: TCP_80,
              line: 10,
            },
          ],
          groups: [],
          maxReportAgeMs: 60_000,
          answerLoad: 1,
          tolerance: 0.05,
          file: FILE,
          line: 1,
        },
      ],
    });
  });

  it('fills in the defaults: round-robin, ttl 30, one answer, fail open, weight 1, no check', () => {
    const p = onlyPool('web:\n  targets:\n    - address: 192.0.2.1\n');
    expect(p).toMatchObject({
      name: key('web'),
      policy: 'round-robin',
      fallbackPolicy: 'weighted',
      ttl: 30,
      answers: 1,
      fallback: { kind: 'all' },
      maxReportAgeMs: 60_000,
      answerLoad: 1,
      tolerance: 0.05,
      groups: [],
      line: 1,
    });
    expect(p.targets).toEqual([
      { id: 'web.example.com./192.0.2.1', address: '192.0.2.1', family: 4, weight: 1, check: null, line: 3 },
    ]);
  });

  it('reads every key of pools, groups, targets and checks', () => {
    const p = onlyPool(`api:
  policy: geo-proximity
  fallback-policy: failover
  ttl: 86400
  min-ttl: 5
  answers: 2
  fallback: [192.0.2.99, "2001:DB8::99"]
  max-report-age: 30s
  answer-load: 0.5
  tolerance: 0.1
  check: { type: http, host: 192.0.2.200, port: 8080, interval: 10s, timeout: 500ms, rise: 3, fall: 5, path: /health, expect: [200, 204], body: ok, hostname: api.example.com, insecure: true, initial: down }
  groups:
    ams:
      policy: weighted
      location: { lat: 52.37, lon: 4.9 }
      bias: 20
      priority: 1
      regions: [eu, NL, default]
      targets:
        - { address: 192.0.2.1, weight: 0, location: { lat: 52.3, lon: 4.8 }, bias: -10, priority: 2, regions: [de], check: none }
        - address: 2001:DB8:0::1
          weight: 100
          check: { type: dns, port: 5353, name: health.example.com., qtype: aaaa, rcode: nxdomain }
    nyc:
      targets:
        - { address: 192.0.2.2, check: { type: https } }
        - { address: 192.0.2.3, check: false }
`);
    const http: CheckSpec = {
      type: 'http',
      host: '192.0.2.200',
      port: 8080,
      intervalMs: 10_000,
      timeoutMs: 500,
      rise: 3,
      fall: 5,
      path: '/health',
      expect: [200, 204],
      body: 'ok',
      hostHeader: 'api.example.com',
      insecure: true,
      initial: 'down',
    };
    expect(p).toMatchObject({
      policy: 'geo-proximity',
      fallbackPolicy: 'failover',
      ttl: 86400,
      minTtl: 5,
      answers: 2,
      fallback: { kind: 'sorry', addresses: ['192.0.2.99', '2001:db8::99'] },
      maxReportAgeMs: 30_000,
      answerLoad: 0.5,
      tolerance: 0.1,
    });
    // Every target here has a check of its own (or none): the pool's is kept on the pool.
    expect(p.check).toEqual(http);
    expect(p.groups).toEqual([
      {
        name: 'ams',
        policy: 'weighted',
        location: { lat: 52.37, lon: 4.9 },
        bias: 20,
        priority: 1,
        regions: ['EU', 'NL', 'default'],
        line: 13,
      },
      { name: 'nyc', policy: 'round-robin', line: 24 },
    ]);
    expect(p.targets).toEqual([
      {
        id: 'api.example.com./192.0.2.1',
        address: '192.0.2.1',
        family: 4,
        weight: 0,
        location: { lat: 52.3, lon: 4.8 },
        bias: -10,
        priority: 2,
        regions: ['DE'],
        check: null,
        group: 0,
        line: 20,
      },
      {
        id: 'api.example.com./2001:db8::1',
        address: '2001:db8::1',
        family: 6,
        weight: 100,
        group: 0,
        line: 21,
        check: {
          type: 'dns',
          port: 5353,
          intervalMs: 5000,
          timeoutMs: 2000,
          rise: 2,
          fall: 2,
          path: '/',
          expect: [200],
          insecure: false,
          query: { name: 'health.example.com.', type: 28, rcode: 3 },
        },
      },
      {
        id: 'api.example.com./192.0.2.2',
        address: '192.0.2.2',
        family: 4,
        weight: 1,
        group: 1,
        line: 26,
        check: {
          type: 'https',
          port: 443,
          intervalMs: 5000,
          timeoutMs: 2000,
          rise: 2,
          fall: 2,
          path: '/',
          expect: [200],
          insecure: false,
        },
      },
      { id: 'api.example.com./192.0.2.3', address: '192.0.2.3', family: 4, weight: 1, check: null, group: 1, line: 27 },
    ]);
  });

  it('takes the pool check for targets without their own, and the default timeout from the interval', () => {
    const p = onlyPool(`www:
  check: { type: tcp, port: 443, interval: 1s }
  targets:
    - { address: 192.0.2.1 }
    - { address: 192.0.2.2, check: { type: tcp, port: 8443, interval: 1m } }
`);
    expect(p.targets.map((t) => [t.check?.port, t.check?.intervalMs, t.check?.timeoutMs])).toEqual([
      [443, 1000, 500],
      [8443, 60_000, 2000],
    ]);
  });

  it('reads fallback none, and names given relative, as @ or absolute inside the zone', () => {
    const r = parse(`"@":
  fallback: none
  targets: [{ address: 192.0.2.1 }]
a.b:
  targets: [{ address: 192.0.2.1 }]
c.example.com.:
  targets: [{ address: 192.0.2.1 }]
`);
    expect(r.errors).toEqual([]);
    expect(r.pools.map((p) => [nameToText(p.name), p.fallback.kind, p.line])).toEqual([
      ['example.com.', 'none', 1],
      ['a.b.example.com.', 'all', 4],
      ['c.example.com.', 'all', 6],
    ]);
  });

  it('loads an empty file as no pools', () => {
    expect(parse('')).toEqual({ pools: [], errors: [] });
    expect(parse('# nothing yet\n')).toEqual({ pools: [], errors: [] });
  });
});

describe('parsePoolsFile: what is rejected, as file:line: path: reason', () => {
  const pool = (body: string) => `www:\n  policy: round-robin\n${body}`;
  const target = (fields: string) => pool(`  targets:\n    - { address: 192.0.2.1 }\n    - { ${fields} }\n`);
  const check = (fields: string) => pool(`  check: { ${fields} }\n  targets:\n    - { address: 192.0.2.1 }\n`);

  it.each([
    [
      'an unknown pool key',
      pool('  weigth: 3\n  targets: [{ address: 192.0.2.1 }]\n'),
      [
        expect.stringMatching(
          /^example\.com\.pools\.yaml:3: www\.weigth: unknown key \(known keys: policy, ttl, .*answers, fallback, fallback-policy, check, targets, groups, max-report-age, answer-load, tolerance\)$/,
        ),
      ],
    ],
    [
      'an unknown target key',
      target('address: 192.0.2.2, port: 80'),
      [
        `${FILE}:5: www.targets[1].port: unknown key (known keys: address, weight, location, bias, priority, regions, check)`,
      ],
    ],
    [
      'an unknown check key',
      check('type: tcp, port: 80, retries: 3'),
      [
        `${FILE}:3: www.check.retries: unknown key (known keys: type, host, port, interval, timeout, rise, fall, path, expect, body, hostname, insecure, name, qtype, rcode, initial, fast-fail)`,
      ],
    ],
    [
      'an unknown location key',
      target('address: 192.0.2.2, location: { lat: 1, lon: 2, alt: 3 }'),
      [`${FILE}:5: www.targets[1].location.alt: unknown key (known keys: lat, lon)`],
    ],
    [
      'an unknown group key',
      `www:\n  policy: failover\n  groups:\n    a:\n      weight: 2\n      targets: [{ address: 192.0.2.1 }]\n`,
      [`${FILE}:5: www.groups.a.weight: unknown key (known keys: policy, location, bias, priority, regions, targets)`],
    ],
    [
      'a bad IPv4 address',
      target('address: 192.0.2.300'),
      [`${FILE}:5: www.targets[1].address: "192.0.2.300" is not an IPv4 or IPv6 address`],
    ],
    [
      'a host name as address',
      target('address: web.example.com'),
      [`${FILE}:5: www.targets[1].address: "web.example.com" is not an IPv4 or IPv6 address`],
    ],
    [
      'a bad IPv6 address',
      target('address: "2001:db8::1::2"'),
      [`${FILE}:5: www.targets[1].address: "2001:db8::1::2" is not an IPv4 or IPv6 address`],
    ],
    ['a target without address', target('weight: 2'), [`${FILE}:5: www.targets[1]: missing "address"`]],
    [
      'weight above 100',
      target('address: 192.0.2.2, weight: 101'),
      [`${FILE}:5: www.targets[1].weight: 101 is out of range 0..100`],
    ],
    [
      'a negative weight',
      target('address: 192.0.2.2, weight: -1'),
      [`${FILE}:5: www.targets[1].weight: -1 is out of range 0..100`],
    ],
    [
      'a fractional weight',
      target('address: 192.0.2.2, weight: 1.5'),
      [`${FILE}:5: www.targets[1].weight: expected an integer, got "1.5"`],
    ],
    [
      'ttl above a day',
      pool('  ttl: 86401\n  targets: [{ address: 192.0.2.1 }]\n'),
      [`${FILE}:3: www.ttl: 86401 is out of range 0..86400`],
    ],
    [
      'a negative ttl',
      pool('  ttl: -5\n  targets: [{ address: 192.0.2.1 }]\n'),
      [`${FILE}:3: www.ttl: -5 is out of range 0..86400`],
    ],
    [
      'a ttl with a unit',
      pool('  ttl: 20s\n  targets: [{ address: 192.0.2.1 }]\n'),
      [`${FILE}:3: www.ttl: expected an integer, got "20s"`],
    ],
    [
      'answers 0',
      pool('  answers: 0\n  targets: [{ address: 192.0.2.1 }]\n'),
      [`${FILE}:3: www.answers: 0 is out of range 1..64`],
    ],
    [
      'timeout equal to the interval',
      check('type: tcp, port: 80, interval: 2s, timeout: 2s'),
      [`${FILE}:3: www.check.timeout: must be shorter than the interval (2s)`],
    ],
    [
      'timeout longer than the interval',
      check('type: tcp, port: 80, interval: 1s, timeout: 1500ms'),
      [`${FILE}:3: www.check.timeout: must be shorter than the interval (1s)`],
    ],
    [
      'a bad interval',
      check('type: tcp, port: 80, interval: soon'),
      [`${FILE}:3: www.check.interval: expected a duration like 2s, 500ms or 1m, got "soon"`],
    ],
    ['rise 0', check('type: tcp, port: 80, rise: 0'), [`${FILE}:3: www.check.rise: 0 is out of range 1..10`]],
    ['rise 11', check('type: tcp, port: 80, rise: 11'), [`${FILE}:3: www.check.rise: 11 is out of range 1..10`]],
    ['fall 0', check('type: tcp, port: 80, fall: 0'), [`${FILE}:3: www.check.fall: 0 is out of range 1..10`]],
    ['fall 11', check('type: tcp, port: 80, fall: 11'), [`${FILE}:3: www.check.fall: 11 is out of range 1..10`]],
    ['a tcp check without port', check('type: tcp'), [`${FILE}:3: www.check: a tcp check needs a port`]],
    ['a check without type', check('port: 80'), [`${FILE}:3: www.check: missing "type" (tcp | http | https | dns)`]],
    [
      'an unknown check type',
      check('type: icmp'),
      [`${FILE}:3: www.check.type: "icmp" is not one of tcp | http | https | dns`],
    ],
    [
      'a bad status code',
      check('type: http, expect: [200, 99]'),
      [`${FILE}:3: www.check.expect: "99" is not an HTTP status code`],
    ],
    ['a dns check without a name', check('type: dns'), [`${FILE}:3: www.check: missing "name"`]],
    [
      'a check that is not a mapping',
      pool('  check: tcp\n  targets: [{ address: 192.0.2.1 }]\n'),
      [`${FILE}:3: www.check: expected a mapping like { type: tcp, port: 80 }`],
    ],
    [
      'an unknown policy',
      'www:\n  policy: closest\n  targets: [{ address: 192.0.2.1 }]\n',
      [
        `${FILE}:2: www.policy: "closest" is not one of round-robin | random | weighted | least-load | geo-proximity | geo-map | failover | affinity`,
      ],
    ],
    [
      'an unknown fallback policy',
      pool('  fallback-policy: nearest\n  targets: [{ address: 192.0.2.1 }]\n'),
      [
        `${FILE}:3: www.fallback-policy: "nearest" is not one of round-robin | random | weighted | least-load | geo-proximity | geo-map | failover | affinity`,
      ],
    ],
    [
      'an unknown group policy',
      'www:\n  policy: failover\n  groups:\n    a:\n      policy: fastest\n      targets: [{ address: 192.0.2.1 }]\n',
      [
        `${FILE}:5: www.groups.a.policy: "fastest" is not one of round-robin | random | weighted | least-load | geo-proximity | geo-map | failover | affinity`,
      ],
    ],
    [
      'an outer policy that cannot choose a group',
      'www:\n  policy: least-load\n  groups:\n    a:\n      targets: [{ address: 192.0.2.1 }]\n',
      [`${FILE}:2: www.policy: "least-load" cannot choose among groups`],
    ],
    [
      'groups and targets both',
      'www:\n  policy: failover\n  targets: [{ address: 192.0.2.1 }]\n  groups:\n    a:\n      targets: [{ address: 192.0.2.2 }]\n',
      [`${FILE}:3: www.targets: a pool has either targets or groups of targets, not both`],
    ],
    [
      'an empty target list',
      'www:\n  policy: random\n  targets: []\n',
      [`${FILE}:2: www: a pool needs at least one target`],
    ],
    ['no targets at all', 'www:\n  ttl: 20\n', [`${FILE}:2: www: a pool needs at least one target`]],
    [
      'groups without targets',
      'www:\n  policy: failover\n  groups:\n    a:\n      priority: 1\n',
      [`${FILE}:2: www: a pool needs at least one target`],
    ],
    [
      'a duplicate target',
      target('address: 192.0.2.1, weight: 2'),
      [`${FILE}:5: www.targets[1]: address 192.0.2.1 is listed twice in pool www`],
    ],
    [
      'a duplicate IPv6 target written differently',
      pool('  targets:\n    - address: "2001:db8::1"\n    - address: "2001:DB8:0:0::1"\n'),
      [`${FILE}:5: www.targets[1]: address 2001:db8::1 is listed twice in pool www`],
    ],
    [
      'a duplicate target in another group',
      'www:\n  policy: failover\n  groups:\n    a:\n      targets: [{ address: 192.0.2.1 }]\n    b:\n      targets: [{ address: 192.0.2.1 }]\n',
      [`${FILE}:7: www.groups.b.targets[0]: address 192.0.2.1 is listed twice in pool www`],
    ],
    [
      'a three-letter region',
      target('address: 192.0.2.2, regions: [EUR]'),
      [`${FILE}:5: www.targets[1].regions: "EUR" is not a country or continent code (e.g. NL, EU) or "default"`],
    ],
    [
      'a numeric region',
      pool('  targets:\n    - address: 192.0.2.1\n      regions:\n        - NL\n        - 31\n'),
      [`${FILE}:7: www.targets[0].regions: "31" is not a country or continent code (e.g. NL, EU) or "default"`],
    ],
    [
      'a latitude beyond 90',
      target('address: 192.0.2.2, location: { lat: 90.5, lon: 0 }'),
      [`${FILE}:5: www.targets[1].location.lat: 90.5 is out of range -90..90`],
    ],
    [
      'a longitude beyond 180',
      pool('  targets:\n    - address: 192.0.2.1\n      location:\n        lat: 10\n        lon: -181\n'),
      [`${FILE}:7: www.targets[0].location.lon: -181 is out of range -180..180`],
    ],
    [
      'a location without lon',
      target('address: 192.0.2.2, location: { lat: 10 }'),
      [`${FILE}:5: www.targets[1].location: needs both lat and lon`],
    ],
    [
      'a location that is not a number',
      target('address: 192.0.2.2, location: { lat: north, lon: 4 }'),
      [`${FILE}:5: www.targets[1].location.lat: expected a number, got "north"`],
    ],
    [
      'a location that is not a mapping',
      target('address: 192.0.2.2, location: Amsterdam'),
      [`${FILE}:5: www.targets[1].location: expected a mapping`],
    ],
    [
      'a bias out of range',
      target('address: 192.0.2.2, bias: 100'),
      [`${FILE}:5: www.targets[1].bias: 100 is out of range -99..99`],
    ],
    [
      'a priority of 0',
      target('address: 192.0.2.2, priority: 0'),
      [`${FILE}:5: www.targets[1].priority: 0 is out of range 1..1000`],
    ],
    [
      'a sorry address that is none',
      pool('  fallback: [192.0.2.99, nowhere]\n  targets: [{ address: 192.0.2.1 }]\n'),
      [`${FILE}:3: www.fallback: "nowhere" is not all, none, or a list of sorry addresses`],
    ],
    [
      'a pool name that is no domain name',
      'a..b:\n  targets: [{ address: 192.0.2.1 }]\n',
      [`${FILE}:1: a..b: not a domain name: empty label in "a..b"`],
    ],
    ['a pool that is not a mapping', 'www: 192.0.2.1\n', [`${FILE}:1: www: expected a mapping`]],
    ['a file that is not a mapping', '- www\n', [`${FILE}:1: expected a mapping`]],
    [
      'a duplicate pool name',
      'www:\n  targets: [{ address: 192.0.2.1 }]\nwww:\n  targets: [{ address: 192.0.2.2 }]\n',
      [`${FILE}:3: Map keys must be unique`],
    ],
  ])('rejects %s', (_what, text, expected) => {
    const r = parse(text);
    expect(r.errors.map((e) => e.message)).toEqual(expected);
    expect(r.errors.every((e) => e.code === 'ERR_POOLS' && e.file === FILE)).toBe(true);
    expect(r.pools).toEqual([]);
  });

  it('rejects bad YAML with the line the YAML parser names', () => {
    const r = parse('www:\n  ttl: 20\n  targets: [{ address: 192.0.2.1 }\n');
    expect(r.pools).toEqual([]);
    expect(r.errors.map((e) => e.line)).toEqual([4]);
    expect(r.errors[0]!.message).toMatch(/^example\.com\.pools\.yaml:4: \S/);
  });

  it('reports every error of every pool, in line order, and loads none of the pools', () => {
    const r = parse(`good:
  targets: [{ address: 192.0.2.1 }]
bad:
  targets:
    - { address: 192.0.2.2, weight: 200 }
  ttl: -1
empty:
  targets: []
`);
    expect(r.pools).toEqual([]);
    expect(r.errors.map((e) => [e.line, e.reason])).toEqual([
      [5, 'bad.targets[0].weight: 200 is out of range 0..100'],
      [6, 'bad.ttl: -1 is out of range 0..86400'],
      [8, 'empty: a pool needs at least one target'],
    ]);
  });
});

describe('attachPools: joining pools to their zone', () => {
  const zoneText = `${HEAD}web   A     192.0.2.80
alias CNAME web
v6    AAAA  2001:db8::80
txt   TXT   "pool names may keep other types"
sub   NS    ns.sub
ns.sub A    192.0.2.53
moved DNAME example.net.
`;

  async function attach(pools: string) {
    const built = await build(zoneText);
    if (built.kind !== 'zone') throw new Error('test zone does not build');
    const parsed = parse(pools);
    expect(parsed.errors.map((e) => e.message)).toEqual([]);
    return attachPools(built.zone, parsed.pools);
  }

  it.each([
    [
      'static A data',
      'web:\n  targets: [{ address: 192.0.2.1 }]\n',
      1,
      'pool web: web.example.com. also has static A data in test.zone: a name is either a pool or static data',
    ],
    [
      'static AAAA data',
      'v6:\n  targets: [{ address: "2001:db8::1" }]\n',
      1,
      'pool v6: v6.example.com. also has static AAAA data in test.zone: a name is either a pool or static data',
    ],
    [
      'a CNAME',
      'alias: { targets: [{ address: 192.0.2.1 }] }\n',
      1,
      'pool alias: alias.example.com. also has static CNAME data in test.zone: a name is either a pool or static data',
    ],
    [
      'a delegation point',
      'sub:\n  targets: [{ address: 192.0.2.1 }]\n',
      1,
      'pool sub: sub.example.com. lies in the delegation sub.example.com.: its answers come from the child zone',
    ],
    [
      'a name under a delegation',
      '\nwww.sub:\n  targets: [{ address: 192.0.2.1 }]\n',
      2,
      'pool www.sub: www.sub.example.com. lies in the delegation sub.example.com.: its answers come from the child zone',
    ],
    [
      'a name below a DNAME',
      'www.moved:\n  targets: [{ address: 192.0.2.1 }]\n',
      1,
      'pool www.moved: www.moved.example.com. lies below the DNAME at moved.example.com., which redirects it (RFC 6672)',
    ],
    [
      'a name outside the zone',
      'www.example.org.:\n  targets: [{ address: 192.0.2.1 }]\n',
      1,
      'pool www.example.org.: www.example.org. is outside zone example.com.',
    ],
  ])('rejects a pool at %s, with file and line', async (_what, text, line, reason) => {
    const r = await attach(text);
    expect(r.errors.map((e) => [e.code, e.file, e.line, e.reason])).toEqual([['ERR_POOLS', FILE, line, reason]]);
    expect(r.zone.pools).toBeUndefined();
  });

  it('keeps other types at a pool name and creates the pool name and its empty non-terminals', async () => {
    const r = await attach('txt:\n  targets: [{ address: 192.0.2.1 }]\na.b.c:\n  targets: [{ address: 192.0.2.2 }]\n');
    expect(r.errors).toEqual([]);
    expect([...r.zone.pools!.keys()].map(nameToText)).toEqual(['txt.example.com.', 'a.b.c.example.com.']);
    expect(r.zone.nodes.get(key('txt'))!.rrsets.size).toBe(1);
    for (const name of ['a.b.c', 'b.c', 'c']) expect(r.zone.nodes.get(key(name))?.rrsets.size).toBe(0);
  });
});

describe('pools files in the zones directory', () => {
  const zone =
    '$TTL 1h\n@ SOA ns1 hostmaster 7 2h 15m 2w 5m\n  NS ns1\nns1 A 192.0.2.1\nweb A 192.0.2.80\nsub NS ns.sub\nns.sub A 192.0.2.53\n';

  it("serves the issue's example with its zone", async () => {
    const dir = await tempDir({ 'example.com.zone': zone, 'example.com.pools.yaml': ISSUE_EXAMPLE });
    const r = await loadZones(dir);
    expect(r.failures).toEqual([]);
    expect([...r.zones[0]!.pools!.values()].map((p) => [nameToText(p.def.name), p.def.file])).toEqual([
      ['www.example.com.', path.join(dir, 'example.com.pools.yaml')],
    ]);
  });

  it.each([
    [
      'static data',
      'web:\n  targets: [{ address: 192.0.2.9 }]\n',
      1,
      'pool web: web.example.com. also has static A data in %ZONE%: a name is either a pool or static data',
    ],
    [
      'a delegation',
      '# comment\nwww.sub:\n  targets: [{ address: 192.0.2.9 }]\n',
      2,
      'pool www.sub: www.sub.example.com. lies in the delegation sub.example.com.: its answers come from the child zone',
    ],
    [
      'a name outside the zone',
      'www.example.net.:\n  targets: [{ address: 192.0.2.9 }]\n',
      1,
      'pool www.example.net.: www.example.net. is outside zone example.com.',
    ],
    [
      'a bad key',
      'www:\n  targets: [{ address: 192.0.2.9, wieght: 2 }]\n',
      2,
      'www.targets[0].wieght: unknown key (known keys: address, weight, location, bias, priority, regions, check)',
    ],
  ])('fails the whole zone when its pools file has %s', async (_what, pools, line, reason) => {
    const dir = await tempDir({ 'example.com.zone': zone, 'example.com.pools.yaml': pools, 'example.net.zone': zone });
    const r = await loadZones(dir);
    const poolsFile = path.join(dir, 'example.com.pools.yaml');
    expect(r.zones.map((z) => nameToText(z.origin))).toEqual(['example.net.']);
    expect(r.failures.map((f) => [nameToText(f.origin), f.errors.map((e) => e.message)])).toEqual([
      ['example.com.', [`${poolsFile}:${line}: ${reason.replace('%ZONE%', path.join(dir, 'example.com.zone'))}`]],
    ]);
  });

  it('reports a pools file without its zone file and loads the rest', async () => {
    const dir = await tempDir({ 'example.com.zone': zone, 'example.org.pools.yaml': ISSUE_EXAMPLE });
    const r = await loadZones(dir);
    expect(r.zones).toHaveLength(1);
    expect(r.errors.map((e) => [e.code, e.message])).toEqual([
      [
        'ERR_POOLS',
        `${path.join(dir, 'example.org.pools.yaml')}: no zone file example.org.zone beside it: its pools cannot be served`,
      ],
    ]);
  });

  it('gslbd check prints each pools error as file:line: reason and exits 1', async () => {
    const dir = await tempDir({
      'example.com.zone': zone,
      'example.com.pools.yaml': 'www:\n  policy: fastest\n  targets: [{ address: 192.0.2.9 }]\n',
    });
    const r = await runCli(['check', '--zones', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${path.join(dir, 'example.com.pools.yaml')}:2: www.policy: "fastest" is not one of`);
  });
});
