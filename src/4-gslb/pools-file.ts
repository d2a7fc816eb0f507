// `<origin>.pools.yaml`: the pools of one zone. Every key is documented in README.md (Pools).
// Errors are collected, each `file:line: path: reason`; a file with any error loads nothing.

import net from 'node:net';
import { normalizeAddress } from '../0-base/address.ts';
import { isMap, isScalar, type Node as YamlNode } from 'yaml';
import { Type } from '../0-base/constants.ts';
import { keyOf, nameToText, NameError, parseName, type NameKey } from '../0-base/name.ts';
import { SourceError } from '../0-base/errors.ts';
import { KNOWN_CONTINENTS, KNOWN_COUNTRIES } from '../3-geo/continents.ts';
import type { GeoPoint } from '../3-geo/types.ts';
import { POLICY_NAMES, type PolicyName } from '../3-policy/index.ts';
import type { Fallback, GroupDef, PoolDef, TargetDef } from './types.ts';
import type { CheckSpec } from '../3-health/types.ts';
import { MapReader, YamlSource } from '../0-base/yaml-reader.ts';

const POOL_KEYS = [
  'policy',
  'ttl',
  'min-ttl',
  'answers',
  'fallback',
  'fallback-policy',
  'check',
  'targets',
  'groups',
  'max-report-age',
  'answer-load',
  'tolerance',
] as const;
const TARGET_KEYS = ['address', 'weight', 'location', 'bias', 'priority', 'regions', 'check'] as const;
const GROUP_KEYS = ['policy', 'location', 'bias', 'priority', 'regions', 'targets'] as const;
const CHECK_KEYS = [
  'type',
  'host',
  'port',
  'interval',
  'timeout',
  'rise',
  'fall',
  'path',
  'expect',
  'body',
  'hostname',
  'insecure',
  'name',
  'qtype',
  'rcode',
  'initial',
  'fast-fail',
] as const;
/** Policies that choose among groups (the outer policy of a grouped pool). */
const GROUP_POLICIES: readonly PolicyName[] = [
  'geo-proximity',
  'geo-map',
  'failover',
  'weighted',
  'round-robin',
  'random',
  'affinity',
];
const DEFAULT_PORT: Record<CheckSpec['type'], number | undefined> = { tcp: undefined, http: 80, https: 443, dns: 53 };

export interface PoolsFileResult {
  readonly pools: PoolDef[];
  readonly errors: SourceError[];
}

/** Parses a pools file of zone `origin` (wire form). Pure: text in, pools or errors out. */
export function parsePoolsFile(text: string, file: string, origin: Buffer): PoolsFileResult {
  const src = new YamlSource(file, text, 'ERR_POOLS');
  const pools: PoolDef[] = [];
  if (src.root === null) return { pools, errors: src.errors };
  if (isScalar(src.root) && (src.root.value === null || src.root.value === '')) return { pools, errors: src.errors };
  const top = MapReader.of(src, src.root, '');
  if (!top) return { pools, errors: src.errors };
  const byName = new Map<NameKey, PoolDef>();
  for (const label of top.keys()) {
    const pool = readPool(src, top, label, origin);
    if (!pool) continue;
    // YAML keys differ by case where DNS names do not (RFC 4343 §3): `WWW` and `www` are one pool.
    const first = byName.get(pool.name);
    if (first) {
      src.errors.push(
        new SourceError(
          src.code,
          src.file,
          pool.line,
          `${label}: pool ${nameToText(pool.name)} is already defined at line ${first.line} as "${first.label}" (names are not case-sensitive)`,
        ),
      );
      continue;
    }
    byName.set(pool.name, pool);
    pools.push(pool);
  }
  // In file order, whichever pass found them: an operator fixes a file from the top.
  const errors = [...src.errors].sort((a, b) => a.line - b.line);
  return { pools: errors.length ? [] : pools, errors };
}

