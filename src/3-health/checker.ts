// Runs the checks of every pool in service: one probe loop per distinct endpoint (however many
// pools and targets share it), staggered and jittered, at most one probe in flight per check,
// a bounded number in flight overall; loops stop when no target uses them any more.

import type { Clock } from './clock.ts';
import { DEFAULT_DAMPING, HealthMachine } from './machine.ts';
import type { CheckedTarget, CheckSpec, HealthState, ProbeResult, Prober, Transition } from './types.ts';

/** The check of one endpoint, shared by every target that names the same address and spec. */
export interface CheckStatus {
  readonly key: string;
  readonly address: string;
  readonly spec: CheckSpec;
  readonly state: HealthState;
  readonly since: number;
  readonly targets: ReadonlySet<string>;
  readonly last: ProbeResult | null;
  readonly lastAt: number;
  /** When the next probe is due (ms); Infinity while one is in flight. */
  readonly nextAt: number;
  /**
   * Probe results still needed to change the state shown: 0 while a change waits to be made
   * durable (it shows any moment).
   */
  readonly remaining: number;
  readonly heldUntil: number;
  /**
   * In a cluster (7-state/quorum-checks.ts): the fewest probe results any other node still needs to
   * change its vote. Other nodes' probes keep their own time, so one of them may come now.
   */
  readonly othersRemaining?: number;
}

/**
 * The running checks as a Service uses them. HealthChecker probes; a cluster worker's follow the
 * statuses its primary sends (9-main/cluster/checks.ts), so there is one probe loop per endpoint however
 * many processes answer.
 */
export interface Checks {
  /** Makes the checks those of `targets` (all targets of all pools in service). */
  sync(targets: Iterable<CheckedTarget>): void;
  /** The check of a target, if it has one. */
  statusOf(targetId: string): CheckStatus | undefined;
  /** A check by its key (`checkKey`), if it runs. */
  byKey(key: string): CheckStatus | undefined;
  /** Every check. */
  all(): CheckStatus[];
  stop(): void;
}

export interface CheckerOptions {
  readonly probers: Readonly<Record<CheckSpec['type'], Prober>>;
  readonly clock: Clock;
  readonly random: () => number;
  /**
   * Probes in flight at once, over all checks. Default: what the checks need (maxConcurrentFor).
   * Whatever the bound, at most BURST probes start per turn of the event loop.
   */
  readonly maxConcurrent?: number;
  /** State to start a check in when nothing is known of it (the journal has no state). */
  readonly initial?: HealthState;
  /** Last known states (warm start), by check key. */
  readonly known?: ReadonlyMap<string, { readonly state: HealthState; readonly since: number }>;
  /**
   * A check's state machine changed state. Returning nothing shows the new state at once. Returning
   * a promise (a Service's commit: durable before visible) shows it only once that resolves; while
   * it is pending the check keeps showing its previous state, and if it rejects the previous state
   * stays and the transition is offered again after the next probe, for as long as the machine
   * disagrees with what is shown.
   */
  readonly onTransition?: (check: CheckStatus, t: Transition) => void | Promise<unknown>;
  readonly onResult?: (check: CheckStatus, r: ProbeResult) => void;
  /** A transition became visible when onTransition's promise resolved (after its probe's onResult). */
  readonly onShown?: (check: CheckStatus) => void;
}

/** Probes after the first come an interval apart, give or take this fraction of it. */
export const JITTER = 0.05;

/**
 * Probes that may start in one turn of the event loop, and the room the default bound on probes in
 * flight leaves beyond what the checks need (re-probes after hard failures and lost connections).
 */
const BURST = 256;

/**
 * The default bound on probes in flight: room for every check to spend its whole timeout in flight
 * once per interval (at its shortest, jitter taken off), plus BURST. A bound below that queues
 * probes once enough targets time out, and the queue delays every other check too: with 10,000
 * pools × 4 targets probed every 10 s and 4,000 of them black-holed (2 s timeouts), a fixed bound
 * of 256 stretched the other checks' gaps from 10 s to 23 s on average, 32 s at p99
 * (bench/RESULTS.md, Probing 10k pools × 4 targets). Within this bound the queue is empty in
 * steady state, whatever the targets do.
 */
