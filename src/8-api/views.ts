// What the API shows: zones, RRsets, pools and targets as JSON, each with its version, and the
// lookups from URL parameters to the objects in service.
//
// Versions (sent as ETag, compared with If-Match):
// - a zone: its SOA serial, which every change to its data bumps;
// - an RRset: a hash of its TTL and records;
// - a pool: a hash of its definition and its targets' configuration (membership, weights as
//   configured, placement), not of their live state, so monitor reports do not make it move;
// - a target: a hash of its configuration and its dynamic state (weight set, load, report,
//   override): any change to it gives a new version.
// Hashes rather than journal positions: they need no bookkeeping, survive restarts, and two
// servers in the same state agree on them.

import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { normalizeAddress } from '../0-base/address.ts';
import { typeName } from '../0-base/constants.ts';
import { keyOf, NameError, nameToText, parseName, type NameKey } from '../0-base/name.ts';
import type { Pool } from '../4-gslb/pool.ts';
import { placementOf } from '../4-gslb/edits.ts';
import type { TargetDef } from '../4-gslb/types.ts';
import { unexpired } from '../7-state/verdict.ts';
import { describeTarget } from '../7-state/target-health.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import type { RRset } from '../1-codec/rrset.ts';
import { ApiError, badField, notFound } from './errors.ts';
import { rdataToText } from './rdata-text.ts';
import type { ApiBackend } from './types.ts';

export function versionOf(value: unknown): string {
  const json = JSON.stringify(value, (_k, v) => (v === Infinity ? null : v));
  return createHash('sha256').update(json).digest('base64url').slice(0, 16);
}

/**
 * RFC 9110 §13.1.1 If-Match: `*`, or a list of entity tags compared strongly (a weak tag never
 * matches). A batch change's `if_match` is one version, quoted or not.
 */
export function matches(ifMatch: string, version: string | undefined): boolean {
  if (version === undefined) return false;
  return ifMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t === `"${version}"` || t === version;
  });
}

/** `versionOf` runs only when there is an If-Match to compare with (it may hash a large pool). */
export function checkVersion(ifMatch: string | undefined, versionOf: () => string | undefined, what: string): void {
  if (ifMatch === undefined) return;
  const version = versionOf();
  if (matches(ifMatch, version)) return;
  const now = version === undefined ? 'it does not exist' : `its version is now "${version}"`;
  throw new ApiError(
    409,
    'ERR_VERSION',
    `${what} changed since you read it: ${now} (If-Match: ${ifMatch})`,
    'if_match',
  );
}

const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/** The zone named by a URL parameter (`example.com` or `example.com.`). */
export function findZone(b: ApiBackend, text: string, field = 'zone'): PooledZone {
  let key: NameKey;
  try {
    key = keyOf(parseName(text.endsWith('.') ? text : `${text}.`, null));
  } catch (e) {
    if (e instanceof NameError) throw badField(field, `not a domain name: ${e.message}`);
    throw e;
  }
  const zone = b.zones.get(key);
  if (!zone) throw notFound(field, `zone ${nameToText(key)} is not served here`);
  return zone;
}

/** A name inside `zone`: relative to its origin (`www`, `@`) or absolute (`www.example.com.`). */
export function nameIn(zone: PooledZone, text: string, field: string): NameKey {
  try {
    return keyOf(parseName(text, Buffer.from(zone.origin, 'latin1')));
  } catch (e) {
    if (e instanceof NameError) throw badField(field, `not a domain name: ${e.message}`);
    throw e;
  }
}

/** An address from a request, in its one text form (0-base/address.ts normalizeAddress). */
export function parseAddress(text: string, field: string): string {
  if (!isIP(text)) throw badField(field, `"${text}" is not an IPv4 or IPv6 address`);
  return normalizeAddress(text);
}