function readPool(src: YamlSource, top: MapReader, label: string, origin: Buffer): PoolDef | undefined {
  let wire: Buffer;
  try {
    wire = parseName(label, origin);
  } catch (e) {
    // The name is the key: point at its line, not at the pool's first setting.
    src.errors.push(
      new SourceError(src.code, src.file, top.line(label), `${label}: not a domain name: ${(e as NameError).message}`),
    );
    return undefined;
  }
  const m = MapReader.of(src, top.node(label), label);
  if (!m) return undefined;
  const errorsBefore = src.errors.length;
  m.only(POOL_KEYS);
  const name = keyOf(wire);
  const fqdn = nameToText(name);
  const policy = m.oneOf('policy', POLICY_NAMES) ?? 'round-robin';
  const ttl = m.number('ttl', 0, 86400) ?? 30;
  const check = m.has('check') ? readCheck(src, m, 'check') : null;
  const groups: GroupDef[] = [];
  const targets: TargetDef[] = [];
  const seen = new Set<string>();
  const addTargets = (owner: MapReader, group: number | undefined) => {
    for (const [i, node] of (owner.list('targets') ?? []).entries()) {
      const t = readTarget(src, node, `${owner.sub('targets')}[${i}]`, fqdn, check, group);
      if (!t) continue;
      if (seen.has(t.address)) {
        src.fail(node, `${owner.sub('targets')}[${i}]`, `address ${t.address} is listed twice in pool ${label}`);
        continue;
      }
      seen.add(t.address);
      targets.push(t);
    }
  };
  if (m.has('groups')) {
    if (m.has('targets')) m.fail('targets', 'a pool has either targets or groups of targets, not both');
    if (!GROUP_POLICIES.includes(policy)) m.fail('policy', `"${policy}" cannot choose among groups`);
    const gm = MapReader.of(src, m.node('groups'), m.sub('groups'));
    for (const gname of gm?.keys() ?? []) {
      const g = MapReader.of(src, gm!.node(gname), gm!.sub(gname));
      if (!g) continue;
      g.only(GROUP_KEYS);
      groups.push({
        name: gname,
        policy: g.oneOf('policy', POLICY_NAMES) ?? 'round-robin',
        ...placement(src, g),
        line: gm!.line(gname),
      });
      addTargets(g, groups.length - 1);
    }
  } else {
    addTargets(m, undefined);
  }
  // Only when nothing else in this pool failed: a target that did not parse already has its error.
  if (targets.length === 0 && src.errors.length === errorsBefore) m.fail(undefined, 'a pool needs at least one target');
  return {
    name,
    label,
    policy,
    fallbackPolicy: m.oneOf('fallback-policy', POLICY_NAMES) ?? 'weighted',
    ttl,
    minTtl: minTtl(m, ttl),
    answers: m.number('answers', 1, 64) ?? 1,
    fallback: readFallback(src, m),
    check: check ?? null,
    targets,
    groups,
    maxReportAgeMs: m.duration('max-report-age', 1000, 86_400_000) ?? 60_000,
    answerLoad: m.number('answer-load', 0, 1e9, false) ?? 1,
    tolerance: m.number('tolerance', 0, 10, false) ?? 0.05,
    file: src.file,
    // The line of the pool's name: where attach errors (static data, delegation) point.
    line: top.line(label),
  };
}

/**
 * The floor of the shortened TTL. One above `ttl` is refused rather than lowered: the operator
 * meant one of the two, and guessing which would hide the mistake.
 */
function minTtl(m: MapReader, ttl: number): number {
  const min = m.number('min-ttl', 0, 86400);
  if (min === undefined) return Math.min(1, ttl);
  if (min > ttl) m.fail('min-ttl', `${min} is above the pool's ttl ${ttl}${m.has('ttl') ? '' : ' (the default)'}`);
  return min;
}

/** Where a target or group is, for the geo and failover policies. */
function placement(src: YamlSource, m: MapReader): Pick<TargetDef, 'location' | 'bias' | 'priority' | 'regions'> {
  const out: { location?: GeoPoint; bias?: number; priority?: number; regions?: string[] } = {};
  if (m.has('location')) {
    const l = MapReader.of(src, m.node('location'), m.sub('location'));
    if (l) {
      l.only(['lat', 'lon']);
      const lat = l.number('lat', -90, 90, false);
      const lon = l.number('lon', -180, 180, false);
      if (!l.has('lat') || !l.has('lon')) l.fail(undefined, 'needs both lat and lon');
      else if (lat !== undefined && lon !== undefined) out.location = { lat, lon };
    }
  }
  const bias = m.number('bias', -99, 99);
  if (bias !== undefined) out.bias = bias;
  const priority = m.number('priority', 1, 1000);
  if (priority !== undefined) out.priority = priority;
  const regions = m.list('regions');
  if (regions) {
    out.regions = [];
    for (const r of regions) {
      const v = isScalar(r) ? String(r.value) : '';
      const code = v === 'default' ? v : v.toUpperCase();
      // A code no location database gives (a typo, `UK` for GB) would silently match no client.
      if (code === 'default' || KNOWN_COUNTRIES.has(code) || KNOWN_CONTINENTS.has(code)) out.regions.push(code);
      else src.fail(r, m.sub('regions'), `"${v}" is not a country or continent code (e.g. NL, EU) or "default"`);
    }
  }
  return out;
}

function readTarget(
  src: YamlSource,
  node: YamlNode,
  path: string,
  fqdn: string,
  poolCheck: CheckSpec | null | undefined,
  group: number | undefined,
): TargetDef | undefined {
  const m = MapReader.of(src, node, path);
  if (!m) return undefined;
  m.only(TARGET_KEYS);
  const address = m.string('address', true);
  if (address === undefined) return undefined;
  const family = net.isIPv4(address) ? 4 : net.isIPv6(address) ? 6 : 0;
  if (family === 0) return m.fail('address', `"${address}" is not an IPv4 or IPv6 address`);
  // A target may turn the pool's check off (`check: none`) or bring its own.
  let check = poolCheck ?? null;
  const own = m.node('check');
  if (isScalar(own) && (own.value === 'none' || own.value === false)) check = null;
  else if (m.has('check')) check = readCheck(src, m, 'check') ?? null;
  const normalized = normalizeAddress(address);
  return {
    id: `${fqdn}/${normalized}`,
    address: normalized,
    family,
    weight: m.number('weight', 0, 100) ?? 1,
    ...placement(src, m),
    check,
    ...(group === undefined ? {} : { group }),
    line: m.line(),
  };
}

