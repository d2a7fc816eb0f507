// /metrics: the Prometheus view of a running gslbd (prom-client). Every value is read from its
// owner when scraped; nothing here is on the query path.

import type { Counter, Registry } from 'prom-client';
import { lazy } from '../0-base/lazy.ts';
import { nameToText } from '../0-base/name.ts';
import type { HealthView } from '../4-gslb/health-view.ts';
import type { CheckStatus } from '../3-health/checker.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { CountMap, type QueryCounters } from '../6-serve/counters.ts';

/** Loaded with the first registry: a worker thread, which serves no /metrics, never loads it. */
const promClient = lazy<typeof import('prom-client')>('prom-client');
import type { HealthState } from '../3-health/types.ts';

/** What the registry reads from. */
export interface MetricSources {
  /** Read at each scrape: a primary's are the sum over its workers (cluster/). */
  counters(): QueryCounters;
  /** source kind (api, update, probe), result (applied, rejected). */
  readonly updates: CountMap;
  zones(): PooledZone[];
  checks(): CheckStatus[];
  health(): HealthView;
  /** The time targets' states are read at (expiries); default Date.now. */
  now?(): number;
  /** In a cluster: every node's live vote on a check (by check key); absent: no votes. */
  votes?(check: string): ReadonlyMap<string, { readonly state: HealthState }>;
  /** In a cluster: whether this node is detached from etcd, its last round trip (ms), the seq it has applied. */
  cluster?(): { readonly detached: boolean; readonly roundTripMs: number; readonly seq: number; readonly lag: number };
  /** In a cluster: each live node, and whether its zone and pools files are this node's (asked of etcd at each scrape). */
  clusterFiles?(): Promise<readonly { readonly node: string; readonly same: boolean }[]>;
  journalBytes(): number;
  /** How the last reading of gslbd.yaml on a reload went; null (or absent): no `--config`, no gauges. */
  config?(): { readonly ok: boolean; readonly loaded_at: number } | null;
  /** State changes so far, by direction (`up`, `down`). */
  readonly transitions: CountMap;
  /** Changesets refused because they could not be made durable, by source kind (api, update, probe). */
  readonly notDurable: CountMap;
  /** API connections closed for api.allow (`allow`) and requests answered 429 (`in-flight`); null: no API. */
  apiRefused?(): CountMap | null;
}

export interface Metrics {
  readonly registry: Registry;
  /** Called by the checker after each probe. */
  probe(type: string, ok: boolean, latencyMs: number): void;
}

const EMPTY_COUNTS = new CountMap();

function fromCountMap(labelNames: string[], map: () => CountMap) {
  return function collect(this: Counter<string>) {
    this.reset();
    for (const [labels, v] of map().entries()) {
      this.inc(Object.fromEntries(labelNames.map((n, i) => [n, labels[i] ?? ''])), v);
    }
  };
}