export function maxConcurrentFor(specs: Iterable<CheckSpec>): number {
  let room = 0;
  for (const s of specs) room += s.timeoutMs / (s.intervalMs * (1 - JITTER));
  return BURST + Math.ceil(room);
}

/**
 * Identity of a check: what is probed and how. Equal keys share one probe loop. `host` is folded
 * into the address: a check of 192.0.2.1 and one naming `host: 192.0.2.1` probe the same endpoint.
 */
export function checkKey(address: string, spec: CheckSpec): string {
  const { intervalMs, timeoutMs, rise, fall, host, ...what } = spec;
  return JSON.stringify({ address: host ?? address, ...what, intervalMs, timeoutMs, rise, fall });
}

/** One endpoint to probe and the targets that name it. */
export interface WantedCheck {
  readonly address: string;
  readonly spec: CheckSpec;
  readonly ids: Set<string>;
}

/** The checks `targets` need, by key; `byTarget` is refilled with each target's check key. */
export function checksOf(targets: Iterable<CheckedTarget>, byTarget: Map<string, string>): Map<string, WantedCheck> {
  const wanted = new Map<string, WantedCheck>();
  byTarget.clear();
  for (const t of targets) {
    if (!t.check) continue;
    const key = checkKey(t.address, t.check);
    let w = wanted.get(key);
    if (!w) wanted.set(key, (w = { address: t.check.host ?? t.address, spec: t.check, ids: new Set() }));
    w.ids.add(t.id);
    byTarget.set(t.id, key);
  }
  return wanted;
}

class Check {
  readonly key: string;
  readonly address: string;
  readonly spec: CheckSpec;
  readonly machine: HealthMachine;
  readonly targets = new Set<string>();
  last: ProbeResult | null = null;
  lastAt = 0;
  nextAt = Infinity;
  timer: unknown = null;
  inFlight: AbortController | null = null;
  watch: AbortController | null = null;
  /** Off once the target is seen closing idle connections itself (see onLost). */
  watching = true;
  lostAt = 0;
  stopped = false;
  /** Waiting in HealthChecker's queue for a slot. */
  queued = false;
  /** The state answers see: the machine's, once onTransition's promise for it resolved. */
  shown: { state: HealthState; since: number };
  /** A transition offered to onTransition whose promise has not settled. */
  offering = false;
  /** status() as last made; answers ask for it per target per query, so it is made only after a change. */
  #status: CheckStatus | null = null;

  constructor(key: string, address: string, spec: CheckSpec, machine: HealthMachine) {
    this.key = key;
    this.address = address;
    this.spec = spec;
    this.machine = machine;
    this.shown = { state: machine.state, since: machine.since };
  }

  show(state: HealthState, since: number): void {
    this.shown = { state, since };
    this.#status = null;
  }

  /** Call after changing what status() reports (last, lastAt, nextAt, inFlight, the machine). */
  changed(): void {
    this.#status = null;
  }

  status(): CheckStatus {
    if (this.#status) return this.#status;
    const m = this.machine;
    return (this.#status = {
      key: this.key,
      address: this.address,
      spec: this.spec,
      state: this.shown.state,
      since: this.shown.since,
      targets: this.targets,
      last: this.last,
      lastAt: this.lastAt,
      // A probe in flight, or a state waiting to be made durable, may change what is shown any moment.
      nextAt: this.inFlight || this.shown.state !== m.state ? Infinity : this.nextAt,
      remaining: this.shown.state !== m.state ? 0 : m.remaining,
      heldUntil: m.heldUntil,
    });
  }
}

export class HealthChecker implements Checks {
  readonly #o: CheckerOptions;
  readonly #checks = new Map<string, Check>();
  /** Check key of each target id. */
  readonly #byTarget = new Map<string, string>();
  /**
   * The check of each target id, as of the last sync: what answers ask for, per target per query.
   * One lookup by a short id, not a second by the check's key (a long JSON text, which a lookup
   * compares whole whenever the key at hand is not the very string the check was filed under).
   */
  readonly #checkOf = new Map<string, Check>();
  /** Checks due and waiting for a slot, oldest first, from #head on; stopped ones are skipped when reached. */
  readonly #queue: Check[] = [];
  #head = 0;
  #running = 0;
  #maxConcurrent = BURST;
  /** Probes started in this turn of the event loop (#drain). */
  #startedThisTurn = 0;

