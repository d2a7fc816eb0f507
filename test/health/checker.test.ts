// The probe scheduler with a fake clock and scripted probers: when probes run, how many, and
// what they do to each check's state. Every time asserted here is exact.

import { describe, expect, it } from 'vitest';
import type { TargetDef } from '../../src/4-gslb/types.ts';
import type { CheckSpec } from '../../src/3-health/types.ts';
import { checkKey, HealthChecker, type CheckerOptions, type CheckStatus } from '../../src/3-health/checker.ts';
import type { ProbeOptions, ProbeResult, ProbeTarget, Prober, Transition } from '../../src/3-health/types.ts';
import { FakeClock } from './fake-clock.ts';

const TCP: CheckSpec = {
  type: 'tcp',
  port: 8080,
  intervalMs: 1000,
  timeoutMs: 500,
  rise: 1,
  fall: 1,
  path: '/',
  expect: [200],
  insecure: false,
};
const spec = (over: Partial<CheckSpec> = {}): CheckSpec => ({ ...TCP, ...over });

function target(id: string, address: string, check: CheckSpec | null = spec()): TargetDef {
  return { id, address, family: 4, weight: 1, check, line: 1 };
}

/** What a scripted probe does: resolve after `ms` (0: at once; Infinity: only when aborted). */
interface Step {
  readonly ok: boolean;
  readonly hard?: boolean;
  readonly local?: boolean;
  readonly reason?: string;
  readonly ms?: number;
  /** false: keeps going after its signal aborts (a prober breaking its contract). */
  readonly honorAbort?: boolean;
}

interface Call {
  readonly address: string;
  readonly at: number;
  readonly options: ProbeOptions;
  abortedAt?: number;
  endedAt?: number;
}

/** A Prober whose results come from `script(address, n)` (n: this address's call count, from 0). */
class ScriptedProber implements Prober {
  readonly calls: Call[] = [];
  readonly #clock: FakeClock;
  readonly #script: (address: string, n: number) => Step;
  readonly #inFlight = new Map<string, number>();
  maxInFlight = 0;
  maxInFlightPerAddress = 0;

  constructor(clock: FakeClock, script: (address: string, n: number) => Step) {
    this.#clock = clock;
    this.#script = script;
  }

  callsTo(address: string): Call[] {
    return this.calls.filter((c) => c.address === address);
  }

