// The primary of `gslbd serve --workers N` (N > 1): the process's main thread. It keeps what must
// happen once: the journal (one writer), the health probes (one probe loop per endpoint), the HTTP
// API, signals and configuration. It answers no DNS itself: N worker threads do (worker.ts), each
// with UDP and TCP sockets of its own on the same addresses (SO_REUSEPORT), following the
// primary's state, and answering geo pools from the primary's geo tables (shared memory).

import { keyFromText } from '../../0-base/name.ts';
import { Worker } from 'node:worker_threads';
import type { ListenAddress } from '../../0-base/listen.ts';
import { MessageStream } from '../../6-serve/transfer.ts';
import { DnsListener } from '../../6-serve/server.ts';
import { formatListen } from '../../0-base/listen.ts';
import { GslbError } from '../../0-base/errors.ts';
import type { CheckStatus } from '../../3-health/checker.ts';
import type { Logger } from '../../0-base/log.ts';
import { QueryCounters, type QueryCounts } from '../../6-serve/counters.ts';
import { Service, type Followers, type ServiceOptions } from '../service.ts';
import type { Changeset } from '../../7-state/types.ts';
import type { CatalogContent } from '../catalog.ts';
import { checkUpdate, type CheckUpdate, type FromWorker, type ToWorker, type WorkerOptions } from './messages.ts';