function readFallback(src: YamlSource, m: MapReader): Fallback {
  const node = m.node('fallback');
  if (node === undefined || node === null) return { kind: 'all' };
  if (isScalar(node) && (node.value === 'all' || node.value === 'none')) return { kind: node.value };
  const items = m.list('fallback') ?? [];
  const addresses: string[] = [];
  for (const item of items) {
    const v = isScalar(item) ? String(item.value) : '';
    if (net.isIP(v)) addresses.push(normalizeAddress(v));
    else src.fail(item, m.sub('fallback'), `"${v}" is not all, none, or a list of sorry addresses`);
  }
  return { kind: 'sorry', addresses };
}

function readCheck(src: YamlSource, parent: MapReader, key: string): CheckSpec | undefined {
  const node = parent.node(key);
  if (!node || !isMap(node)) return parent.fail(key, 'expected a mapping like { type: tcp, port: 80 }');
  const m = new MapReader(src, node, parent.sub(key));
  m.only(CHECK_KEYS);
  const type = m.oneOf('type', ['tcp', 'http', 'https', 'dns'] as const);
  if (!type) return m.has('type') ? undefined : m.fail(undefined, 'missing "type" (tcp | http | https | dns)');
  const port = m.number('port', 1, 65535) ?? DEFAULT_PORT[type];
  if (port === undefined) return m.fail(undefined, `a ${type} check needs a port`);
  const intervalMs = m.duration('interval', 1000, 60_000) ?? 5000;
  const timeoutMs = m.duration('timeout', 100, 59_000) ?? Math.min(2000, intervalMs / 2);
  if (timeoutMs >= intervalMs) return m.fail('timeout', `must be shorter than the interval (${intervalMs / 1000}s)`);
  const host = m.string('host');
  if (host !== undefined && !net.isIP(host)) return m.fail('host', `"${host}" is not an IP address`);
  const expect: number[] = [];
  for (const e of m.list('expect') ?? []) {
    const v = isScalar(e) ? Number(e.value) : NaN;
    if (Number.isInteger(v) && v >= 100 && v <= 599) expect.push(v);
    else src.fail(e, m.sub('expect'), `"${isScalar(e) ? String(e.value) : '?'}" is not an HTTP status code`);
  }
  let query: CheckSpec['query'];
  if (type === 'dns') {
    const name = m.string('name', true);
    const qtypeText = m.string('qtype') ?? 'SOA';
    const qtype = (Type as Record<string, number>)[qtypeText.toUpperCase()];
    if (qtype === undefined) return m.fail('qtype', `unknown type "${qtypeText}"`);
    const rcodeText = (m.string('rcode') ?? 'NOERROR').toUpperCase();
    const rcode = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'].indexOf(rcodeText);
    if (rcode < 0) return m.fail('rcode', `unknown rcode "${rcodeText}"`);
    if (name === undefined) return undefined;
    query = { name, type: qtype, rcode };
  }
  const body = m.string('body');
  const hostHeader = m.string('hostname');
  const path = m.string('path') ?? '/';
  // They go into the request line and Host header as written (RFC 9112 §3, §3.2): a space or a
  // CR/LF would break the request or add header lines of its own.
  if (/[\s\p{Cc}]/u.test(path))
    return m.fail('path', `${JSON.stringify(path)} has a space or control character (percent-encode it)`);
  if (hostHeader !== undefined && !/^[A-Za-z0-9._\-:[\]]+$/.test(hostHeader)) {
    return m.fail(
      'hostname',
      `${JSON.stringify(hostHeader)} is not a host name (letters, digits, "-", "_", "." and an optional :port)`,
    );
  }
  return {
    type,
    ...(host === undefined ? {} : { host: normalizeAddress(host) }),
    port,
    intervalMs,
    timeoutMs,
    rise: m.number('rise', 1, 10) ?? 2,
    fall: m.number('fall', 1, 10) ?? 2,
    path,
    expect: expect.length ? expect : [200],
    ...(body === undefined ? {} : { body }),
    ...(hostHeader === undefined ? {} : { hostHeader }),
    insecure: m.boolean('insecure') ?? false,
    ...(m.has('initial') && { initial: m.oneOf('initial', ['up', 'down'] as const) ?? 'up' }),
    ...(m.boolean('fast-fail') && { fastFail: true }),
    ...(query ? { query } : {}),
  };
}