  probe({ address }: ProbeTarget, options: ProbeOptions): Promise<ProbeResult> {
    const clock = this.#clock;
    const step = this.#script(address, this.callsTo(address).length);
    const call: Call = { address, at: clock.now(), options };
    this.calls.push(call);
    const mine = (this.#inFlight.get(address) ?? 0) + 1;
    this.#inFlight.set(address, mine);
    this.maxInFlightPerAddress = Math.max(this.maxInFlightPerAddress, mine);
    this.maxInFlight = Math.max(
      this.maxInFlight,
      [...this.#inFlight.values()].reduce((a, b) => a + b, 0),
    );
    return new Promise<ProbeResult>((resolve) => {
      let done = false;
      const finish = (r: Omit<ProbeResult, 'latencyMs'>) => {
        if (done) return;
        done = true;
        call.endedAt = clock.now();
        this.#inFlight.set(address, this.#inFlight.get(address)! - 1);
        resolve({ ...r, latencyMs: clock.now() - call.at });
      };
      options.signal.addEventListener(
        'abort',
        () => {
          call.abortedAt = clock.now();
          if (step.honorAbort !== false) finish({ ok: false, hard: false, reason: 'timeout' });
        },
        { once: true },
      );
      const result = {
        ok: step.ok,
        hard: step.hard ?? false,
        reason: step.reason ?? (step.ok ? 'pass' : 'fail'),
        ...(step.local && { local: true }),
      };
      const ms = step.ms ?? 0;
      if (ms === 0) finish(result);
      else if (Number.isFinite(ms)) clock.setTimeout(() => finish(result), ms);
    });
  }
}

const pass: Step = { ok: true };
const refused: Step = { ok: false, hard: true, reason: 'connect ECONNREFUSED' };
const soft: Step = { ok: false, reason: 'HTTP 500' };

/** `values` in turn, then 0.5 for ever (0.5 means no jitter). */
const sequence =
  (...values: number[]) =>
  () =>
    values.shift() ?? 0.5;

interface Harness {
  readonly clock: FakeClock;
  readonly prober: ScriptedProber;
  readonly checker: HealthChecker;
  readonly transitions: (Transition & { targets: string[] })[];
  readonly results: { key: string; at: number; ok: boolean }[];
}

function harness(script: (address: string, n: number) => Step, options: Partial<CheckerOptions> = {}): Harness {
  const clock = new FakeClock();
  const prober = new ScriptedProber(clock, script);
  const transitions: Harness['transitions'] = [];
  const results: Harness['results'] = [];
  const checker = new HealthChecker({
    probers: { tcp: prober, http: prober, https: prober, dns: prober },
    clock,
    random: () => 0.5,
    onTransition: (c: CheckStatus, t) => void transitions.push({ ...t, targets: [...c.targets] }),
    onResult: (c, r) => results.push({ key: c.key, at: clock.now(), ok: r.ok }),
    ...options,
  });
  return { clock, prober, checker, transitions, results };
}

describe('HealthChecker scheduling', () => {
  it('staggers the first probe of each check by random × interval', async () => {
    const h = harness(() => pass, { random: sequence(0, 0.25, 0.999) });
    h.checker.sync([target('p/a', '127.0.0.2'), target('p/b', '127.0.0.3'), target('p/c', '127.0.0.4')]);
    await h.clock.advance(999);
    expect(h.prober.calls.map((c) => [c.address, c.at])).toEqual([
      ['127.0.0.2', 0],
      ['127.0.0.3', 250],
      ['127.0.0.4', 999],
    ]);
  });

  it('starts every first probe within [0, interval) whatever the random draw', async () => {
    let seed = 7;
    const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const h = harness(() => pass, { random: lcg });
    h.checker.sync(Array.from({ length: 50 }, (_, i) => target(`p/${i}`, `127.0.1.${i + 1}`)));
    await h.clock.advance(999);
    expect(h.prober.calls).toHaveLength(50);
    expect(h.prober.calls.every((c) => c.at >= 0 && c.at < 1000)).toBe(true);
    // Spread out, not bunched: at least 5 distinct tenths of the interval are used.
    expect(new Set(h.prober.calls.map((c) => Math.floor(c.at / 100))).size).toBeGreaterThanOrEqual(5);
  });

  it('probes once per interval, measured from the start of the previous probe', async () => {
    const h = harness(() => ({ ok: true, ms: 120 }));
    h.checker.sync([target('p/a', '127.0.0.2')]);
    await h.clock.advance(4000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1500, 2500, 3500]);
  });

  it('jitters later probes by at most ±5% of the interval', async () => {
    const h = harness(() => pass, { random: sequence(0.5, 0, 1, 0) });
    h.checker.sync([target('p/a', '127.0.0.2')]);
    await h.clock.advance(4000);
    // First at 500; then +1000-50, +1000+50, +1000-50.
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1450, 2500, 3450]);
  });

  it('never has two probes of one check in flight: a slow prober delays the next probe', async () => {
    // 2.5 intervals, ignoring the timeout's abort (a prober breaking its contract).
    const h = harness(() => ({ ok: true, ms: 2500, honorAbort: false }));
    h.checker.sync([target('p/a', '127.0.0.2')]);
    await h.clock.advance(600);
    expect(h.checker.statusOf('p/a')!.nextAt).toBe(Infinity);
    await h.clock.advance(7400);
    expect(h.prober.maxInFlightPerAddress).toBe(1);
    expect(h.prober.calls.map((c) => [c.at, c.abortedAt, c.endedAt])).toEqual([
      [500, 1000, 3000],
      [3000, 3500, 5500],
      [5500, 6000, 8000],
      [8000, undefined, undefined],
    ]);
  });

