// A running gslbd: zones in service, listeners, reload. The CLI builds one; tests start the CLI.

import { createHandler, type GslbInputs, type Handler, type QueryLogEntry, type UpdateHandler } from '../6-serve/handler.ts';
import { cachedGeo, openGeoDatabase, type GeoSpec } from '../3-geo/index.ts';
import type { GeoDatabase } from '../3-geo/types.ts';
import { allUp } from '../4-gslb/health-view.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { keyFromText, nameToText, type NameKey } from '../0-base/name.ts';
import { applyPoolEdits } from '../4-gslb/edits.ts';
import { applyEdits } from '../2-zone/overlay.ts';
import type { Changeset } from '../7-state/types.ts';
import { rrsetEditKey, type RRsetEdit, type RRsetEdits } from '../2-zone/types.ts';
import { Type } from '../0-base/constants.ts';
import { serialNewer, soaSerial } from '../0-base/serial.ts';
import { DnsListener, type ServerOptions } from '../6-serve/server.ts';
import { formatListen, type ListenAddress } from '../0-base/listen.ts';
import { GslbError } from '../0-base/errors.ts';
import type { Logger } from '../0-base/log.ts';
import { loadZones } from '../4-gslb/load.ts';
import { ZoneStore } from '../2-zone/store.ts';
import { HealthChecker, type Checks, type CheckStatus } from '../3-health/checker.ts';
import { systemClock } from '../3-health/clock.ts';
import { probers } from '../3-health/probers/index.ts';
import type { Transition } from '../3-health/types.ts';
import { TargetHealth } from '../7-state/target-health.ts';
import { JournaledStore } from '../7-state/store.ts';
import { CountMap, QueryCounters, type QueryCounts } from '../6-serve/counters.ts';
import { AnswerCache } from '../6-serve/cache.ts';
import { createMetrics, type Metrics } from '../8-metrics/registry.ts';
import { FUDGE, tsigKeysFromConfig, type TsigKeyConfig } from '../1-codec/tsig.ts';
import { createUpdateHandler } from '../8-update/rfc2136.ts';
import { DEFAULT_MAX_CHANGES } from '../7-state/editor.ts';
import { ApiServer } from '../8-api/server.ts';
import type { Operations } from '../8-api/types.ts';
import type { ApiOptions } from '../7-config/api-options.ts';
import { explain, type ExplainInputs } from '../5-answer/explain.ts';
import { describeTarget } from '../7-state/target-health.ts';

export interface ServiceOptions extends ServerOptions {
  readonly zonesDir: string;
  /** Addresses to serve; `required: false` ones (the defaults) only warn when they cannot be bound. */
  readonly listen: readonly { readonly address: ListenAddress; readonly required: boolean }[];
  readonly log: Logger;
  /** Where client locations come from; geoip-lite when absent. Opened only if a pool needs it. */
  readonly geo?: GeoSpec;
  /** Journal and snapshots (dynamic state, last known health); null keeps nothing across restarts. */
  readonly dataDir: string | null;
  /**
   * TSIG keys (`tsig:` in gslbd.yaml, `--tsig-key`) for RFC 2136 UPDATE, and for queries that are
   * signed; none: every update is refused, every signed query gets BADKEY.
   */
  readonly tsig?: readonly TsigKeyConfig[];
  /** Seconds: the largest TSIG fudge accepted, whatever a request asks (`--tsig-max-fudge`, default 300). */
  readonly tsigMaxFudge?: number;
  /** The HTTP API (`api:` in gslbd.yaml); absent: no API. */
  readonly api?: ApiOptions;
  /** Log every N-th query answered (`--query-log-sample N`); absent or 0: no query log. */
  readonly queryLogSample?: number;
  /** Most changes one API request or UPDATE may make (`--max-changes`); default DEFAULT_MAX_CHANGES. */
  readonly maxChanges?: number;
  /** The state store; default: journaled under `dataDir`. A cluster worker's is in memory, fed by its primary. */
  readonly state?: JournaledStore;
  /** Where check statuses come from; default: a HealthChecker probing from this process. */
  readonly checks?: Checks;
  /** Where RFC 2136 UPDATE messages go; default: this service's own handler (TSIG, journal). */
  readonly update?: UpdateHandler;
  /** Processes that answer DNS for this one (9-main/cluster/primary.ts); absent: it answers alone. */
  readonly followers?: Followers;
}

