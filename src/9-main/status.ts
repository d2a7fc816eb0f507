// The status page's data (/v1/status, `gslbd status`): zones, pools, each target's state in the
// verdict's words, and the latest health state changes.

import { nameToText } from '../0-base/name.ts';
import type { ZoneStore } from '../2-zone/store.ts';
import type { CheckStatus } from '../3-health/checker.ts';
import type { HealthState, Transition } from '../3-health/types.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { describeTarget, type CheckSource } from '../7-state/target-health.ts';
import { reasonText } from '../7-state/verdict.ts';
import type { Change, Changeset, StateStore } from '../7-state/types.ts';
import type { TargetDef } from '../4-gslb/types.ts';
import { Type, typeName } from '../0-base/constants.ts';

/** A state change of a check, as logged and kept for the status page. */
export interface HealthEvent extends Transition {
  readonly check: string;
  readonly address: string;
  readonly port: number;
  readonly targets: readonly string[];
}

export interface StatusSources {
  readonly zones: ZoneStore<PooledZone>;
  readonly checks: () => CheckSource;
  readonly state: StateStore;
  readonly health: () => HealthView;
  /** Answers given per target, keyed `pool\taddress` (summed over workers). */
  readonly answers: () => ReadonlyMap<string, number>;
  readonly now: () => number;
  /** In a cluster: every node's live vote on a check, `{ node: 'up' | 'down' }` (none without a check). */
  readonly votes?: (check: string | undefined) => Record<string, HealthState>;
}

const HISTORY = 200;

/** A change of any kind for the recent list: a probe verdict, or a committed change. */
export interface ChangeEvent {
  readonly at: number;
  /** probe, override, report (a monitor's health report), load, weight, target (added, removed), rrset */
  readonly kind: string;
  /** Who: `probe`, `api:<token name>`, `update:<key name>`, `transfer`. */
  readonly source: string;
  readonly targets: readonly string[];
  /** What changed, in words: `override drain`, `weight 0`, `load 3 of 10`. */
  readonly change: string;
  readonly reason: string;
  /** A probe verdict's states; for a change to a target, its state after it (`to`). */
  readonly from?: string;
  readonly to?: string;
}

/** A committed change in words (null: not listed: a probe's, listed by `record`; an SOA serial bump). */
function describeChange(c: Change): { kind: string; targets: string[]; change: string; reason: string } | null {
  switch (c.kind) {
    case 'override':
      return {
        kind: 'override',
        targets: [c.target],
        change: c.state ? `override ${c.state}` : 'override cleared',
        reason: c.reason,
      };
    case 'report':
      return {
        kind: 'report',
        targets: [c.target],
        change: c.state ? `health report ${c.state}` : 'health report cleared',
        reason: c.reason,
      };
    case 'load':
      return { kind: 'load', targets: [c.target], change: `load ${c.load} of ${c.capacity}`, reason: '' };
    case 'weight':
      return {
        kind: 'weight',
        targets: [c.target],
        change: c.weight === null ? 'weight as configured' : `weight ${c.weight}`,
        reason: '',
      };
    case 'target':
      return {
        kind: 'target',
        targets: [`${c.pool}/${c.address}`],
        change: c.target ? 'target added' : 'target removed',
        reason: '',
      };
    case 'rrset':
      // The serial bump every zone change carries (and a transfer's own) is not a change of its own.
      if (c.type === Type.SOA) return null;
      return {
        kind: 'rrset',
        targets: [],
        change: `${c.name} ${typeName(c.type)} ${c.rdata.length ? `set (${c.rdata.length} records)` : 'deleted'}`,
        reason: c.zone,
      };
    case 'probe':
      return null;
  }
}

export class StatusView {
  /** The latest changes of every kind, oldest first (at most 200; one load report per target). */
  readonly history: ChangeEvent[] = [];
  readonly #s: StatusSources;

  constructor(sources: StatusSources) {
    this.#s = sources;
  }

