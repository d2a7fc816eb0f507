// The status page's charts over the last hour: queries per zone and rcode, each pool's answers per
// target, each target's state and the signal that decided it. A sample is taken every step (10 s)
// from the counters summed over the workers and from the targets' verdicts, into rings of a fixed
// length (one hour of steps), so the memory is bounded by the number of series, itself capped.

import type { Clock } from '../3-health/clock.ts';
import type { Logger } from '../0-base/log.ts';

/** One sample: cumulative counts, and each target's verdict now. */
export interface HistorySample {
  /** Queries answered, keyed `zone\trcode`, since start (summed over workers). */
  readonly queries: ReadonlyMap<string, number>;
  /** Answers handed out, keyed `pool\taddress`, since start (summed over workers). */
  readonly answers: ReadonlyMap<string, number>;
  /** Each target's verdict, keyed `pool\taddress`. */
  readonly states: ReadonlyMap<string, { readonly state: string; readonly because: string }>;
  /** In a cluster, the nodes whose counts are summed (absent: this process and its workers). */
  readonly nodes?: readonly string[];
}

/** Between two samples by default, ms. */
export const HISTORY_STEP_MS = 10_000;

export interface HistoryOptions {
  /** Between two samples, ms (default 10 s). */
  readonly stepMs?: number;
  /** How far back the rings reach, ms (default 1 h). */
  readonly spanMs?: number;
  /** Most series of each kind kept (default 2,000): more are left out, and the view says so. */
  readonly maxSeries?: number;
}

const STATES = ['up', 'down', 'drain'];
const BECAUSE = ['override', 'monitor', 'probe', 'weight', 'default'];

/** A ring of `n` values; `i` counts from the oldest kept. */
class Ring {
  readonly values: Float64Array;
  constructor(n: number) {
    this.values = new Float64Array(n).fill(NaN);
  }
}

export class StatusHistory {
  readonly stepMs: number;
  readonly #n: number;
  readonly #max: number;
  /** Sample times, ms; #at[#head - 1] is the latest. */
  readonly #at: Float64Array;
  #head = 0;
  #count = 0;
  readonly #queries = new Map<string, Ring>();
  readonly #answers = new Map<string, Ring>();
  /** state index * 8 + because index, NaN when the target was not there. */
  readonly #states = new Map<string, Ring>();
  #truncated = false;
  /** The latest sample's `nodes`. */
  #nodes: readonly string[] | undefined;

  constructor(opts: HistoryOptions = {}) {
    this.stepMs = opts.stepMs ?? HISTORY_STEP_MS;
    this.#n = Math.max(2, Math.ceil((opts.spanMs ?? 3_600_000) / this.stepMs) + 1);
    this.#max = opts.maxSeries ?? 2000;
    this.#at = new Float64Array(this.#n).fill(NaN);
  }

  #ring(map: Map<string, Ring>, key: string): Ring | undefined {
    let r = map.get(key);
    if (!r) {
      if (map.size >= this.#max) {
        this.#truncated = true;
        return undefined;
      }
      r = new Ring(this.#n);
      map.set(key, r);
    }
    return r;
  }

  #timer: unknown = null;
  #clock: Clock | null = null;

  /**
   * Takes a sample now and then every step, until `stop`: one at a time, the next a step after the
   * last finished. A sample that fails is logged and skipped.
   */
  start(clock: Clock, sample: () => Promise<HistorySample>, log: Logger): void {
    this.#clock = clock;
    const take = () => {
      sample()
        .then((s) => {
          if (this.#clock) this.add(clock.now(), s);
        })
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'status history: no sample'))
        .finally(() => {
          if (this.#clock) this.#timer = clock.setTimeout(take, this.stepMs);
        });
    };
    take();
  }