  constructor(options: CheckerOptions) {
    this.#o = options;
  }

  /** Makes the running checks those of `targets` (all targets of all pools in service). */
  sync(targets: Iterable<CheckedTarget>): void {
    const wanted = checksOf(targets, this.#byTarget);
    for (const [key, check] of this.#checks) {
      if (!wanted.has(key)) this.#stop(check);
    }
    for (const [key, w] of wanted) {
      let check = this.#checks.get(key);
      if (!check) check = this.#start(key, w.address, w.spec);
      check.targets.clear();
      for (const id of w.ids) check.targets.add(id);
    }
    this.#checkOf.clear();
    for (const [id, key] of this.#byTarget) this.#checkOf.set(id, this.#checks.get(key)!);
    this.#maxConcurrent = this.#o.maxConcurrent ?? maxConcurrentFor([...this.#checks.values()].map((c) => c.spec));
  }

  /** The check of a target, if it has one. */
  statusOf(targetId: string): CheckStatus | undefined {
    return this.#checkOf.get(targetId)?.status();
  }

  byKey(key: string): CheckStatus | undefined {
    return this.#checks.get(key)?.status();
  }

  /** Every running check. */
  all(): CheckStatus[] {
    return [...this.#checks.values()].map((c) => c.status());
  }

  stop(): void {
    for (const c of this.#checks.values()) this.#stop(c);
    this.#checkOf.clear();
  }

  #start(key: string, address: string, spec: CheckSpec): Check {
    const o = this.#o;
    const now = o.clock.now();
    const known = o.known?.get(key);
    const machine = new HealthMachine(
      { rise: spec.rise, fall: spec.fall, ...DEFAULT_DAMPING },
      known?.state ?? spec.initial ?? o.initial ?? 'up',
      known?.since ?? now,
      known ? 'last known state' : 'initial state',
    );
    const check = new Check(key, address, spec, machine);
    this.#checks.set(key, check);
    // Staggered: checks loaded together do not all probe in the same instant.
    this.#schedule(check, Math.floor(o.random() * spec.intervalMs));
    return check;
  }

  #stop(check: Check): void {
    check.stopped = true;
    this.#checks.delete(check.key);
    if (check.timer !== null) this.#o.clock.clearTimeout(check.timer);
    check.timer = null;
    check.inFlight?.abort();
    check.watch?.abort();
  }

  #schedule(check: Check, delayMs: number): void {
    const clock = this.#o.clock;
    if (check.stopped) return;
    if (check.timer !== null) clock.clearTimeout(check.timer);
    check.nextAt = clock.now() + delayMs;
    check.changed();
    check.timer = clock.setTimeout(() => {
      check.timer = null;
      this.#enqueue(check);
    }, delayMs);
  }

  #enqueue(check: Check): void {
    if (check.stopped || check.inFlight || check.queued) return;
    check.queued = true;
    this.#queue.push(check);
    this.#drain();
  }

  // At most BURST probes start per turn of the event loop. When probes come due faster than this
  // process can run them (its CPU is the limit), the rest wait in the queue, in order, instead of
  // as sockets whose connect nobody has handled yet: those pile up to the open-file limit, and
  // probes of healthy targets fail with EMFILE (bench/RESULTS.md, Probing 10k pools × 4 targets).
  #drain(): void {
    const q = this.#queue;
    while (this.#running < this.#maxConcurrent && this.#startedThisTurn < BURST && this.#head < q.length) {
      const check = q[this.#head++]!;
      check.queued = false;
      if (check.stopped) continue;
      // The next turn starts a new count, and the rest of the queue with it.
      if (this.#startedThisTurn++ === 0)
        this.#o.clock.setTimeout(() => {
          this.#startedThisTurn = 0;
          this.#drain();
        }, 0);
      void this.#probe(check);
    }
    // Taken checks are dropped all at once: when the queue empties, or once they are most of it.
    if (this.#head === q.length) {
      q.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      q.splice(0, this.#head);
      this.#head = 0;
    }
  }

