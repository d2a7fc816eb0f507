// A running gslbd: zones in service, listeners, reload. The CLI builds one; tests start the CLI.

import {
  createHandler,
  type GslbInputs,
  type Handler,
  type QueryLogEntry,
  type UpdateHandler,
} from '../6-serve/handler.ts';
import type { GeoSpec, SharedGeo } from '../3-geo/index.ts';
import { allUp } from '../4-gslb/health-view.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { nameToText } from '../0-base/name.ts';
import type { Changeset } from '../7-state/types.ts';
import type { ServedStore } from '../7-state/served.ts';
import type { StateSnapshot } from '../7-state/state.ts';
import { DnsListener, udpIo, type ServerOptions } from '../6-serve/server.ts';
import { formatListen, type ListenAddress } from '../0-base/listen.ts';
import { GslbError } from '../0-base/errors.ts';
import type { Logger } from '../0-base/log.ts';
import { loadZones } from '../4-gslb/load.ts';
import { ZoneStore } from '../2-zone/store.ts';
import { HealthChecker, type Checks, type CheckStatus } from '../3-health/checker.ts';
import { systemClock, type Clock } from '../3-health/clock.ts';
import { probers } from '../3-health/probers/index.ts';
import { IdleChecks } from '../3-health/idle.ts';
import type { Transition } from '../3-health/types.ts';
import { TargetHealth, describeTarget } from '../7-state/target-health.ts';
import { JournaledStore } from '../7-state/store.ts';
import type { QuorumChange } from '../7-state/quorum-checks.ts';
import type { ClusterOptions } from '../7-config/cluster-options.ts';
import { ClusterNode } from './cluster-node.ts';
import { ZonePublisher } from '../7-state/publisher.ts';
import { CountMap, QueryCounters, type QueryCounts } from '../6-serve/counters.ts';
import { AnswerCache } from '../6-serve/cache.ts';
import { ResponseLimiter, type RrlOptions } from '../6-serve/rrl.ts';
import { CookieSecrets, type CookieOptions } from '../1-codec/cookie.ts';
import { createMetrics, type Metrics } from '../8-metrics/registry.ts';
import { FUDGE, tsigKeysFromConfig, type TsigKeyConfig } from '../1-codec/tsig.ts';
import { createUpdateHandler } from '../8-update/rfc2136.ts';
import { DEFAULT_MAX_CHANGES } from '../7-state/editor.ts';
import { ApiServer } from '../8-api/server.ts';
import type { ConfigReport, Operations } from '../8-api/types.ts';
import type { ApiOptions } from '../7-config/api-options.ts';
import { ConfigError, readTlsFiles } from '../7-config/load.ts';
import { explain } from '../5-answer/explain.ts';
import { GeoLoader } from './geo-loader.ts';
import { StatusView } from './status.ts';
import { HISTORY_STEP_MS, StatusHistory, type HistorySample } from './history.ts';
import type { ZoneOptions } from '../7-config/zones-options.ts';
import { ZoneTransfers } from './zone-transfers.ts';
import { SecondaryZones } from './secondary-zones.ts';
import { answerNotify } from '../6-serve/notify.ts';
import path from 'node:path';
import type { NameKey } from '../0-base/name.ts';
import type { CatalogOptions } from '../7-config/catalog-options.ts';
import type { CatalogContent } from './catalog.ts';
import { CatalogZone } from './catalog-zone.ts';
import type { Signer } from '../5-answer/sign.ts';
import type { StoredKey } from '../7-state/dnssec-keys.ts';
import { SigningKeys, type DnssecSetup } from './signing-keys.ts';

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
  readonly state?: ServedStore;
  /** Several nameservers sharing state through etcd (`cluster:` in gslbd.yaml); absent: the local journal. */
  readonly cluster?: ClusterOptions;
  /** Where check statuses come from; default: a HealthChecker probing from this process. */
  readonly checks?: Checks;
  /** Where RFC 2136 UPDATE messages go; default: this service's own handler (TSIG, journal). */
  readonly update?: UpdateHandler;
  /** Processes that answer DNS for this one (9-main/cluster/primary.ts); absent: it answers alone. */
  readonly followers?: Followers;
  /** Time for answers, probes, expiries and the API; default: the system clock. Tests inject one. */
  readonly clock?: Clock;
  /** Randomness for policies and probe jitter; default: Math.random. Tests inject a seeded one. */
  readonly random?: () => number;
  /** Response rate limiting of UDP answers (`rrl:`), at `rate` per second in this process; absent: off. */
  readonly rrl?: RrlOptions;
  /** DNS Cookies (`cookies:`); absent: COOKIE options are ignored. */
  readonly cookies?: CookieOptions;
  /**
   * Reads again what a reload changes besides the zones (gslbd.yaml's `api` and `tsig`, the
   * command line's flags still winning); throws ConfigError. Absent (no `--config`): zones only.
   */
  readonly settings?: Settings;
  /** Per-zone settings (`zones-options:` in gslbd.yaml): who may transfer which zone. A reload reads them again (`settings`). */
  readonly zonesOptions?: readonly ZoneOptions[];
  /** Where secondary zones' copies are kept (`<data>/secondary`); default: under `dataDir`. Workers read the primary's. */
  readonly secondaryDir?: string | null;
  /** A worker: a NOTIFY it accepted for a secondary zone goes to the process that refreshes zones. */
  readonly notified?: (zone: NameKey) => void;
  /**
   * The catalog zone to generate (`catalog:` in gslbd.yaml, RFC 9432): its members are the zones
   * `zonesOptions` lets some secondary transfer. Read at start only.
   */
  readonly catalog?: CatalogOptions;
  /** A worker: the catalog as its primary made it (later ones come through `setCatalog`). */
  readonly catalogZone?: CatalogContent;
  /** Between two samples of the status page's charts, ms (GSLBD_HISTORY_STEP; default 10 s). */
  readonly historyStepMs?: number;
  /** Online signing (`dnssec:`): the keys, the algorithm and the signatures' validity (signing-keys.ts). */
  readonly dnssec?: DnssecSetup;
  /**
   * A worker: the geo database its primary opened, over the primary's memory (3-geo's
   * `SharedGeo`); later ones come through `setSharedGeo`. Absent: opened here when a pool needs it.
   */
  readonly sharedGeo?: SharedGeo;
  /** Tests' fault injection (a worker that dies on a query): the handler the listeners call. */
  readonly wrapHandler?: (h: Handler) => Handler;
}