  it('runs one probe loop per distinct endpoint, however many targets and pools share it', async () => {
    const h = harness(() => pass);
    const shared = spec();
    h.checker.sync([
      target('a.example./127.0.0.2', '127.0.0.2', shared),
      target('b.example./127.0.0.2', '127.0.0.2', spec()),
      target('c.example./127.0.0.2', '127.0.0.2', spec()),
      // Handed out as another address, checked at the same endpoint (`host`).
      target('d.example./192.0.2.1', '192.0.2.1', spec({ host: '127.0.0.2' })),
      // Another port is another endpoint.
      target('e.example./127.0.0.2', '127.0.0.2', spec({ port: 8081 })),
    ]);
    await h.clock.advance(10_000);
    expect(h.checker.all()).toHaveLength(2);
    expect(h.prober.calls.filter((c) => c.address === '192.0.2.1')).toEqual([]);
    expect(h.prober.callsTo('127.0.0.2')).toHaveLength(20);
    const shared4 = h.checker.statusOf('a.example./127.0.0.2')!;
    expect([...shared4.targets].sort()).toEqual([
      'a.example./127.0.0.2',
      'b.example./127.0.0.2',
      'c.example./127.0.0.2',
      'd.example./192.0.2.1',
    ]);
    expect(h.checker.statusOf('d.example./192.0.2.1')!.key).toBe(shared4.key);
    expect(h.checker.statusOf('e.example./127.0.0.2')!.key).not.toBe(shared4.key);
  });
});