/**
 * Processes answering DNS for a service that keeps the journal, the probes and the API (the
 * workers of 9-main/cluster/primary.ts). The service tells them every change and asks for their counts.
 */
export interface Followers {
  /** A changeset was applied; its commit is acknowledged once this resolves (it never rejects). */
  changeset(cs: Changeset): Promise<void>;
  /** Check statuses: after a probe, that check's; when the set of checks changed, every one (`all`). */
  checks(statuses: readonly CheckStatus[], all: boolean): void;
  /** The zones were reloaded here; followers reload theirs. */
  reload(): Promise<void>;
  /** Their query counters, for /metrics and the status page. */
  counters(): Promise<readonly QueryCounts[]>;
}

/** A state change of a check, as logged and kept for the status page. */
export interface HealthEvent extends Transition {
  readonly check: string;
  readonly address: string;
  readonly port: number;
  readonly targets: readonly string[];
}

const HISTORY = 200;

const GEO_POLICIES = new Set(['geo-proximity', 'geo-map']);

/** True if answering this zone's pools may look up a client's location. */
function needsGeo(zone: PooledZone): boolean {
  for (const pool of zone.pools?.values() ?? []) {
    const d = pool.def;
    if (GEO_POLICIES.has(d.policy) || GEO_POLICIES.has(d.fallbackPolicy) || d.groups.some((g) => GEO_POLICIES.has(g.policy))) return true;
  }
  return false;
}

/**
 * The journal's RRsets to lay over a zone file: all of them, but the apex SOA only while its serial
 * is not older than the file's (RFC 1982). A file edited, its serial raised and reloaded after a
 * run-time change must be served under its own serial, not the journal's last bump; run-time
 * changes then bump from the file's serial.
 */
function overFile(file: PooledZone, edits: RRsetEdits | undefined): RRsetEdits | undefined {
  for (const [key, e] of edits ?? []) {
    if (e.type !== Type.SOA || keyFromText(e.name) !== file.origin || e.rdata.length === 0) continue;
    if (!serialNewer(file.serial, soaSerial(Buffer.from(e.rdata[0]!, 'hex')))) return edits;
    const rest = new Map(edits);
    rest.delete(key);
    return rest;
  }
  return edits;
}

export class Service {
  readonly zones = new ZoneStore<PooledZone>();
  readonly listeners: DnsListener[] = [];
  /** The HTTP API, while it listens. */
  api: ApiServer | null = null;

  /** The operator endpoints of the API (/metrics, /explain, /v1/status, /v1/reload). */
  readonly operations: Operations = {
    metrics: {
      get contentType() {
        return 'text/plain; version=0.0.4; charset=utf-8';
      },
      metrics: async () => {
        await this.#gatherCounters();
        return this.metrics.registry.metrics();
      },
    },
    explain: (req) => explain(this.#explainInputs(), req),
    status: async () => {
      await this.#gatherCounters();
      return this.status();
    },
    reload: () => this.reload(),
  };

  #explainInputs(): ExplainInputs {
    const now = Date.now();
    return {
      zones: this.zones,
      health: this.#inputs.health,
      geo: this.#inputs.geo,
      describe: (t) => describeTarget(this.checker, this.state, t, now),
    };
  }

