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
import type { StateStore } from '../7-state/types.ts';

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

export class StatusView {
  /** The latest health state changes, oldest first (at most 200). */
  readonly history: HealthEvent[] = [];
  readonly #s: StatusSources;

  constructor(sources: StatusSources) {
    this.#s = sources;
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
    this.history.push(event);
    if (this.history.length > HISTORY) this.history.shift();
    return event;
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
      events: this.history.map((e) => ({ at: e.at, from: e.from, to: e.to, reason: e.reason, targets: e.targets })),
    };
  }
}