describe('HealthChecker state', () => {
  it('with fastFail, re-probes a hard failure at once, so fall=3 is reached in one instant, not three intervals', async () => {
    const h = harness(() => refused);
    h.checker.sync([target('p/a', '127.0.0.2', spec({ fall: 3, fastFail: true }))]);
    await h.clock.advance(2000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 500, 500, 1500]);
    expect(h.transitions).toEqual([
      { from: 'up', to: 'down', at: 500, reason: 'connect ECONNREFUSED', targets: ['p/a'] },
    ]);
  });

  it('by default counts a hard failure once: fall=3 takes three intervals, as soft failures do', async () => {
    const h = harness(() => refused);
    h.checker.sync([target('p/a', '127.0.0.2', spec({ fall: 3 }))]);
    await h.clock.advance(3000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1500, 2500]);
    expect(h.transitions.map((t) => [t.to, t.at])).toEqual([['down', 2500]]);
  });

  it('takes no verdict from a probe that could not be made here (out of file descriptors)', async () => {
    // Probes 0-2 fail locally (EMFILE), then the target refuses for real.
    const h = harness((_, n) => (n < 3 ? { ok: false, hard: true, local: true, reason: 'connect EMFILE' } : refused));
    h.checker.sync([target('p/a', '127.0.0.2', spec({ fastFail: true }))]);
    await h.clock.advance(3000);
    // An interval apart (no re-probe at once as for a real refusal), and the check stays up.
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1500, 2500]);
    expect(h.transitions).toEqual([]);
    expect(h.checker.statusOf('p/a')).toMatchObject({ state: 'up', last: { reason: 'connect EMFILE' } });
    await h.clock.advance(1000);
    expect(h.transitions.map((t) => [t.to, t.at, t.reason])).toEqual([['down', 3500, 'connect ECONNREFUSED']]);
  });

  it('waits an interval between soft failures: fall=3 takes three intervals', async () => {
    const h = harness(() => soft);
    h.checker.sync([target('p/a', '127.0.0.2', spec({ fall: 3 }))]);
    await h.clock.advance(3000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1500, 2500]);
    expect(h.transitions.map((t) => [t.to, t.at])).toEqual([['down', 2500]]);
  });

  it('does not re-probe at once while down: a refused target is probed once per interval', async () => {
    const h = harness(() => refused, { initial: 'down' });
    h.checker.sync([target('p/a', '127.0.0.2', spec({ fall: 3 }))]);
    await h.clock.advance(3000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1500, 2500]);
    expect(h.transitions).toEqual([]);
  });

  it('comes back after `rise` passes, one interval apart', async () => {
    const h = harness((_a, n) => (n < 2 ? refused : pass));
    h.checker.sync([target('p/a', '127.0.0.2', spec({ rise: 3, fall: 2, fastFail: true }))]);
    await h.clock.advance(5000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 500, 1500, 2500, 3500, 4500]);
    expect(h.transitions.map((t) => [t.from, t.to, t.at])).toEqual([
      ['up', 'down', 500],
      ['down', 'up', 3500],
    ]);
  });

  it('aborts a hung probe at its timeout and counts it as a failure', async () => {
    const h = harness(() => ({ ok: true, ms: Infinity }));
    h.checker.sync([target('p/a', '127.0.0.2', spec({ timeoutMs: 300 }))]);
    await h.clock.advance(1000);
    expect(h.prober.calls[0]).toMatchObject({ at: 500, abortedAt: 800, endedAt: 800 });
    expect(h.transitions).toEqual([{ from: 'up', to: 'down', at: 800, reason: 'timeout', targets: ['p/a'] }]);
    // The next probe keeps the rhythm of the loop: an interval after the hung one started.
    await h.clock.advance(600);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1500]);
  });

  it('shows a transition only once the promise onTransition returns resolves, and offers a refused one again after the next probe', async () => {
    // The first offer is refused (a journal that cannot write), the second is held until released.
    let release: () => void = () => {};
    const offers: [string, string, number][] = [];
    const shown: string[] = [];
    const h = harness(() => refused, {
      onTransition: (_c, t) => {
        offers.push([t.from, t.to, t.at]);
        if (offers.length === 1) return Promise.reject(new Error('ENOSPC'));
        return new Promise<void>((r) => (release = r));
      },
      onShown: (c) => void shown.push(c.state),
    });
    h.checker.sync([target('p/a', '127.0.0.2', spec({ fall: 1 }))]);
    await h.clock.advance(600);
    expect(offers).toEqual([['up', 'down', 500]]);
    // Refused: still up, and a state that may change any moment (nextAt Infinity: the shortest TTL).
    expect(h.checker.statusOf('p/a')).toMatchObject({ state: 'up', nextAt: Infinity });
    await h.clock.advance(1000);
    expect(offers).toEqual([
      ['up', 'down', 500],
      ['up', 'down', 500],
    ]);
    expect(h.checker.statusOf('p/a')).toMatchObject({ state: 'up' });
    // Held: no third offer while one is pending.
    await h.clock.advance(1000);
    expect(offers).toHaveLength(2);
    release();
    await h.clock.advance(0);
    expect(h.checker.statusOf('p/a')).toMatchObject({ state: 'down', since: 500 });
    expect(shown).toEqual(['down']);
  });

  it('starts in the last known state (warm start) rather than the initial one', async () => {
    const a = target('p/a', '127.0.0.2', spec({ rise: 2 }));
    const known = new Map([[checkKey(a.address, a.check!), { state: 'down' as const, since: 42 }]]);
    const h = harness(() => pass, { known, initial: 'up' });
    h.checker.sync([a, target('p/b', '127.0.0.3')]);
    expect(h.checker.statusOf('p/a')).toMatchObject({ state: 'down', since: 42, remaining: 2 });
    expect(h.checker.statusOf('p/b')).toMatchObject({ state: 'up', since: 0 });
    await h.clock.advance(1600);
    expect(h.transitions.map((t) => [t.targets, t.to, t.at])).toEqual([[['p/a'], 'up', 1500]]);
  });

  it('starts a check with no known state in the `initial` state', () => {
    const h = harness(() => pass, { initial: 'down' });
    h.checker.sync([target('p/a', '127.0.0.2')]);
    expect(h.checker.statusOf('p/a')).toMatchObject({ state: 'down', remaining: 1 });
  });

  it("starts a new check in its own `initial` state, and a known one in the journal's state", () => {
    const down = spec({ initial: 'down' });
    const known = target('p/k', '127.0.0.4', spec({ initial: 'down', port: 81 }));
    const h = harness(() => pass, {
      known: new Map([[checkKey(known.address, known.check!), { state: 'up' as const, since: 7 }]]),
    });
    h.checker.sync([target('p/a', '127.0.0.2', down), target('p/b', '127.0.0.3'), known]);
    expect(h.checker.statusOf('p/a')).toMatchObject({ state: 'down' });
    expect(h.checker.statusOf('p/b')).toMatchObject({ state: 'up' });
    expect(h.checker.statusOf('p/k')).toMatchObject({ state: 'up', since: 7 });
  });

  it('has no check for a target without one', () => {
    const h = harness(() => pass);
    h.checker.sync([target('p/a', '127.0.0.2', null)]);
    expect(h.checker.statusOf('p/a')).toBeUndefined();
    expect(h.checker.all()).toEqual([]);
  });
});