  /** Zones, pools, targets with their state, and recent state changes: the status page's data. */
  status() {
    const now = Date.now();
    const answers = this.#reported.answers.counts;
    return {
      zones: this.zones.all().map((z) => ({
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
              const d = describeTarget(this.checker, this.state, t, now);
              const st = this.#inputs.health.status(t, now);
              const o = this.state.target(t.id)?.override;
              return {
                address: t.address,
                state: d.state,
                reason: d.reason,
                since: d.since,
                last_probe: d.lastProbe && { ok: d.lastProbe.ok, reason: d.lastProbe.reason, latency_ms: d.lastProbe.latencyMs, at: d.lastProbe.at },
                weight: st.weight ?? t.weight,
                configured_weight: t.weight,
                load: st.load ? { load: st.load.load, capacity: st.load.capacity, reported_at: st.load.reportedAt } : null,
                override: o && o.expiresAt > now ? o.value.state : null,
                answers: answers.get(`${pool}\t${t.address}`) ?? 0,
              };
            }),
          };
        }),
      })),
      events: this.history.map((e) => ({ at: e.at, from: e.from, to: e.to, reason: e.reason, targets: e.targets })),
    };
  }
  readonly handler: Handler;
  readonly state: JournaledStore;
  readonly checker: Checks;
  /** The latest health state changes, oldest first. */
  readonly history: HealthEvent[] = [];
  readonly counters = new QueryCounters();
  /** Encoded answers to questions no pool decides; emptied on every zone change. */
  readonly answerCache = new AnswerCache();
  /** What /metrics and the status page count: this process's queries, plus its followers' (#gatherCounters). */
  #reported = this.counters;
  /** Changes submitted through the API and UPDATE: `source\tresult`. */
  readonly updates = new CountMap();
  get maxChanges(): number {
    return this.#opts.maxChanges ?? DEFAULT_MAX_CHANGES;
  }
  readonly transitions = new CountMap();
  /** Changesets refused because the journal could not be written: `source kind`. */
  readonly notDurable = new CountMap();
  readonly metrics: Metrics = createMetrics({
    counters: () => this.#reported,
    updates: this.updates,
    transitions: this.transitions,
    notDurable: this.notDurable,
    zones: () => this.zones.all(),
    checks: () => this.checker.all(),
    health: () => this.#inputs.health,
    journalBytes: () => this.state.journalBytes,
  });
  /** Zones as their files have them; what is served has the journal's changes laid over. */
  readonly #fileZones = new Map<NameKey, PooledZone>();
  #opts: ServiceOptions;
  #inputs: GslbInputs = { health: allUp, geo: null, random: Math.random, now: Date.now };

  constructor(opts: ServiceOptions) {
    this.#opts = opts;
    let lastError = '';
    const onError = (err: unknown) => {
      // Logged once per distinct message so a packet flood cannot flood the log.
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      if (text !== lastError) opts.log.error({ err }, 'query failed: answered SERVFAIL');
      lastError = text;
    };
    const sample = opts.queryLogSample ?? 0;
    const queryLog = sample > 0 ? { sample, write: (e: QueryLogEntry) => opts.log.info(e, 'query') } : null;
    this.handler = createHandler({ zones: this.zones, onError, inputs: () => this.#inputs, counters: this.counters, queryLog, cache: this.answerCache });
    this.state = opts.state ?? new JournaledStore(opts.dataDir);
    // Run-time changes reach answers at once: the touched zones are re-published synchronously.
    this.state.onChange((cs) => this.#publishChange(cs));
    this.state.onNotDurable((source, err) => {
      this.notDurable.add(source.split(':')[0]!);
      opts.log.error({ source, err: err.cause.message }, 'change not made durable: not applied');
    });
    const followers = opts.followers;
    if (followers) this.state.onChange((cs) => followers.changeset(cs));
    this.checker = opts.checks ?? new HealthChecker({
      probers,
      clock: systemClock,
      random: Math.random,
      known: this.state.probes(),
      onTransition: (check, t) => this.#onTransition(check, t),
      onResult: (check, r) => {
        this.metrics.probe(check.spec.type, r.ok, r.latencyMs);
        followers?.checks([check], false);
      },
    });
    this.#inputs = { ...this.#inputs, health: new TargetHealth(this.checker, this.state) };
  }

  #onTransition(check: CheckStatus, t: Transition): void {
    const event: HealthEvent = { ...t, check: check.key, address: check.address, port: check.spec.port, targets: [...check.targets] };
    this.history.push(event);
    this.transitions.add(t.to);
    if (this.history.length > HISTORY) this.history.shift();
    this.#opts.log.warn(
      { targets: event.targets, check: `${check.spec.type} ${check.address}:${check.spec.port}`, from: t.from, to: t.to, reason: t.reason },
      `health: ${event.targets.join(', ')} ${t.from} -> ${t.to} (${t.reason})`,
    );
    // Journaled so a restart starts from the last known state instead of guessing.
    this.state.commit('probe', [{ kind: 'probe', check: check.key, state: t.to, since: t.at }]).catch((err: unknown) => {
      this.#opts.log.error({ err }, 'health state not journaled');
    });
  }

  /**
   * The location database, opened the first time `zones` (those in service, or about to be) have
   * a geo pool, and in use from when it answers. Opening does not stall answering: geoip-lite's
   * data (~40 MB of RSS) loads in slices of a few ms each. A primary with workers answers only
   * /explain but loads it too: loaded on the first lookup instead, it would either stall the
   * primary or explain the first requests without the client's location the workers answer by.
   */
  async #ensureGeo(zones: readonly PooledZone[] = this.zones.all()): Promise<void> {
    if (this.#inputs.geo || !zones.some(needsGeo)) return;
    const db: GeoDatabase = cachedGeo(await openGeoDatabase(this.#opts.geo ?? { type: 'geoip-lite' }));
    this.#inputs = { ...this.#inputs, geo: db };
    this.#opts.log.info({ geo: db.description }, 'client location database loaded');
  }

  /** Loads every zone (a zone with errors is left out and logged) and binds the listeners. */
  async start(): Promise<void> {
    // RFC 2136 UPDATE with TSIG; a bad key fails the start (ERR_CONFIG) before anything is bound.
    const keys = tsigKeysFromConfig(this.#opts.tsig ?? []);
    const maxFudge = this.#opts.tsigMaxFudge ?? FUDGE;
    this.handler.tsig = { keys, maxFudge };
    this.handler.onUpdate = this.#opts.update ?? createUpdateHandler({
      zones: this.zones, state: this.state, keys, maxFudge, now: Date.now, log: this.#opts.log, count: (result) => this.updates.add(`update\t${result}`),
      maxChanges: this.maxChanges,
    });
    const replay = await this.state.open();
    if (replay.droppedBytes) this.#opts.log.warn({ bytes: replay.droppedBytes }, 'journal: torn last record dropped');
    if (replay.changesets) this.#opts.log.info({ changesets: replay.changesets }, 'journal replayed');
    await this.reload();
    const log = this.#opts.log;
    for (const { address, required } of this.#opts.listen) {
      const l = new DnsListener(address, this.handler, this.#opts);
      try {
        await l.start();
      } catch (err) {
        if (required) {
          await this.stop();
          throw err;
        }
        log.warn({ address: formatListen(address), err: (err as Error).message }, 'default listen address skipped');
        continue;
      }
      this.listeners.push(l);
      const rcv = l.receiveBuffer();
      const bound = formatListen({ host: address.host, port: l.port });
      log.info({ address: bound, port: l.port, udpReceiveBuffer: rcv.granted }, 'listening');
      // Queries beyond the buffer are dropped by the kernel under a burst (bench/RESULTS.md, UDP bursts).
      if (rcv.capped) {
        log[rcv.configured ? 'warn' : 'info']({ address: bound, requested: rcv.requested, granted: rcv.granted, rmemMax: rcv.rmemMax },
          'UDP receive buffer smaller than asked: net.core.rmem_max caps it (sysctl net.core.rmem_max=BYTES raises it)');
      }
    }
    // No address asked for: a cluster primary, whose workers answer.
    if (this.#opts.listen.length && this.listeners.length === 0) throw new GslbError('ERR_LISTEN', 'no address could be bound');
    if (this.#opts.api) {
      const api = new ApiServer(this, this.#opts.api, log);
      try {
        await api.start();
      } catch (err) {
        await this.stop();
        throw new GslbError('ERR_LISTEN', `api listen ${formatListen(this.#opts.api.listen)}: ${(err as Error).message}`);
      }
      this.api = api;
    }
  }

  /**
   * Reads the zones directory again. A zone that loads replaces its previous version; one that
   * fails keeps its previous version in service; a zone whose file is gone is removed.
   */
  async reload(): Promise<{ loaded: number; failed: number }> {
    const log = this.#opts.log;
    const result = await loadZones(this.#opts.zonesDir);
    for (const w of result.warnings) log.warn({ warning: w.message }, 'zone warning');
    for (const e of result.errors) log.error({ error: e.message }, 'file not loaded');
    for (const f of result.failures) {
      const kept = this.zones.get(f.origin) ? 'previous version kept' : 'not served';
      for (const e of f.errors) log.error({ zone: nameToText(f.origin), error: e.message }, `zone failed to load: ${kept}`);
    }
    // The geo database before the zones that need it: a geo pool put in service without it would
    // answer every client by its fallback until it loads. Should it fail, nothing has changed yet.
    await this.#ensureGeo(result.zones);
    const present = new Set([...result.zones.map((z) => z.origin), ...result.failures.map((f) => f.origin)]);
    const gone = [...this.#fileZones.keys()].filter((o) => !present.has(o));
    for (const z of result.zones) this.#fileZones.set(z.origin, z);
    for (const o of gone) this.#fileZones.delete(o);
    if (gone.length) this.zones.remove(...gone);
    this.#publish(result.zones.map((z) => z.origin));
    for (const z of result.zones) log.info({ zone: nameToText(z.origin), serial: this.zones.get(z.origin)?.serial, names: z.nodes.size }, 'zone loaded');
    for (const o of gone) log.info({ zone: nameToText(o) }, 'zone removed');
    await this.#opts.followers?.reload();
    return { loaded: result.zones.length, failed: result.failures.length };
  }

  /**
   * Puts in service each zone of `origins` as its file has it with the run-time changes of the
   * journal laid over it (RRsets, pool targets), then lets the probe loops follow the pools.
   */
  #publish(origins: Iterable<NameKey>): void {
    const out: PooledZone[] = [];
    for (const origin of origins) {
      const file = this.#fileZones.get(origin);
      if (file) out.push(applyPoolEdits(applyEdits(file, overFile(file, this.state.rrsets(nameToText(origin)))), this.state));
    }
    if (out.length) this.zones.put(...out);
    this.#syncChecks();
  }

  /**
   * After a changeset: only its own changes go onto the zones in service (an update costs in
   * proportion to itself, not to every change made before it), and only the pools it names are
   * rebuilt (the others keep their rotation state).
   */
  #publishChange(cs: Changeset): void {
    const rrsets = new Map<NameKey, Map<string, RRsetEdit>>();
    const pools = new Map<NameKey, Set<NameKey>>();
    for (const c of cs.changes) {
      if (c.kind === 'rrset') {
        const origin = keyFromText(c.zone);
        let m = rrsets.get(origin);
        if (!m) rrsets.set(origin, (m = new Map()));
        m.set(rrsetEditKey(c.name, c.type), c);
      } else if (c.kind === 'target') {
        const pool = keyFromText(c.pool);
        const z = this.zones.find(pool);
        if (!z) continue;
        let s = pools.get(z.origin);
        if (!s) pools.set(z.origin, (s = new Set()));
        s.add(pool);
      }
    }
    const out: PooledZone[] = [];
    for (const origin of new Set([...rrsets.keys(), ...pools.keys()])) {
      let zone = this.zones.get(origin);
      if (!zone || !this.#fileZones.has(origin)) continue;
      zone = applyEdits(zone, rrsets.get(origin));
      const touched = pools.get(origin);
      if (touched) zone = applyPoolEdits(zone, this.state, this.#fileZones.get(origin)!, touched);
      out.push(zone);
    }
    if (out.length) this.zones.put(...out);
    if (pools.size) this.#syncChecks();
  }

  #syncChecks(): void {
    // Probe loops follow the pools in service: new checks start, removed ones stop.
    this.checker.sync(this.zones.all().flatMap((z) => [...(z.pools?.values() ?? [])].flatMap((p) => p.def.targets)));
    this.#opts.followers?.checks(this.checker.all(), true);
  }

  async #gatherCounters(): Promise<void> {
    const followers = this.#opts.followers;
    if (!followers) return;
    const sum = new QueryCounters();
    sum.merge(this.counters.counts());
    for (const c of await followers.counters()) sum.merge(c);
    this.#reported = sum;
  }


  async stop(): Promise<void> {
    // First, so requests in flight finish their commits before the journal closes.
    await this.api?.stop();
    this.api = null;
    this.checker.stop();
    await Promise.all(this.listeners.map((l) => l.stop()));
    this.listeners.length = 0;
    await this.state.close();
  }
}