  async #probe(check: Check): Promise<void> {
    const { clock, probers } = this.#o;
    const spec = check.spec;
    this.#running++;
    check.watch?.abort();
    const ctl = new AbortController();
    check.inFlight = ctl;
    check.changed();
    const started = clock.now();
    const timer = clock.setTimeout(() => ctl.abort(), spec.timeoutMs);
    const watch = check.watching && spec.fastFail && spec.type === 'tcp' ? new AbortController() : null;
    let result: ProbeResult;
    try {
      result = await probers[spec.type].probe(
        { address: check.address, spec },
        {
          signal: ctl.signal,
          ...(watch && { watch: { signal: watch.signal, onLost: () => this.#onLost(check, watch) } }),
        },
      );
    } catch (e) {
      result = {
        ok: false,
        reason: `probe error: ${(e as Error).message}`,
        hard: false,
        latencyMs: clock.now() - started,
      };
    } finally {
      clock.clearTimeout(timer);
      this.#running--;
      check.inFlight = null;
      check.changed();
    }
    if (check.stopped) {
      watch?.abort();
      this.#drain();
      return;
    }
    check.watch = watch;
    if (watch && !result.ok) watch.abort();
    const now = clock.now();
    // A watched connection was just closed, yet the target answers: it closes idle connections
    // itself, so watching it would only cost probes.
    if (check.lostAt && result.ok && now - check.lostAt < spec.intervalMs) {
      check.watching = false;
      watch?.abort();
    }
    check.lostAt = 0;
    check.last = result;
    check.lastAt = now;
    // A probe that could not be made here (out of file descriptors: see ProbeResult.local) is no
    // verdict on the target: the state stays, and the next probe comes at the usual time.
    const t = result.local ? null : check.machine.record(result.ok, result.reason, now);
    check.changed();
    // With fastFail, a refused or reset connection is certain: confirm it at once so `fall` is
    // reached in milliseconds rather than intervals. Otherwise the next probe comes an interval
    // after this one started, give or take 5% so loops that started together drift apart.
    const confirming = spec.fastFail === true && result.hard && !result.local && check.machine.state === 'up';
    const jitter = (this.#o.random() - 0.5) * 2 * JITTER * spec.intervalMs;
    this.#schedule(check, confirming ? 0 : Math.max(0, started + spec.intervalMs + jitter - now));
    // A transition is offered first: shown at once when onTransition takes it synchronously, so
    // the status onResult gets has it. onResult is told after scheduling, so that status says when
    // the next probe is due (workers compute TTLs from it: 9-main/cluster/checks.ts).
    this.#offer(check, t);
    this.#o.onResult?.(check.status(), result);
    this.#drain();
  }

  /**
   * Offers the machine's state to onTransition when it differs from the shown one: `t` when the
   * probe just made a transition, else (an earlier offer failed, or the machine moved while one was
   * pending) a transition from the shown state to the machine's. One offer at a time per check.
   */
  #offer(check: Check, t: Transition | null): void {
    const m = check.machine;
    if (check.offering || check.stopped || m.state === check.shown.state) return;
    const tr =
      t && t.from === check.shown.state ? t : { from: check.shown.state, to: m.state, at: m.since, reason: m.reason };
    const pending = this.#o.onTransition?.(check.status(), tr);
    if (!(pending instanceof Promise)) {
      check.show(tr.to, tr.at);
      return;
    }
    check.offering = true;
    pending.then(
      () => {
        check.offering = false;
        if (check.stopped) return;
        check.show(tr.to, tr.at);
        this.#o.onShown?.(check.status());
        this.#offer(check, null);
      },
      () => {
        check.offering = false;
        check.changed();
      },
    );
  }

  #onLost(check: Check, watch: AbortController): void {
    if (check.stopped || check.watch !== watch || check.inFlight) return;
    check.lostAt = this.#o.clock.now();
    this.#schedule(check, 0);
  }
}