describe('HealthChecker.sync', () => {
  it('stops the checks of removed targets: the probe in flight is aborted and none follows', async () => {
    const h = harness((address) => (address === '127.0.0.2' ? { ok: true, ms: Infinity } : pass));
    const b = target('p/b', '127.0.0.3');
    h.checker.sync([target('p/a', '127.0.0.2'), b]);
    await h.clock.advance(600);
    const inFlight = h.prober.callsTo('127.0.0.2');
    expect(inFlight.map((c) => [c.at, c.abortedAt])).toEqual([[500, undefined]]);
    h.checker.sync([b]);
    expect(inFlight[0]!.options.signal.aborted).toBe(true);
    expect(h.checker.statusOf('p/a')).toBeUndefined();
    await h.clock.advance(10_000);
    expect(h.prober.callsTo('127.0.0.2')).toHaveLength(1);
    // Its (aborted) result reached no state machine.
    expect(h.transitions).toEqual([]);
    expect(h.results.filter((r) => r.key === checkKey('127.0.0.2', TCP))).toEqual([]);
    expect(h.prober.callsTo('127.0.0.3').length).toBeGreaterThanOrEqual(10);
  });

  it('stops a check whose only timer is pending (nothing in flight)', async () => {
    const h = harness(() => pass);
    h.checker.sync([target('p/a', '127.0.0.2')]);
    await h.clock.advance(700);
    h.checker.sync([]);
    expect(h.clock.pending).toBe(0);
    await h.clock.advance(5000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500]);
  });

  it('starts checks for new targets and keeps running ones untouched', async () => {
    const h = harness(() => pass);
    const a = target('p/a', '127.0.0.2');
    h.checker.sync([a]);
    await h.clock.advance(1000);
    h.checker.sync([a, target('p/c', '127.0.0.4')]);
    await h.clock.advance(2000);
    expect(h.prober.callsTo('127.0.0.2').map((c) => c.at)).toEqual([500, 1500, 2500]);
    expect(h.prober.callsTo('127.0.0.4').map((c) => c.at)).toEqual([1500, 2500]);
  });

  it('moves a target to a new loop when its check changes (new key), and stops the old one', async () => {
    const h = harness(() => pass);
    h.checker.sync([target('p/a', '127.0.0.2')]);
    await h.clock.advance(1000);
    h.checker.sync([target('p/a', '127.0.0.2', spec({ port: 9090 }))]);
    expect(h.checker.all()).toHaveLength(1);
    expect(h.checker.statusOf('p/a')!.spec.port).toBe(9090);
  });

  it('stop() ends every loop', async () => {
    const h = harness(() => ({ ok: true, ms: Infinity }));
    h.checker.sync([target('p/a', '127.0.0.2'), target('p/b', '127.0.0.3')]);
    await h.clock.advance(600);
    h.checker.stop();
    expect(h.prober.calls.every((c) => c.options.signal.aborted)).toBe(true);
    await h.clock.advance(5000);
    expect(h.prober.calls).toHaveLength(2);
    expect(h.clock.pending).toBe(0);
  });
});

