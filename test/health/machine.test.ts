// The state machine alone decides up/down (gdnsd's model): exact sequences of pass/fail with
// simulated time values, for every rise and fall threshold the pools file accepts (1..10).

import { describe, expect, it } from 'vitest';
import { HealthMachine, type MachineConfig } from '../../src/3-health/machine.ts';

/** Damping far out of reach, for the tests of thresholds alone. */
const NO_DAMPING = { flapLimit: 1000, flapWindowMs: 1, holdMs: 0 };
const machine = (rise: number, fall: number, initial: 'up' | 'down' = 'up', damping = NO_DAMPING) =>
  new HealthMachine({ rise, fall, ...damping }, initial, 0);

/** Feeds results one second apart from `start`; returns the index of each transition. */
function feed(m: HealthMachine, results: readonly boolean[], start = 1000): { i: number; to: string; at: number }[] {
  const out: { i: number; to: string; at: number }[] = [];
  results.forEach((ok, i) => {
    const t = m.record(ok, ok ? 'pass' : 'fail', start + i * 1000);
    if (t) out.push({ i, to: t.to, at: t.at });
  });
  return out;
}

const THRESHOLDS = Array.from({ length: 10 }, (_, i) => i + 1);

describe('HealthMachine thresholds', () => {
  it.each(THRESHOLDS)('goes down after exactly fall=%i consecutive failures', (fall) => {
    const m = machine(1, fall);
    for (let i = 1; i < fall; i++) {
      expect(m.record(false, 'HTTP 500', i)).toBeNull();
      expect(m.state).toBe('up');
      expect(m.remaining).toBe(fall - i);
    }
    expect(m.record(false, 'HTTP 500', fall)).toEqual({ from: 'up', to: 'down', at: fall, reason: 'HTTP 500' });
    expect(m.state).toBe('down');
    expect(m.since).toBe(fall);
  });

  it.each(THRESHOLDS)('comes up after exactly rise=%i consecutive passes', (rise) => {
    const m = machine(rise, 1, 'down');
    for (let i = 1; i < rise; i++) {
      expect(m.record(true, 'connected', i)).toBeNull();
      expect(m.state).toBe('down');
      expect(m.remaining).toBe(rise - i);
    }
    expect(m.record(true, 'connected', rise)).toEqual({ from: 'down', to: 'up', at: rise, reason: 'connected' });
    expect(m.state).toBe('up');
  });

  it.each(THRESHOLDS.flatMap((rise) => THRESHOLDS.map((fall) => [rise, fall] as const)))(
    'rise=%i fall=%i: a full down-and-up cycle takes exactly fall failures then rise passes',
    (rise, fall) => {
      const m = machine(rise, fall);
      const results = [...Array<boolean>(fall).fill(false), ...Array<boolean>(rise).fill(true)];
      expect(feed(m, results)).toEqual([
        { i: fall - 1, to: 'down', at: 1000 + (fall - 1) * 1000 },
        { i: fall + rise - 1, to: 'up', at: 1000 + (fall + rise - 1) * 1000 },
      ]);
    },
  );

  it('a pass resets the failure count: fall=3 never goes down on fail, fail, pass, fail, fail', () => {
    const m = machine(2, 3);
    expect(feed(m, [false, false, true, false, false])).toEqual([]);
    expect(m.state).toBe('up');
    expect(m.remaining).toBe(1);
    expect(feed(m, [false], 9000)).toEqual([{ i: 0, to: 'down', at: 9000 }]);
  });

  it('a failure resets the pass count: rise=3 never comes up on pass, pass, fail, pass, pass', () => {
    const m = machine(3, 1, 'down');
    expect(feed(m, [true, true, false, true, true])).toEqual([]);
    expect(m.state).toBe('down');
    expect(m.remaining).toBe(1);
    expect(feed(m, [true], 9000)).toEqual([{ i: 0, to: 'up', at: 9000 }]);
  });

  it('passes while up and failures while down change nothing and do not count ahead', () => {
    const m = machine(2, 2);
    expect(feed(m, [true, true, true])).toEqual([]);
    expect(m.remaining).toBe(2);
    feed(m, [false, false]);
    expect(m.state).toBe('down');
    expect(feed(m, [false, false, false], 10_000)).toEqual([]);
    expect(m.remaining).toBe(2);
  });

  it('keeps the reason of the latest result', () => {
    const m = machine(2, 2);
    m.record(false, 'connect ECONNREFUSED', 1);
    expect(m.reason).toBe('connect ECONNREFUSED');
    m.record(true, 'connected', 2);
    expect(m.reason).toBe('connected');
  });
});