export function findPool(zone: PooledZone, text: string, field = 'pool'): Pool {
  const name = nameIn(zone, text, field);
  const pool = zone.pools?.get(name);
  if (!pool) throw notFound(field, `${nameToText(name)} is not a pool of zone ${nameToText(zone.origin)}`);
  return pool;
}

export function zoneSummary(zone: PooledZone) {
  return { zone: nameToText(zone.origin), serial: zone.serial, version: String(zone.serial) };
}

export function rrsetView(rrset: RRset) {
  const records = rrset.rdata.map((d) => rdataToText(rrset.type, d));
  return {
    name: nameToText(rrset.owner),
    type: typeName(rrset.type),
    ttl: rrset.ttl,
    records,
    version: rrsetVersion(rrset),
  };
}

export const rrsetVersion = (rrset: { ttl: number; rdata: readonly Buffer[] }): string =>
  versionOf([rrset.ttl, rrset.rdata.map((d) => d.toString('hex'))]);

export function zoneView(zone: PooledZone) {
  const rrsets = [];
  for (const node of zone.nodes.values()) for (const rrset of node.rrsets.values()) rrsets.push(rrsetView(rrset));
  return { ...zoneSummary(zone), pools: [...(zone.pools?.keys() ?? [])].map((k) => nameToText(k)), rrsets };
}

/** A target's configuration, as the pool file or the API gave it. */
function targetConfig(pool: Pool, t: TargetDef) {
  return {
    address: t.address,
    weight: t.weight,
    ...(t.group !== undefined && { group: pool.def.groups[t.group]?.name }),
    ...placementOf(t),
  };
}

export function poolVersion(pool: Pool): string {
  const d = pool.def;
  return versionOf([d.policy, d.ttl, d.answers, d.targets.map((t) => targetConfig(pool, t))]);
}

export function targetVersion(b: ApiBackend, pool: Pool, t: TargetDef): string {
  return versionOf([targetConfig(pool, t), b.state.target(t.id) ?? null]);
}

export function poolSummary(pool: Pool) {
  const d = pool.def;
  return {
    name: nameToText(d.name),
    policy: d.policy,
    ttl: d.ttl,
    targets: d.targets.length,
    version: poolVersion(pool),
  };
}

export function poolView(b: ApiBackend, zone: PooledZone, pool: Pool, now: number) {
  const d = pool.def;
  return {
    zone: nameToText(zone.origin),
    name: nameToText(d.name),
    policy: d.policy,
    ttl: d.ttl,
    answers: d.answers,
    fallback: d.fallback.kind,
    groups: d.groups.map((g) => ({ name: g.name, policy: g.policy })),
    version: poolVersion(pool),
    targets: d.targets.map((t) => targetView(b, pool, t, now)),
  };
}

export function targetView(b: ApiBackend, pool: Pool, t: TargetDef, now: number) {
  const st = b.state.target(t.id);
  const check = b.checker.statusOf(t.id);
  const [override, report, load] = [unexpired(st?.override, now), unexpired(st?.report, now), unexpired(st?.load, now)];
  const { state, because, reason } = describeTarget(b.checker, b.state, t, now);
  return {
    id: t.id,
    ...targetConfig(pool, t),
    // Drained and down targets take no share of answers.
    weight: { configured: t.weight, current: state === 'up' ? (st?.weight ?? t.weight) : 0 },
    state,
    because,
    reason,
    probe: check
      ? {
          state: check.state,
          since: iso(check.since),
          next_at: iso(check.nextAt),
          last: check.last && {
            ok: check.last.ok,
            reason: check.last.reason,
            latency_ms: check.last.latencyMs,
            at: iso(check.lastAt),
          },
        }
      : null,
    load: load ? { ...load.value, reported_at: iso(load.at), expires_at: iso(load.expiresAt) } : null,
    report: report ? { ...report.value, reported_at: iso(report.at), expires_at: iso(report.expiresAt) } : null,
    override: override ? { ...override.value, set_at: iso(override.at), expires_at: iso(override.expiresAt) } : null,
    version: targetVersion(b, pool, t),
  };
}