/** The worker threads' module: worker.ts, or its built .js beside this file. */
const WORKER = new URL(`./worker${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url);

/** A worker that has not applied a changeset by then no longer holds its commit back (it is logged). */
const APPLY_TIMEOUT_MS = 2000;
/** /metrics waits this long for a worker's counters, then uses the last ones it sent. */
const COUNTERS_TIMEOUT_MS = 1000;
const RELOAD_TIMEOUT_MS = 60_000;
/** A worker that lived this long before dying is restarted at once; one that keeps dying sooner waits. */
const STABLE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
/** Each worker thread's young generation, MB. */
const YOUNG_MB = 6;
/** SIGTERM: how long workers get to finish their answers in flight before they are terminated. */
const STOP_TIMEOUT_MS = 5000;

/** One worker position (1..N), kept across restarts of its thread. */
interface Slot {
  readonly n: number;
  /** Its thread, until it exits. */
  proc: Worker | null;
  /** Sent its start (a snapshot): from then on it gets every changeset and check status. */
  following: boolean;
  /** Answering. */
  ready: boolean;
  forkedAt: number;
  /** Deaths in a row, each within STABLE_MS of its start. */
  quickDeaths: number;
  restart: NodeJS.Timeout | null;
  /** A reload came while it was starting: it reloads once ready. */
  reloadWhenReady: boolean;
  /** The last counters it sent: what it had counted, should it die before the next scrape. */
  counts: QueryCounts | null;
  /** Changesets sent and not yet applied, by seq; replies awaited, by request id. */
  readonly applied: Map<number, () => void>;
  readonly replies: Map<number, (m: FromWorker | null) => void>;
}

export class ClusterPrimary {
  readonly service: Service;
  readonly #log: Logger;
  readonly #listen: ServiceOptions['listen'];
  /** The options workers start with; `listen` fixed once the addresses are reserved. */
  #options: WorkerOptions;
  readonly #slots: Slot[];
  /** Counts of workers that died, so the sums /metrics shows never go down. */
  readonly #retired = new QueryCounters();
  /** Probe results waiting to go out together (many checks may report in one tick). */
  readonly #pendingChecks = new Map<string, CheckUpdate>();
  #nextId = 1;
  #serving = false;
  #stopping = false;

  constructor(opts: ServiceOptions, workers: number) {
    const {
      log,
      dataDir: _d,
      api: _a,
      state: _s,
      checks: _c,
      update: _u,
      followers: _f,
      cluster: _cl,
      clock: _cn,
      random: _r,
      settings: _st,
      ...shared
    } = opts;
    this.#log = log;
    this.#listen = opts.listen;
    // Each worker limits to its share of the rate: SO_REUSEPORT spreads a client's queries over the
    // workers by source port, so N shares add up to the configured rate (README: Rate limiting).
    this.#options = shared.rrl ? { ...shared, rrl: { ...shared.rrl, rate: shared.rrl.rate / workers } } : shared;
    this.#slots = Array.from({ length: workers }, (_, i) => ({
      n: i + 1,
      proc: null,
      following: false,
      ready: false,
      forkedAt: 0,
      quickDeaths: 0,
      restart: null,
      reloadWhenReady: false,
      counts: null,
      applied: new Map(),
      replies: new Map(),
    }));
    const followers: Followers = {
      changeset: (cs) => this.#changeset(cs),
      checks: (statuses, all) => this.#checks(statuses, all),
      reload: () => this.#reloadWorkers(),
      tsig: (keys, maxFudge) => {
        // A worker started later (or restarted) starts with these.
        this.#options = { ...this.#options, tsig: keys, tsigMaxFudge: maxFudge };
        this.#broadcast({ type: 'tsig', keys, maxFudge });
      },
      cookies: (cookies) => {
        const { cookies: _old, ...rest } = this.#options;
        this.#options = cookies ? { ...rest, cookies } : rest;
        this.#broadcast({ type: 'cookies', cookies });
      },
      dnssec: (keys) => {
        if (!this.#options.dnssec) return;
        this.#options = { ...this.#options, dnssec: { ...this.#options.dnssec, keys } };
        this.#broadcast({ type: 'dnssec', keys });
      },
      zonesOptions: (options) => {
        this.#options = { ...this.#options, zonesOptions: options };
        this.#broadcast({ type: 'zones-options', options });
      },
      catalog: (content) => this.#catalog(content),
      geo: (geo) => {
        // A worker started later is given it in its start options.
        this.#options = { ...this.#options, sharedGeo: geo };
        this.#broadcast({ type: 'geo', geo });
      },
      restore: (state) => {
        for (const slot of this.#slots)
          if (slot.proc && slot.following) this.#send(slot.proc, { type: 'restore', state });
      },
      counters: () => this.#counters(),
    };
    this.service = new Service({ ...opts, listen: [], followers });
  }

  /** Starts the service (journal, zones, probes, API), then the workers; resolves when all answer. */
  async start(): Promise<void> {
    await this.service.start();
    for (let attempt = 1; ; attempt++) {
      try {
        const addresses = await this.#reserve();
        this.#options = { ...this.#options, listen: addresses.map((address) => ({ address, required: true })) };
        await Promise.all(this.#slots.map((s) => this.#fork(s)));
        break;
      } catch (err) {
        await this.#stopWorkers();
        // A port 0 was free when reserved, but workers bind it later: it may have been taken since.
        const retry =
          attempt < 3 && this.#listen.some((l) => l.address.port === 0) && /EADDRINUSE/.test((err as Error).message);
        if (retry) continue;
        await this.service.stop();
        throw err;
      }
    }
    this.#serving = true;
    this.service.answering();
    this.#log.info({ workers: this.#slots.length, threads: this.#slots.map((s) => s.proc?.threadId) }, 'workers ready');
  }

  reload(): Promise<{ loaded: number; failed: number }> {
    return this.service.reload();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    // Workers first: an UPDATE they forwarded still needs the journal.
    await this.#stopWorkers();
    await this.service.stop();
  }

  /**
   * Binds each address the plain way once, to learn the port a port 0 gets, and to fail as a
   * single process would: an address taken (by a gslbd already running, reuseport or not) or
   * not local is an error, a default one that cannot be bound is skipped.
   */
  async #reserve(): Promise<ListenAddress[]> {
    const out: ListenAddress[] = [];
    for (const { address, required } of this.#listen) {
      const l = new DnsListener(address, this.service.handler);
      try {
        await l.start();
      } catch (err) {
        if (required) throw err;
        this.#log.warn(
          { address: formatListen(address), err: (err as Error).message },
          'default listen address skipped',
        );
        continue;
      }
      out.push({ host: address.host, port: l.port });
      await l.stop(0);
    }
    if (out.length === 0) throw new GslbError('ERR_LISTEN', 'no address could be bound');
    return out;
  }

  /** Starts the worker of `slot`; resolves once it answers, rejects if it cannot start. */
  #fork(slot: Slot): Promise<void> {
    // A young generation of 6 MB (V8's default grows to 48): what answering allocates dies young,
    // and the larger one only held memory (bench/RESULTS.md, Memory).
    const proc = new Worker(WORKER, { resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } });
    const thread = proc.threadId;
    slot.proc = proc;
    slot.following = false;
    slot.ready = false;
    slot.forkedAt = Date.now();
    // An exception nothing caught ends the thread (its exit follows): logged with what it was.
    let failure: Error | null = null;
    proc.on('error', (err) => {
      failure = err;
      this.#log.error({ worker: slot.n, thread, err: err.stack ?? err.message }, 'worker failed');
    });
    return new Promise<void>((resolve, reject) => {
      proc.on('message', (m: FromWorker) => {
        if (m.type === 'booted') {
          // Its state as of now; every changeset from here on is sent after this, in order.
          slot.following = true;
          this.#send(proc, {
            type: 'start',
            worker: slot.n,
            options: this.#options,
            state: this.service.state.snapshot(),
            checks: this.service.checker.all().map(checkUpdate),
          });
        } else if (m.type === 'ready') {
          slot.ready = true;
          this.#log.info({ worker: slot.n, thread }, 'worker started');
          resolve();
          if (slot.reloadWhenReady) void this.#reloadWorker(slot);
        } else if (m.type === 'failed') {
          this.#log.error({ worker: slot.n, thread, code: m.code, err: m.message }, 'worker could not start');
          reject(new GslbError(m.code, m.message));
        } else {
          this.#onMessage(slot, proc, m);
        }
      });
      proc.once('exit', (code) => {
        this.#onExit(slot, proc, thread, code, failure);
        reject(new GslbError('ERR_WORKER', `worker ${slot.n} exited (${failure?.message ?? code}) before it answered`));
      });
    });
  }

  #onMessage(slot: Slot, proc: Worker, m: FromWorker): void {
    switch (m.type) {
      case 'applied':
        slot.applied.get(m.seq)?.();
        slot.applied.delete(m.seq);
        return;
      case 'reloaded':
      case 'counters':
      case 'catalog-set':
        slot.replies.get(m.id)?.(m);
        return;
      case 'update':
        void this.#update(proc, m.id, Buffer.from(m.msg.buffer, m.msg.byteOffset, m.msg.byteLength), m.via);
        return;
      case 'notified':
        this.service.notified(keyFromText(m.zone));
        return;
    }
  }

  /** A forwarded UPDATE, answered as if it had come to the primary's own socket. */
  async #update(proc: Worker, id: number, msg: Buffer, via: { tcp: boolean; address: string }): Promise<void> {
    const answer = await this.service.handler(msg, via);
    // An UPDATE's answer is one message (a MessageStream is a zone transfer's, never an UPDATE's).
    this.#send(proc, { type: 'updated', id, answer: answer instanceof MessageStream ? null : answer });
  }

  #onExit(slot: Slot, proc: Worker, thread: number, code: number, failure: Error | null): void {
    if (slot.proc !== proc) return;
    slot.proc = null;
    slot.following = false;
    slot.ready = false;
    // Nothing it owed is awaited any longer.
    for (const done of slot.applied.values()) done();
    slot.applied.clear();
    for (const reply of slot.replies.values()) reply(null);
    slot.replies.clear();
    if (slot.counts) this.#retired.merge(slot.counts);
    slot.counts = null;
    if (!this.#serving || this.#stopping) return;
    // One that lived a while restarts at once; one that keeps dying young waits longer each time.
    slot.quickDeaths = Date.now() - slot.forkedAt < STABLE_MS ? slot.quickDeaths + 1 : 0;
    const delayMs = slot.quickDeaths <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, 250 * 2 ** (slot.quickDeaths - 2));
    this.#log.error(
      { worker: slot.n, thread, code, ...(failure && { err: failure.message }), restartInMs: delayMs },
      'worker exited: restarting it',
    );
    slot.restart = setTimeout(() => {
      slot.restart = null;
      if (!this.#stopping) this.#fork(slot).catch(() => {});
    }, delayMs);
  }

  async #stopWorkers(): Promise<void> {
    await Promise.all(
      this.#slots.map(async (slot) => {
        if (slot.restart) clearTimeout(slot.restart);
        slot.restart = null;
        const proc = slot.proc;
        if (!proc) return;
        // slot.proc is null once it has exited (#onExit).
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        this.#send(proc, { type: 'stop' });
        const timer = setTimeout(() => void proc.terminate(), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  #send(proc: Worker, m: ToWorker): void {
    proc.postMessage(m);
  }

  /** Sends `m` (given an id) to a ready worker; resolves with its reply, or null if none came in time. */
  #request(
    slot: Slot,
    m: { type: 'reload' | 'counters' } | { type: 'catalog'; content: CatalogContent },
    timeoutMs: number,
  ): Promise<FromWorker | null> {
    const proc = slot.proc;
    if (!proc || !slot.ready) return Promise.resolve(null);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => reply(null), timeoutMs);
      const reply = (r: FromWorker | null) => {
        clearTimeout(timer);
        slot.replies.delete(id);
        resolve(r);
      };
      slot.replies.set(id, reply);
      this.#send(proc, { ...m, id });
    });
  }

  // What the service tells its workers (Followers).

  #changeset(cs: Changeset): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const slot of this.#slots) {
      const proc = slot.proc;
      if (!proc || !slot.following) continue;
      waits.push(new Promise((r) => slot.applied.set(cs.seq, r)));
      this.#send(proc, { type: 'changeset', cs });
    }
    if (!waits.length) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const late = this.#slots.filter((s) => s.applied.has(cs.seq)).map((s) => s.n);
        this.#log.warn(
          { seq: cs.seq, workers: late },
          `workers did not apply a changeset within ${APPLY_TIMEOUT_MS} ms`,
        );
        resolve();
      }, APPLY_TIMEOUT_MS);
      void Promise.all(waits).then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #checks(statuses: readonly CheckStatus[], all: boolean): void {
    if (all) {
      // Every check as it is now: what was waiting to go out is in it.
      this.#pendingChecks.clear();
      this.#broadcast({ type: 'checks', checks: statuses.map(checkUpdate), all: true });
      return;
    }
    const first = this.#pendingChecks.size === 0;
    for (const s of statuses) this.#pendingChecks.set(s.key, checkUpdate(s));
    if (first) {
      setImmediate(() => {
        if (!this.#pendingChecks.size) return;
        const checks = [...this.#pendingChecks.values()];
        this.#pendingChecks.clear();
        this.#broadcast({ type: 'checks', checks, all: false });
      });
    }
  }

  /**
   * A new catalog zone: a worker answering serves it before this resolves (its NOTIFY follows, and
   * the secondary's query may reach any worker); one still starting takes it after its start.
   */
  async #catalog(content: CatalogContent): Promise<void> {
    this.#options = { ...this.#options, catalogZone: content };
    const waits: Promise<unknown>[] = [];
    for (const slot of this.#slots) {
      if (!slot.proc || !slot.following) continue;
      if (slot.ready) waits.push(this.#request(slot, { type: 'catalog', content }, APPLY_TIMEOUT_MS));
      else this.#send(slot.proc, { type: 'catalog', id: 0, content });
    }
    await Promise.all(waits);
  }

  async #reloadWorkers(): Promise<void> {
    await Promise.all(this.#slots.map((slot) => this.#reloadWorker(slot)));
  }

  async #reloadWorker(slot: Slot): Promise<void> {
    if (!slot.proc) return;
    // A worker still starting may have read the zones before they changed: it reloads when ready.
    slot.reloadWhenReady = !slot.ready;
    if (!slot.ready) return;
    const thread = slot.proc.threadId;
    const r = await this.#request(slot, { type: 'reload' }, RELOAD_TIMEOUT_MS);
    if (r?.type !== 'reloaded') this.#log.error({ worker: slot.n, thread }, 'worker did not report a reload');
    else if (r.error !== null) this.#log.error({ worker: slot.n, thread, err: r.error }, 'worker reload failed');
    else this.#log.info({ worker: slot.n, thread, loaded: r.loaded, failed: r.failed }, 'worker reloaded');
  }

  async #counters(): Promise<readonly QueryCounts[]> {
    const replies = await Promise.all(
      this.#slots.map(async (slot) => {
        const r = await this.#request(slot, { type: 'counters' }, COUNTERS_TIMEOUT_MS);
        if (r?.type === 'counters') slot.counts = r.counts;
        // No answer in time: what it sent last (a sum that lags, rather than one that drops).
        return slot.counts;
      }),
    );
    return [this.#retired.counts(), ...replies.filter((c) => c !== null)];
  }

  #broadcast(m: ToWorker): void {
    for (const slot of this.#slots) if (slot.proc && slot.following) this.#send(slot.proc, m);
  }
}