export function createMetrics(src: MetricSources): Metrics {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = promClient();
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gslbd_' });
  const reg = [registry];
  new Counter({
    name: 'gslbd_queries_total',
    help: 'DNS queries answered, by zone, query type, rcode and transport',
    labelNames: ['zone', 'qtype', 'rcode', 'transport'],
    registers: reg,
    collect: fromCountMap(['zone', 'qtype', 'rcode', 'transport'], () => src.counters().queries),
  });
  new Counter({
    name: 'gslbd_pool_answers_total',
    help: 'Times each pool target was handed out (traffic share)',
    labelNames: ['pool', 'target'],
    registers: reg,
    collect: fromCountMap(['pool', 'target'], () => src.counters().answers),
  });
  new Counter({
    name: 'gslbd_pool_fallback_total',
    help: 'Pool answers given by the fallback because no target was usable',
    labelNames: ['pool'],
    registers: reg,
    collect: fromCountMap(['pool'], () => src.counters().fallbacks),
  });
  new Counter({
    name: 'gslbd_answer_cache_total',
    help: 'Answer cache lookups of questions no pool decides, by result',
    labelNames: ['result'],
    registers: reg,
    collect: fromCountMap(['result'], () => src.counters().cache),
  });
  new Counter({
    name: 'gslbd_rrl_responses_total',
    help: 'UDP responses while response rate limiting is on, by class (answer, nxdomain, error, referral) and action: sent (within the rate), slipped (sent as a bare TC=1 reply, or BADCOOKIE to a client with a cookie), dropped, exempt (whitelisted, or a valid server cookie), logged (beyond the rate, sent in full: log-only)',
    labelNames: ['class', 'action'],
    registers: reg,
    collect: fromCountMap(['class', 'action'], () => src.counters().rrl),
  });
  new Counter({
    name: 'gslbd_dnssec_signatures_total',
    help: 'DNSSEC signatures (RRSIG) made for answers to DO=1 queries in signed zones',
    registers: reg,
    collect(this: Counter<string>) {
      this.reset();
      this.inc(src.counters().dnssec.counts.get('made') ?? 0);
    },
  });
  new Counter({
    name: 'gslbd_dnssec_signature_cache_total',
    help: 'Lookups of the signature cache, by result (hit: a signature made earlier in its validity window was reused)',
    labelNames: ['result'],
    registers: reg,
    collect(this: Counter<string>) {
      this.reset();
      const m = src.counters().dnssec.counts;
      this.inc({ result: 'hit' }, m.get('hit') ?? 0);
      this.inc({ result: 'miss' }, m.get('miss') ?? 0);
    },
  });
  new Counter({
    name: 'gslbd_cookies_total',
    help: 'DNS COOKIE options received while cookies are on, by result: client-only, valid, invalid (a server cookie not ours or expired), malformed (FORMERR); badcookie counts BADCOOKIE answers',
    labelNames: ['result'],
    registers: reg,
    collect: fromCountMap(['result'], () => src.counters().cookies),
  });
  new Counter({
    name: 'gslbd_updates_total',
    help: 'Changes submitted, by source and result',
    labelNames: ['source', 'result'],
    registers: reg,
    collect: fromCountMap(['source', 'result'], () => src.updates),
  });
  new Counter({
    name: 'gslbd_health_transitions_total',
    help: 'Health state changes of checks, by new state',
    labelNames: ['to'],
    registers: reg,
    collect: fromCountMap(['to'], () => src.transitions),
  });
  const probes = new Counter({
    name: 'gslbd_probes_total',
    help: 'Health probes, by check type and result',
    labelNames: ['type', 'result'],
    registers: reg,
  });
  const latency = new Histogram({
    name: 'gslbd_probe_duration_seconds',
    help: 'Health probe duration',
    labelNames: ['type', 'result'],
    registers: reg,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  });
  if (src.cluster) {
    const cluster = src.cluster;
    new Gauge({
      name: 'gslbd_cluster_detached',
      help: 'In a cluster: 1 while this node has not reached etcd for longer than vote-ttl (it answers by its own probes)',
      registers: reg,
      collect() {
        this.set(cluster().detached ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gslbd_etcd_round_trip_seconds',
      help: "In a cluster: the round trip to etcd of this node's last lease renewal",
      registers: reg,
      collect() {
        this.set(cluster().roundTripMs / 1000);
      },
    });
    const files = src.clusterFiles;
    if (files) {
      new Gauge({
        name: 'gslbd_cluster_files_differ',
        help: "In a cluster: 1 for a live node whose zone and pools files differ from this node's, else 0",
        labelNames: ['node'],
        registers: reg,
        async collect() {
          this.reset();
          // etcd unreachable: nothing to say (gslbd_cluster_detached says why).
          for (const m of await files().catch(() => [])) this.set({ node: m.node }, m.same ? 0 : 1);
        },
      });
    }
    new Gauge({
      name: 'gslbd_cluster_lag',
      help: "In a cluster: changesets committed that this node has not applied yet (etcd's head, read every 2 s, minus the applied seq)",
      registers: reg,
      collect() {
        this.set(cluster().lag);
      },
    });
    new Gauge({
      name: 'gslbd_cluster_applied_seq',
      help: 'In a cluster: the seq of the last changeset this node has applied (compare across nodes for lag)',
      registers: reg,
      collect() {
        this.set(cluster().seq);
      },
    });
  }
  new Gauge({
    name: 'gslbd_target_vote',
    help: "In a cluster: each node's live vote on a pool target's check, up (1) or down (0)",
    labelNames: ['pool', 'target', 'node'],
    registers: reg,
    collect() {
      this.reset();
      const votes = src.votes;
      if (!votes) return;
      const keyOf = new Map<string, string>();
      for (const c of src.checks()) for (const id of c.targets) keyOf.set(id, c.key);
      for (const z of src.zones()) {
        for (const [name, pool] of z.pools ?? []) {
          for (const t of pool.def.targets) {
            const key = keyOf.get(t.id);
            if (key === undefined) continue;
            for (const [node, v] of votes(key)) {
              this.set({ pool: nameToText(name), target: t.address, node }, v.state === 'up' ? 1 : 0);
            }
          }
        }
      }
    },
  });
  new Gauge({
    name: 'gslbd_target_up',
    help: 'Whether a pool target is usable now (1) or not (0), all signals combined',
    labelNames: ['pool', 'target'],
    registers: reg,
    collect() {
      this.reset();
      const health = src.health();
      const now = src.now?.() ?? Date.now();
      for (const z of src.zones()) {
        for (const [name, pool] of z.pools ?? []) {
          for (const t of pool.def.targets) {
            const st = health.status(t, now);
            const up = st.up && (st.weight ?? t.weight) > 0;
            this.set({ pool: nameToText(name), target: t.address }, up ? 1 : 0);
          }
        }
      }
    },
  });
  new Gauge({
    name: 'gslbd_check_up',
    help: 'State of each health check (1 up, 0 down)',
    labelNames: ['check'],
    registers: reg,
    collect() {
      this.reset();
      for (const c of src.checks())
        this.set({ check: `${c.spec.type}://${c.address}:${c.spec.port}` }, c.state === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gslbd_zone_serial',
    help: 'SOA serial of each zone in service',
    labelNames: ['zone'],
    registers: reg,
    collect() {
      this.reset();
      for (const z of src.zones()) this.set({ zone: nameToText(z.origin) }, z.serial);
    },
  });
  new Counter({
    name: 'gslbd_changes_not_durable_total',
    help: 'Changes refused, and applied nowhere, because the journal could not be written',
    labelNames: ['source'],
    registers: reg,
    collect: fromCountMap(['source'], () => src.notDurable),
  });
  new Counter({
    name: 'gslbd_api_refused_total',
    help: 'API connections closed because the client is not in api.allow (reason "allow"), and requests answered 429 past api.max-in-flight-per-client ("in-flight")',
    labelNames: ['reason'],
    registers: reg,
    collect: fromCountMap(['reason'], () => src.apiRefused?.() ?? EMPTY_COUNTS),
  });
  new Gauge({
    name: 'gslbd_journal_bytes',
    help: 'Size of the journal since the last snapshot',
    registers: reg,
    collect() {
      this.set(src.journalBytes());
    },
  });
  const config = src.config;
  if (config && config() !== null) {
    new Gauge({
      name: 'gslbd_config_last_reload_successful',
      help: 'Whether the last reading of gslbd.yaml (start or reload) took effect: 0 keeps the settings before it',
      registers: reg,
      collect() {
        this.set(config()?.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'gslbd_config_last_reload_success_timestamp_seconds',
      help: 'When the settings of gslbd.yaml in service were read',
      registers: reg,
      collect() {
        this.set((config()?.loaded_at ?? 0) / 1000);
      },
    });
  }
  return {
    registry,
    probe(type, ok, latencyMs) {
      const result = ok ? 'pass' : 'fail';
      probes.inc({ type, result });
      latency.observe({ type, result }, latencyMs / 1000);
    },
  };
}