describe('HealthMachine flap damping', () => {
  const DAMP: Pick<MachineConfig, 'flapLimit' | 'flapWindowMs' | 'holdMs'> = {
    flapLimit: 4,
    flapWindowMs: 60_000,
    holdMs: 30_000,
  };

  /** Down at t, up at t+1000, down at t+2000 ... with rise=fall=1. */
  function flip(m: HealthMachine, times: readonly number[]) {
    return times.map((t, i) => m.record(i % 2 === 1, i % 2 === 1 ? 'pass' : 'fail', t));
  }

  it('holds a check down for holdMs when it goes down with flapLimit or more changes in the window', () => {
    const m = machine(1, 1, 'up', DAMP);
    // Changes at 1000 (down), 2000 (up), 3000 (down), 4000 (up): 4 in the window, but the 4th is
    // up: the hold starts only when going down.
    const ts = flip(m, [1000, 2000, 3000, 4000]);
    expect(ts.map((t) => t?.to)).toEqual(['down', 'up', 'down', 'up']);
    expect(m.heldUntil).toBe(0);
    const held = m.record(false, 'HTTP 500', 5000);
    expect(held).toMatchObject({ from: 'up', to: 'down', at: 5000 });
    expect(held!.reason).toBe('HTTP 500; flapping (5 changes in 60s): held down 30s');
    expect(m.heldUntil).toBe(35_000);
  });

  it('ignores passes during the hold and releases on the first pass at or after holdMs', () => {
    const m = machine(1, 1, 'up', DAMP);
    flip(m, [1000, 2000, 3000, 4000, 5000]);
    expect(m.heldUntil).toBe(35_000);
    for (const t of [6000, 20_000, 34_999]) {
      expect(m.record(true, 'connected', t)).toBeNull();
      expect(m.state).toBe('down');
    }
    expect(m.record(true, 'connected', 35_000)).toEqual({ from: 'down', to: 'up', at: 35_000, reason: 'connected' });
  });

  it('with rise=2, passes during the hold count: the first pass once it ends brings the check up', () => {
    const m = machine(2, 1, 'up', { ...DAMP, flapLimit: 2 });
    m.record(false, 'fail', 1000);
    m.record(true, 'pass', 2000);
    m.record(true, 'pass', 3000);
    expect(m.state).toBe('up');
    expect(m.record(false, 'fail', 4000)?.reason).toContain('held down 30s');
    expect(m.heldUntil).toBe(34_000);
    expect(m.record(true, 'pass', 5000)).toBeNull();
    expect(m.record(true, 'pass', 6000)).toBeNull();
    expect(m.record(true, 'pass', 33_000)).toBeNull();
    expect(m.record(true, 'pass', 34_000)?.to).toBe('up');
  });

  it('does not hold a check whose changes are spread wider than the window', () => {
    const m = machine(1, 1, 'up', DAMP);
    // Five changes, 20 s apart: never more than 3 within 60 s.
    const ts = flip(m, [0, 20_000, 40_000, 60_000, 80_000]);
    expect(ts.map((t) => t?.to)).toEqual(['down', 'up', 'down', 'up', 'down']);
    expect(ts.every((t) => !t!.reason.includes('flapping'))).toBe(true);
    expect(m.heldUntil).toBe(0);
    expect(m.record(true, 'pass', 81_000)?.to).toBe('up');
  });
});

describe('HealthMachine.restore', () => {
  it('sets state and since outright and restarts both counters', () => {
    const m = machine(3, 3);
    m.record(false, 'fail', 1);
    m.record(false, 'fail', 2);
    m.restore('down', 500);
    expect(m.state).toBe('down');
    expect(m.since).toBe(500);
    expect(m.remaining).toBe(3);
    expect(m.record(true, 'pass', 600)).toBeNull();
    expect(m.record(true, 'pass', 700)).toBeNull();
    expect(m.record(true, 'pass', 800)).toEqual({ from: 'down', to: 'up', at: 800, reason: 'pass' });
  });

  it('a restore to up needs the full fall count again', () => {
    const m = machine(1, 2, 'down');
    m.restore('up', 10);
    expect(m.record(false, 'fail', 20)).toBeNull();
    expect(m.record(false, 'fail', 30)?.to).toBe('down');
  });

  it('starts in the state and time given to the constructor, with its reason', () => {
    const m = new HealthMachine({ rise: 2, fall: 2, ...NO_DAMPING }, 'down', 1234, 'last known state');
    expect([m.state, m.since, m.reason, m.heldUntil, m.remaining]).toEqual(['down', 1234, 'last known state', 0, 2]);
  });
});
