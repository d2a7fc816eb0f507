// A pool in service: its targets split by address family, each family pre-encoded as one RRset
// (RR i is target i), and the policy instances that keep per-pool state (rotation, SWRR weights).
//
// One answer: health filter → (group policy →) policy → fail-open → TTL. The policy returns
// indexes; the response writer copies those RRs from the pre-encoded set.

import type { NameKey } from '../0-base/name.ts';
import { policies } from '../3-policy/index.ts';
import type { Candidate, LoadReport, Policy, PolicyContext, Selection } from '../3-policy/types.ts';
import { makeRRset } from '../1-codec/rrset.ts';
import type { RRset } from '../1-codec/rrset.ts';
import type { Zone } from '../2-zone/types.ts';
import { addressFamily, addressRdata, familyOfType, typeOfFamily } from '../0-base/address.ts';
import type { HealthView } from './health-view.ts';
import type { PoolDef, TargetDef } from './types.ts';

interface Family {
  readonly targets: readonly TargetDef[];
  /** RR i carries targets[i]. */
  readonly rrset: RRset;
  /** Over targets, or over groups when the pool has groups. */
  readonly policy: Policy;
  /** Inner policy of each group (same order as PoolDef.groups). */
  readonly groupPolicies: readonly Policy[];
  readonly sorry: RRset | null;
  /**
   * The candidate each target is while its weight is the configured one and no load report is
   * fresh (nearly always): made once here, so answering allocates no candidate objects.
   */
  readonly plain: readonly Candidate[];
}

/** What a pool decided for one query. */
export interface PoolAnswer {
  /** The RRset to answer from and which of its RRs; null: no address of this family (NODATA). */
  readonly rrset: RRset | null;
  readonly pick?: readonly number[];
  /** The targets `rrset` carries, RR i being targets[i] (empty for sorry addresses). */
  readonly targets: readonly TargetDef[];
  readonly ttl: number;
  readonly scope: number;
  /** True when no target was usable and the pool's `fallback` answered. */
  readonly fallback: boolean;
  /** The candidates that were considered and the policy's verdict, for /explain. */
  readonly candidates: readonly Candidate[];
  readonly selection: Selection | null;
  /** Pools with groups: the outer policy's choice, over group positions (PoolDef.groups). */
  readonly groupSelection?: Selection;
}

function makePolicy(def: PoolDef, name: PoolDef['policy']): Policy {
  return policies[name]({
    fallback: policies[def.fallbackPolicy]({}),
    answerLoad: def.answerLoad,
    tolerance: def.tolerance,
  });
}

/** Target i of a family as a policy sees it (one shape for every candidate: no optional spreads). */
function candidateOf(t: TargetDef, index: number, weight: number, load: LoadReport | undefined): Candidate {
  return {
    index,
    key: t.address,
    weight,
    location: t.location,
    bias: t.bias,
    priority: t.priority,
    regions: t.regions,
    load,
  };
}

export class Pool {
  readonly def: PoolDef;
  readonly #families: { 4: Family | null; 6: Family | null };

  constructor(def: PoolDef) {
    this.def = def;
    this.#families = { 4: this.#family(4), 6: this.#family(6) };
  }

