// Why a client gets the answer it gets: the candidates a pool considered, the health of each, the
// policy's scores, the chosen targets, the TTL and the ECS scope. Served at GET /explain and by
// `gslbd explain`. An explanation runs the real answer path on fresh policy instances, so asking
// never moves a pool's rotation.

import type { PooledZone } from '../4-gslb/pool.ts';
import net from 'node:net';
import { resolve } from './resolve.ts';
import { Type, typeFromName, typeName } from '../0-base/constants.ts';
import { keyFromText, nameToText } from '../0-base/name.ts';
import type { ClientSubnet } from '../1-codec/query.ts';
import type { Entry } from '../1-codec/response.ts';
import type { GeoDatabase, GeoLocation } from '../3-geo/types.ts';
import { makeClient } from '../4-gslb/client.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import { Pool, type PoolAnswer } from '../4-gslb/pool.ts';
import type { TargetDef } from '../4-gslb/types.ts';
import { rcodeName } from '../0-base/constants.ts';
import type { Client, PolicyContext } from '../3-policy/types.ts';
import type { ZoneSource } from '../2-zone/store.ts';
import { addressToText, isAddressType, parseIPv4, parseIPv6 } from '../0-base/address.ts';

export interface ExplainInputs {
  readonly zones: ZoneSource<PooledZone>;
  readonly health: HealthView;
  readonly geo: GeoDatabase | null;
  /** A target's state (up | down | drain), the signal that decided it, and its reason (7-state's describeTarget). */
  describe(target: TargetDef): { state: string; because: string; reason: string; votes?: Record<string, string> };
}

export interface ExplainRequest {
  readonly name: string;
  readonly type?: string;
  /** Query source address (no ECS). */
  readonly client?: string;
  /** ECS subnet, `203.0.113.0/24` or `2001:db8::/56`. */
  readonly subnet?: string;
}

/** A request that cannot be explained; `field` names the parameter at fault (the API's 400). */
export class ExplainError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** Parses `a.b.c.d/n` or `v6/n` into an ECS option's fields (bits past the prefix cleared). */
export function parseSubnet(text: string): ClientSubnet {
  const m = /^(.+)\/(\d{1,3})$/.exec(text);
  const addr = m?.[1] ?? text;
  const family = net.isIPv4(addr) ? 1 : net.isIPv6(addr) ? 2 : 0;
  if (family === 0) throw new ExplainError('subnet', `subnet "${text}": not an address/prefix`);
  const max = family === 1 ? 32 : 128;
  const prefix = m ? Number(m[2]) : max;
  if (prefix > max) throw new ExplainError('subnet', `subnet "${text}": prefix longer than ${max}`);
  const bytes = Buffer.from((family === 1 ? parseIPv4(addr) : parseIPv6(addr))!);
  for (let bit = prefix; bit < max; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { family, sourcePrefix: prefix, address: bytes };
}

function recordText(e: Entry, index: number): string {
  const rdata = e.rrset.rdata[index]!;
  const ttl = e.ttl ?? e.rrset.ttl;
  let data: string;
  if (isAddressType(e.rrset.type)) data = addressToText(rdata);
  else data = `\\# ${rdata.length} ${rdata.toString('hex')}`;
  return `${nameToText(e.owner)} ${ttl} IN ${typeName(e.rrset.type)} ${data}`;
}

export function explain(inputs: ExplainInputs, req: ExplainRequest, now = Date.now()) {
  const qtype = typeFromName(req.type ?? 'A');
  if (qtype === undefined) throw new ExplainError('type', `unknown type "${req.type}"`);
  let qname;
  try {
    qname = keyFromText(req.name.endsWith('.') ? req.name : `${req.name}.`);
  } catch (e) {
    throw new ExplainError('name', `name "${req.name}": ${(e as Error).message}`);
  }
  if (req.client !== undefined && !net.isIP(req.client))
    throw new ExplainError('client', `client "${req.client}": not an IP address`);
  const ecs = req.subnet !== undefined ? parseSubnet(req.subnet) : null;
  const client: Client = makeClient(req.client ?? '127.0.0.1', ecs, inputs.geo);
  const ctx: PolicyContext = { client, random: Math.random, now: () => now };
  const decisions: { pool: Pool; d: PoolAnswer }[] = [];
  // Fresh policy instances: an explanation must not advance the real pools' rotation.
  const fresh = new Map<Pool, Pool>();
  const zones: ZoneSource<PooledZone> = {
    get: (o) => inputs.zones.get(o),
    find: (n) => {
      const z = inputs.zones.find(n);
      if (!z?.pools) return z;
      const pools = new Map(
        [...z.pools].map(([k, p]) => {
          let f = fresh.get(p);
          if (!f) fresh.set(p, (f = new Pool(p.def)));
          return [k, f] as const;
        }),
      );
      return { ...z, pools };
    },
  };
  const answer = resolve(zones, {
    qname,
    qtype,
    gslb: { ctx, health: inputs.health },
    onPool: (pool, d) => decisions.push({ pool, d }),
  });
  const location: GeoLocation | null = client.location();
  return {
    query: { name: nameToText(qname), type: typeName(qtype), client: req.client ?? null, subnet: req.subnet ?? null },
    client: { address: client.address, prefix: client.prefix, location },
    zone: answer.zone === undefined ? null : nameToText(answer.zone),
    rcode: rcodeName(answer.rcode),
    answer: answer.answer.flatMap((e) => (e.pick ?? e.rrset.rdata.map((_, i) => i)).map((i) => recordText(e, i))),
    authority: answer.authority.flatMap((e) => e.rrset.rdata.map((_, i) => recordText(e, i))),
    ecs_scope: answer.ecsScope ?? 0,
    pools: decisions.map(({ pool, d }) => {
      const sel = d.selection;
      const family = d.rrset?.type === Type.AAAA || qtype === Type.AAAA ? 6 : 4;
      const targets = pool.def.targets.filter((t) => t.family === family);
      return {
        pool: nameToText(pool.def.name),
        policy: pool.def.policy,
        // The outer policy's verdict on each group: chosen or not, and its score (e.g. distance_km).
        ...(pool.def.groups.length && {
          groups: pool.def.groups.map((g, i) => ({
            name: g.name,
            policy: g.policy,
            chosen: d.groupSelection?.indexes.includes(i) ?? false,
            ...(d.groupSelection?.scores?.has(i) && { score: d.groupSelection.scores.get(i) }),
            ...(g.location && { location: g.location }),
          })),
          group_score_name: d.groupSelection?.scoreName ?? null,
        }),
        candidates: targets.map((t, i) => {
          const st = inputs.health.status(t, now);
          const c = d.candidates.find((x) => x.index === i);
          const why = inputs.describe(t);
          return {
            address: t.address,
            ...(t.group !== undefined && { group: pool.def.groups[t.group]!.name }),
            weight: st.weight ?? t.weight,
            usable: c !== undefined,
            state: why.state,
            because: why.because,
            reason: why.reason,
            ...(why.votes && { votes: why.votes }),
            ...(c && sel?.scores?.has(c.index) && { score: sel.scores.get(c.index) }),
            ...(t.location && { location: t.location }),
          };
        }),
        score_name: sel?.scoreName ?? null,
        chosen: d.pick ? d.pick.map((i) => d.targets[i]!.address) : d.targets.map((t) => t.address),
        fallback: d.fallback ? pool.def.fallback.kind : null,
        note: sel?.note ?? null,
        ttl: d.ttl,
        scope: d.scope,
      };
    }),
  };
}