/** What a reload reads from gslbd.yaml; `file` names it in logs and /v1/status. */
export interface Settings {
  readonly file: string;
  read(): Promise<{
    readonly api?: ApiOptions;
    readonly tsig: readonly TsigKeyConfig[];
    readonly tsigMaxFudge: number;
    readonly cookies?: CookieOptions;
    /** Absent: the zones-options in service are kept. */
    readonly zonesOptions?: readonly ZoneOptions[];
    /** Only compared with the catalog in service: a change takes effect at the next start. */
    readonly catalog?: CatalogOptions;
  }>;
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
  /** The TSIG keys were reloaded (already checked): followers verify and sign with these from now on. */
  tsig(keys: readonly TsigKeyConfig[], maxFudge: number): void;
  /** DNS Cookies' secrets were reloaded (null: cookies off): followers use these from now on. */
  cookies(cookies: CookieOptions | null): void;
  /** The signed zones' keys were read again (a rollover): followers sign with these from now on. */
  dnssec(keys: readonly StoredKey[]): void;
  /** zones-options were reloaded (already checked): followers transfer zones by these from now on. */
  zonesOptions(options: readonly ZoneOptions[]): void;
  /** The catalog zone changed: followers serve this one; resolves once they do (before its NOTIFY goes out). */
  catalog(content: CatalogContent): Promise<void>;
  /** The state was replaced whole (a cluster node caught up through a snapshot); followers take it. */
  restore(state: StateSnapshot): void;
  /** The geo database was opened here (before the zones needing it are reloaded): followers answer from it. */
  geo(shared: SharedGeo): void;
  /** Their query counters, for /metrics and the status page. */
  counters(): Promise<readonly QueryCounts[]>;
}