describe('HealthChecker concurrency', () => {
  it('keeps at most maxConcurrent probes in flight overall and runs the rest as slots free up', async () => {
    const h = harness(() => ({ ok: true, ms: 100 }), { maxConcurrent: 2, random: sequence(0, 0, 0, 0, 0) });
    h.checker.sync(Array.from({ length: 5 }, (_, i) => target(`p/${i}`, `127.0.0.${i + 2}`)));
    await h.clock.advance(999);
    expect(h.prober.maxInFlight).toBe(2);
    expect(h.prober.calls.map((c) => c.at)).toEqual([0, 0, 100, 100, 200]);
  });

  it('by default has room for every check to time out once per interval, so no probe waits behind them', async () => {
    let seed = 11;
    const lcg = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    // 800 black-holed targets, each probe running into its 500 ms timeout: 400 in flight on average.
    const h = harness((address) => (address === '127.0.9.9' ? pass : { ok: false, ms: Infinity }), { random: lcg });
    h.checker.sync([
      ...Array.from({ length: 800 }, (_, i) => target(`p/${i}`, `127.0.${i >> 8}.${(i & 255) + 1}`)),
      target('p/ok', '127.0.9.9'),
    ]);
    await h.clock.advance(5000);
    expect(h.prober.maxInFlight).toBeGreaterThan(256);
    const gaps = new Map<string, number[]>();
    for (const c of h.prober.calls) {
      const g = gaps.get(c.address) ?? [];
      g.push(c.at);
      gaps.set(c.address, g);
    }
    // Every check, the black-holed ones and the healthy one, keeps its interval ± 5% jitter.
    for (const at of gaps.values()) {
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(950);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeLessThanOrEqual(1050);
    }
    expect(gaps.get('127.0.9.9')!.length).toBeGreaterThanOrEqual(4);
  });

  it('starts at most 256 probes per turn of the event loop, and the rest in the next turns in the order they came due', async () => {
    const h = harness(() => ({ ok: true, ms: 100 }), { random: () => 0 });
    const addresses = Array.from({ length: 500 }, (_, i) => `127.0.${i >> 8}.${(i & 255) + 1}`);
    h.checker.sync(addresses.map((a, i) => target(`p/${i}`, a)));
    // Due at 0 like the checks' first timers and set after them: runs once they have all fired,
    // before the turn that starts the next probes.
    let firstTurn = -1;
    h.clock.setTimeout(() => (firstTurn = h.prober.calls.length), 0);
    await h.clock.advance(0);
    expect(firstTurn).toBe(256);
    expect(h.prober.calls.map((c) => c.address)).toEqual(addresses);
    expect(h.prober.calls.every((c) => c.at === 0)).toBe(true);
  });
});

describe('HealthChecker watch (tcp with fastFail)', () => {
  const fast = spec({ fastFail: true });
  it('passes a watch to tcp probes with fastFail only', async () => {
    const h = harness(() => pass);
    h.checker.sync([
      target('p/a', '127.0.0.2', fast),
      target('p/b', '127.0.0.3', spec({ type: 'http', port: 80, fastFail: true })),
      target('p/c', '127.0.0.4'),
    ]);
    await h.clock.advance(999);
    expect(h.prober.callsTo('127.0.0.2')[0]!.options.watch).toBeDefined();
    expect(h.prober.callsTo('127.0.0.3')[0]!.options.watch).toBeUndefined();
    expect(h.prober.callsTo('127.0.0.4')[0]!.options.watch).toBeUndefined();
  });

  it('re-probes at once when a watched connection is lost, and ends the watch at the next probe', async () => {
    const h = harness((_a, n) => (n === 0 ? pass : refused));
    h.checker.sync([target('p/a', '127.0.0.2', fast)]);
    await h.clock.advance(700);
    const first = h.prober.calls[0]!;
    first.options.watch!.onLost();
    await h.clock.advance(0);
    expect(first.options.watch!.signal.aborted).toBe(true);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 700]);
    expect(h.transitions).toEqual([
      { from: 'up', to: 'down', at: 700, reason: 'connect ECONNREFUSED', targets: ['p/a'] },
    ]);
  });

  it('stops watching a target that closes idle connections itself while it stays up', async () => {
    const h = harness(() => pass);
    h.checker.sync([target('p/a', '127.0.0.2', fast)]);
    await h.clock.advance(700);
    h.prober.calls[0]!.options.watch!.onLost();
    await h.clock.advance(0);
    // The re-probe passed within an interval of the loss: the target closes idle connections.
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 700]);
    await h.clock.advance(2000);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 700, 1700, 2700]);
    expect(h.prober.calls.slice(2).map((c) => c.options.watch)).toEqual([undefined, undefined]);
    expect(h.transitions).toEqual([]);
  });

  it('ignores a loss reported after the watch ended', async () => {
    const h = harness(() => pass);
    h.checker.sync([target('p/a', '127.0.0.2', fast)]);
    await h.clock.advance(1600);
    h.prober.calls[0]!.options.watch!.onLost();
    await h.clock.advance(100);
    expect(h.prober.calls.map((c) => c.at)).toEqual([500, 1500]);
  });
});