  #push(e: ChangeEvent): void {
    // A load report replaces the target's last one in the list: an agent reports every few seconds.
    if (e.kind === 'load') {
      const i = this.history.findIndex((h) => h.kind === 'load' && h.targets[0] === e.targets[0]);
      if (i >= 0) this.history.splice(i, 1);
    }
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
  }

  /** Keeps a check's state change for the status page; returns it as an event. */
  record(check: CheckStatus, t: Transition): HealthEvent {
    const event: HealthEvent = {
      ...t,
      check: check.key,
      address: check.address,
      port: check.spec.port,
      targets: [...check.targets],
    };
    this.#push({
      at: t.at,
      kind: 'probe',
      source: 'probe',
      targets: event.targets,
      change: `${t.from} → ${t.to}`,
      reason: t.reason,
      from: t.from,
      to: t.to,
    });
    return event;
  }

  /** Keeps a committed changeset's changes (overrides, reports, loads, weights, members, RRsets). */
  recordChangeset(cs: Changeset): void {
    let defs: Map<string, TargetDef> | null = null;
    for (const c of cs.changes) {
      const d = describeChange(c);
      if (!d) continue;
      let to: string | undefined;
      if (d.targets.length === 1 && c.kind !== 'rrset') {
        defs ??= this.#targets();
        const def = defs.get(d.targets[0]!);
        if (def) to = describeTarget(this.#s.checks(), this.#s.state, def, cs.at).state;
      }
      this.#push({ at: cs.at, source: cs.source, ...d, ...(to !== undefined && { to }) });
    }
  }

  /** Every target in service by its id (`pool./address`). */
  #targets(): Map<string, TargetDef> {
    const out = new Map<string, TargetDef>();
    for (const z of this.#s.zones.all())
      for (const p of z.pools?.values() ?? []) for (const t of p.def.targets) out.set(t.id, t);
    return out;
  }

  /** Each target's verdict now, keyed `pool\taddress` (the charts' state timeline). */
  verdicts(): Map<string, { state: string; because: string }> {
    const checks = this.#s.checks();
    const now = this.#s.now();
    const out = new Map<string, { state: string; because: string }>();
    for (const z of this.#s.zones.all())
      for (const p of z.pools?.values() ?? []) {
        const pool = nameToText(p.def.name);
        for (const t of p.def.targets) {
          const d = describeTarget(checks, this.#s.state, t, now);
          out.set(`${pool}\t${t.address}`, { state: d.state, because: d.because });
        }
      }
    return out;
  }

  /** Zones, pools, targets with their state, and recent state changes. */
  status() {
    const votes = this.#s.votes;
    const { zones, state } = this.#s;
    const checks = this.#s.checks();
    const health = this.#s.health();
    const answers = this.#s.answers();
    const now = this.#s.now();
    return {
      zones: zones.all().map((z) => ({
        zone: nameToText(z.origin),
        serial: z.serial,
        pools: [...(z.pools?.values() ?? [])].map((p) => {
          const pool = nameToText(p.def.name);
          return {
            pool,
            policy: p.def.policy,
            ttl: p.def.ttl,
            fallback: p.def.fallback.kind,
            targets: p.def.targets.map((t) => {
              const d = describeTarget(checks, state, t, now);
              const st = health.status(t, now);
              const o = state.target(t.id)?.override;
              return {
                address: t.address,
                state: d.state,
                because: d.because,
                reason: d.reason,
                // The reason in one line for people (reasonText), as the status page and `gslbd status` show it.
                reason_text: reasonText(d),
                since: d.since,
                last_probe: d.lastProbe && {
                  ok: d.lastProbe.ok,
                  reason: d.lastProbe.reason,
                  latency_ms: d.lastProbe.latencyMs,
                  at: d.lastProbe.at,
                },
                weight: st.weight ?? t.weight,
                configured_weight: t.weight,
                load: st.load
                  ? { load: st.load.load, capacity: st.load.capacity, reported_at: st.load.reportedAt }
                  : null,
                override: o && o.expiresAt > now ? o.value.state : null,
                answers: answers.get(`${pool}\t${t.address}`) ?? 0,
                ...(votes && { votes: votes(checks.statusOf(t.id)?.key) }),
              };
            }),
          };
        }),
      })),
      events: this.history.map((e) => ({ ...e })),
    };
  }
}