export class Service {
  readonly zones = new ZoneStore<PooledZone>();
  readonly listeners: DnsListener[] = [];
  /** The HTTP API, while it listens. */
  api: ApiServer | null = null;
  readonly handler: Handler;
  readonly state: ServedStore;
  readonly checker: Checks;
  readonly counters = new QueryCounters();
  /** Encoded answers to questions no pool decides; emptied on every zone change. */
  readonly answerCache = new AnswerCache();
  /** Changes submitted through the API and UPDATE: `source\tresult`. */
  readonly updates = new CountMap();
  readonly transitions = new CountMap();
  /** DNSSEC: signs answers to DO=1 queries in the signed zones; null without `dnssec:`. */
  readonly signer: Signer | null;
  /** Changesets refused because the journal could not be written: `source kind`. */
  readonly notDurable = new CountMap();
  #metrics: Metrics | null = null;
  /** The status page's data, with the latest health state changes. */
  readonly view: StatusView;
  /** The status page's charts: the last hour, sampled every step while the API runs. */
  readonly charts: StatusHistory;

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
    explain: (req) => {
      const now = this.#clock.now();
      const { health, geo } = this.#inputs;
      return explain(
        {
          zones: this.zones,
          health,
          geo,
          describe: (t) => {
            const d = describeTarget(this.checker, this.state, t, now);
            return this.#node ? { ...d, votes: this.#node.votesOf(this.checker.statusOf(t.id)?.key) } : d;
          },
        },
        req,
        now,
      );
    },
    status: async () => {
      await this.#gatherCounters();
      return {
        ...this.view.status(),
        ...(this.#config && { config: this.#config }),
        ...(this.signer && {
          dnssec: this.signer.describe(this.#clock.now()).map((z) => ({ ...z, zone: nameToText(z.zone) })),
        }),
      };
    },
    reload: async () => {
      const r = await this.reload();
      return { ...r, ...(this.#config && { config: this.#config }) };
    },
    cluster: async () => (this.#node ? this.#node.view() : null),
    history: async () => {
      await this.#gatherCounters();
      const answers = this.#reported.answers.counts;
      return this.charts.view({ at: this.#clock.now(), answers: this.#node?.liveAnswers(answers) ?? answers });
    },
  };

  /** What /metrics and the status page count: this process's queries, plus its followers' (#gatherCounters). */
  #reported = this.counters;
  readonly #opts: ServiceOptions;
  readonly #clock: Clock;
  readonly #publisher: ZonePublisher;
  readonly #geo: GeoLoader;
  readonly #health: TargetHealth;
  readonly #nodeMetrics: ReturnType<ClusterNode['metrics']> | undefined;
  /** This node of a cluster (`cluster:`); null alone, or in a worker. */
  readonly #node: ClusterNode | null;
  #inputs: GslbInputs;
  /** How the last reading of gslbd.yaml went; null without one. */
  #config: ConfigReport | null = null;
  /** Zone transfers, NOTIFY and the serial bumps for pools in transfers (zones-options). */
  readonly #transfers: ZoneTransfers;
  /** The signed zones' keys in service, and the key epoch last logged (#logKeySteps). */
  /** The signed zones' keys and their Signer (`dnssec:`); null without. */
  readonly #signing: SigningKeys | null;
  /** Origins of every zone file in the zones directory, loaded or not (the last reading). */
  #zoneFiles: ReadonlySet<NameKey> = new Set();
  /** Zones transferred from a primary (`primary:` in zones-options). */
  readonly #secondaries: SecondaryZones;
  /** The zones-options in service (a reload that fails its checks goes back to these). */
  #zonesOptions: readonly ZoneOptions[] = [];
  /** The catalog zone (`catalog:`); null without one. */
  readonly #catalog: CatalogZone | null;

  constructor(opts: ServiceOptions) {
    this.#opts = opts;
    const clock = (this.#clock = opts.clock ?? systemClock);
    const random = opts.random ?? Math.random;
    // The file read at start is the first reading; a reload's replaces this report.
    const readAt = clock.now();
    if (opts.settings)
      this.#config = { file: opts.settings.file, ok: true, error: null, loaded_at: readAt, read_at: readAt };
    this.#inputs = { health: allUp, geo: null, random, now: () => clock.now() };
    this.#geo = new GeoLoader(opts.geo, opts.log, {
      ...(opts.sharedGeo && { shared: opts.sharedGeo }),
      ...(opts.followers && { opened: (shared: SharedGeo) => opts.followers?.geo(shared) }),
    });
    let lastError = '';
    const onError = (err: unknown) => {
      // Logged once per distinct message so a packet flood cannot flood the log.
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      if (text !== lastError) opts.log.error({ err }, 'query failed: answered SERVFAIL');
      lastError = text;
    };
    const sample = opts.queryLogSample ?? 0;
    const queryLog = sample > 0 ? { sample, write: (e: QueryLogEntry) => opts.log.info(e, 'query') } : null;
    this.#signing = opts.dnssec
      ? new SigningKeys({
          dnssec: opts.dnssec,
          dataDir: opts.dataDir,
          clock,
          log: opts.log,
          onSignature: (result) => this.counters.signature(result),
          node: () => this.#node,
          ...(opts.cluster && { prefix: opts.cluster.prefix }),
          ...(opts.followers && { followers: opts.followers }),
        })
      : null;
    const signer = (this.signer = this.#signing?.signer ?? null);
    const handler = createHandler({
      zones: this.zones,
      onError,
      inputs: () => this.#inputs,
      counters: this.counters,
      queryLog,
      cache: this.answerCache,
      rrl: opts.rrl
        ? new ResponseLimiter(
            opts.rrl,
            () => clock.now(),
            (e) => opts.log.warn({ ...e }, `rrl: responses to ${e.prefix} beyond the rate`),
          )
        : null,
      signer,
    });
    this.handler = opts.wrapHandler ? opts.wrapHandler(handler) : handler;
    this.setCookies(opts.cookies ?? null);
    const node =
      opts.cluster && !opts.state
        ? new ClusterNode({
            cluster: opts.cluster,
            clock,
            dataDir: opts.dataDir,
            log: opts.log,
            onQuorumChange: (c) => this.#quorumChange(c),
            chartStepMs: opts.historyStepMs ?? HISTORY_STEP_MS,
          })
        : null;
    this.#node = node;
    const followers = opts.followers;
    this.#catalog = opts.catalog
      ? new CatalogZone({
          catalog: opts.catalog,
          zones: this.zones,
          zonesDir: opts.zonesDir,
          log: opts.log,
          // A worker's catalog is its primary's.
          serials: opts.state === undefined ? { dataDir: opts.dataDir, now: () => clock.now() } : null,
          ...(followers && { followers: (content: CatalogContent) => followers.catalog(content) }),
          notify: () => this.#transfers.notify(),
        })
      : null;
    this.state = opts.state ?? node?.store ?? new JournaledStore(opts.dataDir, () => clock.now());
    // Run-time changes reach answers at once: the touched zones are re-published synchronously,
    // after the changeset is durable and before it is acknowledged.
    this.#transfers = new ZoneTransfers({
      handler: this.handler,
      zones: this.zones,
      zonesDir: opts.zonesDir,
      log: opts.log,
      clock,
      health: () => this.#inputs.health,
      counters: this.counters,
      commit: (changes) => this.state.commit('transfer', changes),
      follower: opts.state !== undefined,
    });
    this.#secondaries = new SecondaryZones({
      dir: opts.secondaryDir !== undefined ? opts.secondaryDir : opts.dataDir && path.join(opts.dataDir, 'secondary'),
      zonesDir: opts.zonesDir,
      log: opts.log,
      clock,
      keys: () => this.handler.tsig.keys,
      changed: () => this.#queueLoad(),
      ...(opts.notified && { notified: opts.notified }),
    });
    this.#publisher = new ZonePublisher({
      zones: this.zones,
      state: this.state,
      onPoolsChanged: () => this.#syncChecks(),
    });
    this.state.onChange((cs) => this.#publisher.change(cs));
    // Published first (the listener above), so the serial read is the new one.
    this.state.onChange(() => this.#transfers.notify());
    node?.store.onReset(() => {
      this.#publisher.republish();
      opts.followers?.restore(node.store.snapshot());
    });
    this.state.onNotDurable((source, err) => {
      this.notDurable.add(source.split(':')[0]!);
      opts.log.error({ source, err: err.cause.message }, 'change not made durable: not applied');
    });
    if (followers) this.state.onChange((cs: Changeset) => followers.changeset(cs));
    // In a cluster a node's verdict is its vote, in effect once the live votes of every node decide
    // so (7-state/quorum-checks.ts); a node `probe-from` leaves out probes nothing. Alone, a verdict
    // takes the commit path (durable before visible).
    const local =
      opts.checks ??
      (node && !node.probes ? new IdleChecks(clock) : null) ??
      new HealthChecker({
        probers,
        clock,
        random,
        known: this.state.probes(),
        onTransition: (check, t) => {
          if (!node) return this.#onTransition(check, t);
          node.vote(check, t);
          opts.log.info(transitionFields(check, t), `health vote of ${node.name}: ${t.from} -> ${t.to}`);
          // Detached, this node's own verdict is what it answers by.
          if (node.votes.detached) this.#shown(check, t);
        },
        onResult: (check, r) => {
          this.metrics.probe(check.spec.type, r.ok, r.latencyMs);
          node?.afterProbe(check, r.reason);
          followers?.checks([check], false);
        },
        onShown: (check) => followers?.checks([check], false),
      });
    this.checker = node ? node.quorum(local) : local;
    const health = new TargetHealth(this.checker, this.state);
    this.#inputs = { ...this.#inputs, health };
    this.view = new StatusView({
      zones: this.zones,
      state: this.state,
      checks: () => this.checker,
      health: () => health,
      answers: () => this.#reported.answers.counts,
      now: () => clock.now(),
      ...(node && { votes: (check: string | undefined) => node.votesOf(check) }),
    });
    this.charts = new StatusHistory({ ...(opts.historyStepMs !== undefined && { stepMs: opts.historyStepMs }) });
    // Every committed change for the status page's recent list (probe verdicts come through record()).
    // Last, and never throwing: the list is for people, the change is made whatever becomes of it.
    this.state.onChange((cs) => {
      try {
        this.view.recordChangeset(cs);
      } catch (err) {
        opts.log.warn({ err: (err as Error).message, seq: cs.seq }, 'status page: change not listed');
      }
    });
    // What answers alone needs no registry (a worker thread: no probes, no /metrics): made at start.
    this.#health = health;
    this.#nodeMetrics = node?.metrics();
  }

  /** The Prometheus registry, made on first use (by `start`, unless this is a worker thread: prom-client is not loaded there). */
  get metrics(): Metrics {
    return (this.#metrics ??= this.#createMetrics());
  }

  #createMetrics(): Metrics {
    const health = this.#health;
    const clock = this.#clock;
    const node = this.#nodeMetrics;
    return createMetrics({
      counters: () => this.#reported,
      updates: this.updates,
      transitions: this.transitions,
      notDurable: this.notDurable,
      zones: () => this.zones.all(),
      checks: () => this.checker.all(),
      health: () => health,
      journalBytes: () => this.state.journalBytes,
      config: () => this.#config,
      apiRefused: () => this.api?.refused ?? null,
      now: () => clock.now(),
      ...node,
    });
  }

  /** The effective state of a check changed by the votes of the cluster's nodes. */
  #quorumChange(c: QuorumChange): void {
    const check = this.checker.byKey(c.check);
    if (!check) return;
    this.#shown(check, {
      from: c.from,
      to: c.to,
      at: this.#clock.now(),
      reason: `quorum: ${c.down} of ${c.live} nodes say down`,
    });
    this.#opts.followers?.checks(this.checker.all(), true);
  }

  /** A worker: the geo database its primary opened, for the zones it loads from now on. */
  setSharedGeo(shared: SharedGeo): void {
    this.#geo.shared = shared;
  }

  /** Every zone laid again from its file and the state, which was replaced whole (a worker told by its primary). */
  republish(): void {
    this.#publisher.republish();
  }

  /** Most changes one API request or UPDATE may make. */
  get maxChanges(): number {
    return this.#opts.maxChanges ?? DEFAULT_MAX_CHANGES;
  }

  /** The latest health state changes, oldest first. */
  get history() {
    return this.view.history;
  }

  /**
   * A probe verdict takes the one commit path: journaled, then shown (the checker shows it once
   * this resolves), then logged and kept for the status page. One that cannot be made durable is
   * not shown: answers keep the previous state, and the checker offers it again after its next probe.
   */
  async #onTransition(check: CheckStatus, t: Transition): Promise<void> {
    try {
      await this.state.commit('probe', [{ kind: 'probe', check: check.key, state: t.to, since: t.at }]);
    } catch (err) {
      this.#opts.log.error(
        { ...transitionFields(check, t), err: (err as Error).message },
        'health: verdict not made durable: not in effect, offered again after the next probe',
      );
      throw err;
    }
    this.#shown(check, t);
  }

  /** A verdict in effect: kept for the status page, counted and logged. */
  #shown(check: CheckStatus, t: Transition): void {
    const event = this.view.record(check, t);
    this.transitions.add(t.to);
    this.#opts.log.warn(
      transitionFields(check, t),
      `health: ${event.targets.join(', ')} ${t.from} -> ${t.to} (${t.reason})`,
    );
  }

  /** Loads every zone (a zone with errors is left out and logged) and binds the listeners. */
  async start(): Promise<void> {
    // Counting from the start (probe results, process metrics), unless a primary does it for this worker.
    if (this.#opts.state === undefined) void this.metrics;
    // RFC 2136 UPDATE with TSIG; a bad key fails the start (ERR_CONFIG) before anything is bound.
    this.setTsig(this.#opts.tsig ?? [], this.#opts.tsigMaxFudge ?? FUDGE);
    const handler = this.handler;
    this.handler.onUpdate =
      this.#opts.update ??
      createUpdateHandler({
        zones: this.zones,
        state: this.state,
        // Read at each message, so the keys a reload puts in the handler verify the next UPDATE too.
        get keys() {
          return handler.tsig.keys;
        },
        get maxFudge() {
          return handler.tsig.maxFudge;
        },
        now: () => this.#clock.now(),
        log: this.#opts.log,
        count: (result) => this.updates.add(`update\t${result}`),
        maxChanges: this.maxChanges,
      });
    this.#signing?.start();
    const replay = await this.state.open();
    await this.#node?.start();
    await this.#signing?.join();
    if (replay.droppedBytes) this.#opts.log.warn({ bytes: replay.droppedBytes }, 'journal: torn last record dropped');
    if (replay.changesets) this.#opts.log.info({ changesets: replay.changesets }, 'journal replayed');
    // The settings are the ones the service was made with: only the zones are read.
    this.#secondaries.configure(this.#opts.zonesOptions ?? []);
    await this.#loadZones();
    const log = this.#opts.log;
    try {
      this.setZonesOptions(this.#opts.zonesOptions ?? []);
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (this.#opts.catalogZone) this.setCatalog(this.#opts.catalogZone);
    await this.#catalog?.open();
    await this.#catalog?.update(this.#zonesOptions);
    // Batched UDP unless --io dgram; without the native module, dgram serves, and says so.
    const io = udpIo(this.#opts.io);
    if (io.fallback && this.#opts.listen.length)
      log.warn({ reason: io.fallback }, 'batched UDP unavailable: UDP is served through node:dgram');
    for (const { address, required } of this.#opts.listen) {
      const l = new DnsListener(address, this.handler, { ...this.#opts, io: io.io });
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
      log.info({ address: bound, port: l.port, udpReceiveBuffer: rcv.granted, io: io.io }, 'listening');
      // Queries beyond the buffer are dropped by the kernel under a burst (bench/RESULTS.md, UDP bursts).
      if (rcv.capped) {
        log[rcv.configured ? 'warn' : 'info'](
          { address: bound, requested: rcv.requested, granted: rcv.granted, rmemMax: rcv.rmemMax },
          'UDP receive buffer smaller than asked: net.core.rmem_max caps it (sysctl net.core.rmem_max=BYTES raises it)',
        );
      }
    }
    // The process that keeps the state refreshes secondary zones; a worker serves the copies it pulls.
    if (this.#opts.state === undefined) this.#secondaries.start();
    // No address asked for: a cluster primary, whose workers answer.
    if (this.#opts.listen.length && this.listeners.length === 0)
      throw new GslbError('ERR_LISTEN', 'no address could be bound');
    // A primary's workers answer for it: it says so once they do (ClusterPrimary).
    if (!this.#opts.followers) this.answering();
    if (this.#opts.api) {
      const tls = this.#opts.api.tls && (await readTlsFiles(this.#opts.api.tls));
      const api = new ApiServer(this, this.#opts.api, { log, now: () => this.#clock.now(), ...(tls && { tls }) });
      try {
        await api.start();
      } catch (err) {
        await this.stop();
        throw new GslbError(
          'ERR_LISTEN',
          `api listen ${formatListen(this.#opts.api.listen)}: ${(err as Error).message}`,
        );
      }
      this.api = api;
    }
    // A cluster node samples without an API too: its counts are in every other node's charts.
    if (this.#opts.api || this.#node) this.charts.start(this.#clock, () => this.#chartSample(), this.#opts.log);
  }

  /** DNS is answered on every address now: NOTIFY may go out (the ones held since the start first). */
  answering(): void {
    this.#transfers.answering();
  }

  /**
   * What the charts sample: the counts summed over the workers (and in a cluster, over the live
   * nodes), and each target's verdict (this node's, which with a quorum is every node's).
   */
  async #chartSample(): Promise<HistorySample> {
    await this.#gatherCounters();
    const queries = new Map<string, number>();
    for (const [[zone, , rcode], n] of this.#reported.queries.entries()) {
      const key = `${zone}\t${rcode}`;
      queries.set(key, (queries.get(key) ?? 0) + n);
    }
    const own = { queries, answers: this.#reported.answers.counts };
    const states = this.view.verdicts();
    return this.#node ? { ...(await this.#node.chartCounts(own)), states } : { ...own, states };
  }

  /**
   * The keys signed queries and UPDATEs are verified against (and answers signed with), from the
   * next message on. Throws GslbError ERR_CONFIG (nothing changed) for a key that does not check.
   */
  setTsig(configs: readonly TsigKeyConfig[], maxFudge: number): void {
    this.handler.tsig = { keys: tsigKeysFromConfig(configs), maxFudge };
  }

  /** The signed zones' keys from now on (a worker is told by its primary). */
  setDnssecKeys(keys: readonly StoredKey[]): void {
    this.#signing?.set(keys);
  }

  /** DNS Cookies' secrets from now on (null: cookies off): at start, and when a reload reads them. */
  setCookies(cookies: CookieOptions | null): void {
    this.handler.cookies = cookies ? CookieSecrets.of(cookies) : null;
  }

  /**
   * Zone transfers as `zones-options` allows them, for AXFR/IXFR from the next message on (see
   * ZoneTransfers.set). Throws GslbError ERR_CONFIG, changing nothing, for a zone with no file or a
   * transfer key that is not a TSIG key in service, and with `catalog:`, for a catalog nobody may
   * transfer or a zone file of its name (CatalogZone.filesFor).
   */
  setZonesOptions(options: readonly ZoneOptions[]): void {
    // The catalog has options of its own (its ACL and NOTIFY list) and no file.
    this.#transfers.set(options, this.#catalog?.filesFor(options, this.#zoneFiles) ?? this.#zoneFiles);
    this.#zonesOptions = options;
    this.#secondaries.configure(options);
    const log = this.#opts.log;
    this.handler.onNotify = this.#secondaries.origins.size
      ? (msg, via) =>
          answerNotify(msg, via.address, {
            tsig: () => this.handler.tsig,
            now: () => this.#clock.now(),
            accept: (zone, from, key) => {
              const v = this.#secondaries.accept(zone, from, key);
              if (v.ok) log.info({ zone: nameToText(zone), from }, 'NOTIFY accepted: refreshing the zone');
              return v;
            },
            refused: (fields) => log.info(fields, 'NOTIFY refused'),
          })
      : null;
  }

  /** A NOTIFY a worker accepted: the secondary zone is refreshed now. */
  notified(zone: NameKey): void {
    this.#secondaries.refresh(zone);
  }

  /** Puts this catalog in service: a worker's, given by its primary (which makes its own). */
  setCatalog(content: CatalogContent): void {
    this.#catalog?.put(content);
  }

  /**
   * gslbd.yaml read again: the API's tokens, allow list, in-flight limit and certificate, and the
   * TSIG keys (here and in the followers), all or nothing. A file with any error changes none of
   * them: each error is logged with its file and line, and /v1/status and
   * gslbd_config_last_reload_successful show it until a reading succeeds.
   */
  async #reloadSettings(): Promise<Awaited<ReturnType<Settings['read']>> | null> {
    const settings = this.#opts.settings;
    if (!settings || !this.#config) return null;
    const log = this.#opts.log;
    const readAt = this.#clock.now();
    let read;
    let tls;
    try {
      read = await settings.read();
      // Checked before anything is changed: a bad key or certificate keeps every old setting.
      tsigKeysFromConfig(read.tsig);
      tls = read.api?.tls && (await readTlsFiles(read.api.tls));
    } catch (err) {
      const errors = err instanceof ConfigError ? err.errors.map((e) => e.message) : [(err as Error).message];
      for (const error of errors)
        log.error({ file: settings.file, error }, 'config not reloaded: the tokens and TSIG keys in service are kept');
      this.#config = { ...this.#config, ok: false, error: errors.join('\n'), read_at: readAt };
      return null;
    }
    this.setTsig(read.tsig, read.tsigMaxFudge);
    this.#opts.followers?.tsig(read.tsig, read.tsigMaxFudge);
    this.setCookies(read.cookies ?? null);
    this.#opts.followers?.cookies(read.cookies ?? null);
    if (this.api && read.api) {
      for (const key of this.api.update(read.api, tls))
        log.warn({ file: settings.file, key }, `config: ${key} changed: it takes effect at the next start`);
    } else if (this.api || read.api) {
      log.warn({ file: settings.file, key: 'api' }, 'config: api changed: it takes effect at the next start');
    }
    if (read.catalog?.zone !== this.#opts.catalog?.zone)
      log.warn({ file: settings.file, key: 'catalog' }, 'config: catalog changed: it takes effect at the next start');
    this.#config = { file: settings.file, ok: true, error: null, loaded_at: readAt, read_at: readAt };
    log.info(
      {
        file: settings.file,
        tokens: this.api && read.api ? read.api.tokens.length : null,
        tsigKeys: read.tsig.length,
        cookies: read.cookies ? (read.cookies.previousSecret ? 'secret and previous-secret' : 'secret') : 'off',
      },
      'config reloaded: API tokens and TSIG keys',
    );
    return read;
  }

  /**
   * A reload's `zones-options`, put in service once the zones are read (a new zone and its options
   * come in the same reload), here and in the followers. One naming a zone with no file or a key
   * that is no TSIG key changes nothing: logged, and shown as the reading's error.
   */
  #reloadZonesOptions(options: readonly ZoneOptions[]): void {
    const log = this.#opts.log;
    const file = this.#opts.settings?.file;
    try {
      this.setZonesOptions(options);
    } catch (err) {
      // The secondary zones read with these options go back to the ones in service.
      this.#secondaries.configure(this.#zonesOptions);
      void this.#queueLoad();
      const error = (err as Error).message;
      log.error({ file, error }, 'config: zones-options not reloaded: the transfer settings in service are kept');
      if (this.#config) this.#config = { ...this.#config, ok: false, error };
      return;
    }
    this.#opts.followers?.zonesOptions(options);
    log.info({ file, zones: options.length }, 'config reloaded: zones-options');
  }

  /**
   * Reads gslbd.yaml's reloadable settings (#reloadSettings), then the zones directory again. A
   * zone that loads replaces its previous version; one that fails keeps its previous version in
   * service; a zone whose file is gone is removed.
   */
  reload(): Promise<{ loaded: number; failed: number }> {
    // One at a time, in call order (SIGHUP, `gslbd reload`, POST /v1/reload may come together): two
    // at once could read the files in one order and put them in service in the other.
    const run = this.#reloads.then(async () => {
      const read = await this.#reloadSettings();
      // A secondary zone and its options come in the same reload, as a zone file and its options do.
      if (read?.zonesOptions) this.#secondaries.configure(read.zonesOptions);
      await this.#signing?.reload();
      const loaded = await this.#loadZones();
      if (read?.zonesOptions) this.#reloadZonesOptions(read.zonesOptions);
      await this.#catalog?.update(this.#zonesOptions);
      return loaded;
    });
    this.#reloads = run.catch(() => undefined);
    return run;
  }

  /** The last reload asked for; the next one starts when it is done. */
  #reloads: Promise<unknown> = Promise.resolve();

  /** The zones read again, after the reloads asked for before (a secondary zone's copy changed). */
  #queueLoad(): Promise<void> {
    // A secondary zone's first copy may make it a member of the catalog.
    const run = this.#reloads.then(async () => {
      await this.#loadZones(true);
      await this.#catalog?.update(this.#zonesOptions);
    });
    this.#reloads = run.catch((err: unknown) => this.#opts.log.error({ err }, 'zones not loaded'));
    return run.then(
      () => undefined,
      () => undefined,
    );
  }

  /** `reuse`: a secondary zone built by the refresh that asked for this load is served as built. */
  async #loadZones(reuse = false): Promise<{ loaded: number; failed: number }> {
    const log = this.#opts.log;
    const files = await loadZones(this.#opts.zonesDir, this.#secondaries.origins);
    const copies = await this.#secondaries.load(reuse);
    const result = {
      ...files,
      zones: [...files.zones, ...copies.zones],
      failures: [...files.failures, ...copies.failures],
    };
    await this.#node?.filesLoaded(this.#opts.zonesDir);
    for (const w of result.warnings) log.warn({ warning: w.message }, 'zone warning');
    for (const e of result.errors) log.error({ error: e.message }, 'file not loaded');
    for (const f of result.failures) {
      const kept = this.zones.get(f.origin) ? 'previous version kept' : 'not served';
      for (const e of f.errors)
        log.error({ zone: nameToText(f.origin), error: e.message }, `zone failed to load: ${kept}`);
    }
    // The geo database before the zones that need it: a geo pool put in service without it would
    // answer every client by its fallback until it loads. Should it fail, nothing has changed yet.
    const geo = await this.#geo.ensure(result.zones);
    if (geo && !this.#inputs.geo) this.#inputs = { ...this.#inputs, geo };
    const present = new Set([...result.zones.map((z) => z.origin), ...result.failures.map((f) => f.origin)]);
    this.#zoneFiles = new Set([...files.zones.map((z) => z.origin), ...files.failures.map((f) => f.origin)]);
    // The catalog is generated: a file of its name is never served (setZonesOptions reports it).
    this.#catalog?.dropFile(result.zones);
    const gone = this.#publisher.files(result.zones, present);
    for (const z of result.zones)
      log.info(
        { zone: nameToText(z.origin), serial: this.zones.get(z.origin)?.serial, names: z.nodes.size },
        'zone loaded',
      );
    for (const o of gone) log.info({ zone: nameToText(o) }, 'zone removed');
    // A zone listed under dnssec.zones but not served is most likely a typo in either place.
    for (const z of this.#opts.dnssec?.zones ?? [])
      if (!this.zones.get(z))
        log.warn({ zone: nameToText(z) }, 'dnssec: a zone to sign is not served: nothing signed for it');
    await this.#opts.followers?.reload();
    this.#transfers.notify();
    return { loaded: result.zones.length, failed: result.failures.length };
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
    this.charts.stop();
    this.checker.stop();
    this.#transfers.stop();
    this.#secondaries.stop();
    this.#signing?.stop();
    await this.#node?.stop();
    await Promise.all(this.listeners.map((l) => l.stop()));
    // Answers the kernel took only once the socket was writable again (EAGAIN): none were dropped.
    for (const l of this.listeners)
      this.#opts.log.debug({ address: formatListen(l.address), ...l.udpStats() }, 'UDP sends');
    this.listeners.length = 0;
    await this.state.close();
  }
}

function transitionFields(check: CheckStatus, t: Transition) {
  return {
    targets: [...check.targets],
    check: `${check.spec.type} ${check.address}:${check.spec.port}`,
    from: t.from,
    to: t.to,
    reason: t.reason,
  };
}