  stop(): void {
    if (this.#timer !== null) this.#clock?.clearTimeout(this.#timer);
    this.#clock = null;
    this.#timer = null;
  }

  /** Keeps `s` as the sample at `at`. */
  add(at: number, s: HistorySample): void {
    const i = this.#head;
    this.#at[i] = at;
    for (const rings of [this.#queries, this.#answers, this.#states]) for (const r of rings.values()) r.values[i] = NaN;
    for (const [k, v] of s.queries) {
      const r = this.#ring(this.#queries, k);
      if (r) r.values[i] = v;
    }
    for (const [k, v] of s.answers) {
      const r = this.#ring(this.#answers, k);
      if (r) r.values[i] = v;
    }
    for (const [k, v] of s.states) {
      const r = this.#ring(this.#states, k);
      if (r) r.values[i] = Math.max(0, STATES.indexOf(v.state)) * 8 + Math.max(0, BECAUSE.indexOf(v.because));
    }
    this.#nodes = s.nodes;
    this.#head = (i + 1) % this.#n;
    this.#count = Math.min(this.#count + 1, this.#n);
  }

  /** Ring positions from the oldest sample kept to the latest. */
  #order(): number[] {
    const out: number[] = [];
    for (let k = this.#count; k > 0; k--) out.push((this.#head - k + this.#n) % this.#n);
    return out;
  }

  /**
   * The charts' data: sample times (seconds) and, per step between two samples, queries per
   * second by zone and rcode, each pool's share per target (null: no answers in that step), and
   * each target's state with the signal that decided, as spans. `live` (the counts now) gives the
   * share of each target over the last minute, the partial step included.
   */
  view(live?: { at: number; answers: ReadonlyMap<string, number> }) {
    const order = this.#order();
    const at = order.map((i) => this.#at[i]!);
    const times = at.slice(1).map((t) => Math.round(t / 1000));
    /**
     * Per step, the increase of a cumulative series: a series not there before counted 0 then (its
     * first answer came in this step), and a count that went back (a worker restarted) counts from 0.
     */
    const steps = (r: Ring) =>
      order.slice(1).map((i, k) => {
        const prev = r.values[order[k]!]!;
        const v = r.values[i]!;
        if (Number.isNaN(v)) return null;
        return Number.isNaN(prev) || v < prev ? v : v - prev;
      });
    const queries = [...this.#queries].map(([key, r]) => {
      const [zone, rcode] = key.split('\t');
      const counts = steps(r);
      return {
        zone,
        rcode,
        values: counts.map((d, k) =>
          d === null ? null : Math.round((d / ((at[k + 1]! - at[k]!) / 1000)) * 1000) / 1000,
        ),
        /** The queries of each step, as counted (the rates' numerators). */
        counts,
      };
    });
    const pools = new Map<string, { address: string; steps: (number | null)[] }[]>();
    for (const [key, r] of this.#answers) {
      const [pool, address] = key.split('\t') as [string, string];
      let list = pools.get(pool);
      if (!list) pools.set(pool, (list = []));
      list.push({ address, steps: steps(r) });
    }
    const shares = [...pools].map(([pool, targets]) => ({
      pool,
      targets: targets.map((t) => ({
        address: t.address,
        values: t.steps.map((d, k) => {
          const total = targets.reduce((sum, x) => sum + (x.steps[k] ?? 0), 0);
          return d === null || total === 0 ? null : Math.round((d / total) * 10_000) / 10_000;
        }),
      })),
    }));
    const states = [...this.#states].map(([key, r]) => {
      const [pool, address] = key.split('\t');
      const spans: { from: number; to: number; state: string; because: string }[] = [];
      for (const [k, i] of order.entries()) {
        const v = r.values[i]!;
        const t = Math.round(at[k]! / 1000);
        const last = spans.at(-1);
        if (Number.isNaN(v)) continue;
        const state = STATES[Math.floor(v / 8)]!;
        const because = BECAUSE[v % 8]!;
        if (last && last.state === state && last.because === because && last.to >= t - this.stepMs / 500) last.to = t;
        else spans.push({ from: t, to: t, state, because });
      }
      return { pool, address, spans };
    });
    return {
      step_s: this.stepMs / 1000,
      times,
      queries,
      shares,
      states,
      share_1m: live ? this.#recentShare(live, order) : {},
      ...(this.#truncated && { truncated: true }),
      ...(this.#nodes && { nodes: this.#nodes }),
    };
  }

  /** Each target's part of its pool's answers over the last minute (to `live`), null without any. */
  #recentShare(live: { at: number; answers: ReadonlyMap<string, number> }, order: number[]) {
    // The oldest sample at most a minute old (or the oldest kept).
    const from = order.find((i) => this.#at[i]! >= live.at - 60_000);
    const byPool = new Map<string, { key: string; d: number }[]>();
    for (const [key, now] of live.answers) {
      const r = this.#answers.get(key);
      const then = from === undefined || !r ? NaN : r.values[from]!;
      const d = Number.isNaN(then) || now < then ? now : now - then;
      const pool = key.split('\t')[0]!;
      let list = byPool.get(pool);
      if (!list) byPool.set(pool, (list = []));
      list.push({ key, d });
    }
    const out: Record<string, number | null> = {};
    for (const list of byPool.values()) {
      const total = list.reduce((s, x) => s + x.d, 0);
      for (const x of list) out[x.key] = total ? Math.round((x.d / total) * 10_000) / 10_000 : null;
    }
    return out;
  }
}