  #family(family: 4 | 6): Family | null {
    const def = this.def;
    const targets = def.targets.filter((t) => t.family === family);
    if (targets.length === 0) return null;
    const type = typeOfFamily(family);
    const sorryAddresses =
      def.fallback.kind === 'sorry' ? def.fallback.addresses.filter((a) => addressFamily(a) === family) : [];
    return {
      targets,
      rrset: makeRRset(
        def.name,
        type,
        def.ttl,
        targets.map((t) => addressRdata(t.address)!),
      ),
      policy: makePolicy(def, def.policy),
      groupPolicies: def.groups.map((g) => makePolicy(def, g.policy)),
      sorry: sorryAddresses.length
        ? makeRRset(
            def.name,
            type,
            def.ttl,
            sorryAddresses.map((a) => addressRdata(a)!),
          )
        : null,
      plain: targets.map((t, i) => candidateOf(t, i, t.weight, undefined)),
    };
  }

  /** The targets answered for `qtype` (A or AAAA), in RR order. */
  targetsFor(qtype: number): readonly TargetDef[] {
    return this.#families[familyOfType(qtype)]?.targets ?? [];
  }

  answer(qtype: number, ctx: PolicyContext, health: HealthView): PoolAnswer {
    const def = this.def;
    const fam = this.#families[familyOfType(qtype)];
    if (!fam)
      return { rrset: null, targets: [], ttl: def.ttl, scope: 0, fallback: false, candidates: [], selection: null };
    const now = ctx.now();
    let nextChange = Infinity;
    const candidates: Candidate[] = [];
    for (let i = 0; i < fam.targets.length; i++) {
      const t = fam.targets[i]!;
      const st = health.status(t, now);
      if (st.nextChange !== undefined && st.nextChange < nextChange) nextChange = st.nextChange;
      const weight = st.weight ?? t.weight;
      if (!st.up || weight <= 0) continue;
      const fresh = st.load && now - st.load.reportedAt <= def.maxReportAgeMs ? st.load : undefined;
      candidates.push(weight === t.weight && !fresh ? fam.plain[i]! : candidateOf(t, i, weight, fresh));
    }
    // gdnsd's idea: never let a resolver cache an answer past the next moment it could change,
    // but not below the pool's floor either.
    const ttl = Number.isFinite(nextChange)
      ? Math.max(def.minTtl, Math.min(def.ttl, Math.floor((nextChange - now) / 1000)))
      : def.ttl;
    if (candidates.length === 0) {
      // Every target down or drained: the pool's `fallback` decides (fail open by default).
      const f = def.fallback;
      const rrset = f.kind === 'all' ? fam.rrset : f.kind === 'sorry' ? fam.sorry : null;
      return {
        rrset,
        targets: f.kind === 'all' ? fam.targets : [],
        ttl,
        scope: 0,
        fallback: true,
        candidates,
        selection: null,
      };
    }
    const grouped = def.groups.length ? this.#pickGrouped(fam, candidates, ctx) : null;
    const selection = grouped ? grouped.selection : fam.policy.pick(candidates, def.answers, ctx);
    return {
      rrset: fam.rrset,
      pick: selection.indexes,
      targets: fam.targets,
      ttl,
      scope: selection.scope,
      fallback: false,
      candidates,
      selection,
      ...(grouped && { groupSelection: grouped.outer }),
    };
  }

  /** The outer policy picks a group that has a usable target; the group's policy picks inside it. */
  #pickGrouped(fam: Family, candidates: Candidate[], ctx: PolicyContext): { selection: Selection; outer: Selection } {
    const groups = this.def.groups;
    const members: Candidate[][] = groups.map(() => []);
    for (const c of candidates) members[fam.targets[c.index]!.group!]!.push(c);
    const groupCandidates: Candidate[] = [];
    for (let g = 0; g < groups.length; g++) {
      const m = members[g]!;
      if (m.length === 0) continue;
      const gd = groups[g]!;
      groupCandidates.push({
        index: g,
        key: gd.name,
        weight: m.reduce((s, c) => s + c.weight, 0),
        ...(gd.location && { location: gd.location }),
        ...(gd.bias !== undefined && { bias: gd.bias }),
        ...(gd.priority !== undefined && { priority: gd.priority }),
        ...(gd.regions && { regions: gd.regions }),
      });
    }
    const outer = fam.policy.pick(groupCandidates, 1, ctx);
    const g = outer.indexes[0]!;
    const inner = fam.groupPolicies[g]!.pick(members[g]!, this.def.answers, ctx);
    // The answer depends on both choices: the narrower (longer) of the two scopes holds for both.
    const note = `group ${groups[g]!.name}${outer.note ? `; ${outer.note}` : ''}${inner.note ? `; ${inner.note}` : ''}`;
    return { selection: { ...inner, scope: Math.max(outer.scope, inner.scope), note }, outer };
  }
}

export type PoolMap = ReadonlyMap<NameKey, Pool>;

/** A zone with its pools attached (attach.ts): what is served and what the layers above read. */
export type PooledZone = Zone<Pool>;

const GEO_POLICIES = new Set(['geo-proximity', 'geo-map']);

/** True if answering this zone's pools may look up a client's location (a geo policy anywhere in a pool). */
export function usesGeo(zone: PooledZone): boolean {
  for (const pool of zone.pools?.values() ?? []) {
    const d = pool.def;
    if (
      GEO_POLICIES.has(d.policy) ||
      GEO_POLICIES.has(d.fallbackPolicy) ||
      d.groups.some((g) => GEO_POLICIES.has(g.policy))
    )
      return true;
  }
  return false;
}
