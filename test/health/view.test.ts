// Combining signals into what answers use: an override wins until it expires, a monitor report
// and the probe check must both allow a target, and nextChange is the soonest any of them could
// change (the TTL bound, gdnsd's idea).

import { describe, expect, it } from 'vitest';
import type { TargetDef } from '../../src/4-gslb/types.ts';
import type { CheckSpec } from '../../src/3-health/types.ts';
import { HealthChecker, type CheckStatus } from '../../src/3-health/checker.ts';
import type { Prober } from '../../src/3-health/types.ts';
import { earliestChange, TargetHealth } from '../../src/7-state/target-health.ts';
import { JournaledStore } from '../../src/7-state/store.ts';
import { FakeClock } from './fake-clock.ts';

const T: TargetDef = { id: 'www.example./192.0.2.1', address: '192.0.2.1', family: 4, weight: 3, check: null, line: 1 };

function check(over: Partial<CheckStatus>): CheckStatus {
  return {
    key: 'k',
    address: '192.0.2.1',
    targets: new Set([T.id]),
    last: null,
    lastAt: 0,
    nextAt: 10_000,
    state: 'up',
    since: 0,
    remaining: 2,
    heldUntil: 0,
    spec: {
      type: 'tcp',
      port: 80,
      intervalMs: 5000,
      timeoutMs: 1000,
      rise: 3,
      fall: 2,
      path: '/',
      expect: [200],
      insecure: false,
    },
    ...over,
  };
}

function setup(status: CheckStatus | undefined, now = 1000) {
  const store = new JournaledStore(null, () => now);
  const view = new TargetHealth({ statusOf: () => status }, store);
  return { store, view };
}

describe('earliestChange', () => {
  it('a steady up check can fall only after `fall` failures: its next probe and fall − 1 more', () => {
    expect(earliestChange(check({ state: 'up', nextAt: 7000, remaining: 2 }), 1000)).toBe(7000 + 4750);
  });

  it('an up check in transition (failures counted) can fall once the rest of them are counted', () => {
    expect(earliestChange(check({ state: 'up', nextAt: 7000, remaining: 1 }), 1000)).toBe(7000);
  });

  it('with fastFail, an up check can fall at its next probe; a watched (tcp) one at any moment', () => {
    const spec = check({}).spec;
    expect(earliestChange(check({ nextAt: 7000, spec: { ...spec, type: 'http', fastFail: true } }), 1000)).toBe(7000);
    expect(earliestChange(check({ nextAt: 7000, spec: { ...spec, fastFail: true } }), 1000)).toBe(1000);
  });

  it('a change waiting to be made durable shows any moment', () => {
    expect(earliestChange(check({ state: 'up', nextAt: Infinity, remaining: 0 }), 1000)).toBe(1000);
  });

  it('a down check needs `remaining` passes, an interval apart less the jitter', () => {
    expect(earliestChange(check({ state: 'down', nextAt: 7000, remaining: 3 }), 1000)).toBe(7000 + 2 * 4750);
    expect(earliestChange(check({ state: 'down', nextAt: 7000, remaining: 1 }), 1000)).toBe(7000);
  });

  it('a held check cannot come up before its hold ends', () => {
    expect(earliestChange(check({ state: 'down', nextAt: 7000, remaining: 1, heldUntil: 60_000 }), 1000)).toBe(60_000);
  });

  it('a held check with its passes already counted can come up at its next probe after the hold', () => {
    expect(earliestChange(check({ state: 'down', nextAt: 7000, remaining: -2, heldUntil: 5000 }), 1000)).toBe(7000);
  });

  it('is never later than the change it predicts, however the probes are jittered', async () => {
    // Every jitter draw at its most negative (-5%): the passes come as early as they can.
    const clock = new FakeClock();
    let at = -1;
    // Fails until 2 s, passes after: down at once, then back after `rise` passes.
    const prober: Prober = { probe: async () => ({ ok: clock.now() > 2000, reason: '', hard: false, latencyMs: 0 }) };
    const checker = new HealthChecker({
      probers: { tcp: prober, http: prober, https: prober, dns: prober },
      clock,
      random: () => 0,
      initial: 'up',
      onTransition: (_c, t) => {
        if (t.to === 'up') at = t.at;
      },
    });
    const spec: CheckSpec = {
      type: 'http',
      port: 80,
      intervalMs: 1000,
      timeoutMs: 500,
      rise: 4,
      fall: 1,
      path: '/',
      expect: [200],
      insecure: false,
    };
    checker.sync([{ ...T, check: spec }]);
    const predicted: number[] = [];
    for (let t = 0; t < 8000; t += 50) {
      const s = checker.statusOf(T.id)!;
      if (s.state === 'down') predicted.push(earliestChange(s, clock.now()));
      await clock.advance(50);
    }
    expect(at).toBe(5700); // probes at 0, 950, 1900 (fail), 2850, 3800, 4750, 5700 (pass)
    expect(predicted.length).toBeGreaterThan(0);
    expect(Math.max(...predicted)).toBeLessThanOrEqual(at);
  });

  it('a probe in flight is the next probe: it counts now', () => {
    expect(earliestChange(check({ nextAt: Infinity, lastAt: 4000, remaining: 1 }), 4500)).toBe(4500);
    expect(earliestChange(check({ nextAt: Infinity, lastAt: 4000, remaining: 2 }), 4500)).toBe(4500 + 4750);
  });
});

describe('TargetHealth', () => {
  it('a target without a check or any state is up with no bound on its TTL', () => {
    const { view } = setup(undefined);
    expect(view.status(T, 1000)).toEqual({ up: true });
  });

  it('follows the check: down when it is down, with its next possible change', () => {
    expect(setup(check({ state: 'down', nextAt: 3000, remaining: 1 })).view.status(T, 1000)).toEqual({
      up: false,
      nextChange: 3000,
    });
    expect(setup(check({ state: 'up', nextAt: 3000, remaining: 1 })).view.status(T, 1000)).toEqual({
      up: true,
      nextChange: 3000,
    });
  });

  it('an unexpired monitor report of down wins over a passing check; an expired one is ignored', async () => {
    const { store, view } = setup(check({ state: 'up', nextAt: 9000, remaining: 1 }));
    await store.commit('api:test', [
      { kind: 'report', target: T.id, state: 'down', reason: 'maintenance', validMs: 5000 },
    ]);
    expect(view.status(T, 2000)).toEqual({ up: false, nextChange: 6000 });
    expect(view.status(T, 6000)).toEqual({ up: true, nextChange: 9000 });
  });

  it('an override wins over a failing check until it expires', async () => {
    const { store, view } = setup(check({ state: 'down', nextAt: 9000, remaining: 1 }));
    await store.commit('api:test', [{ kind: 'override', target: T.id, state: 'up', reason: 'forced', validMs: 3000 }]);
    expect(view.status(T, 2000)).toEqual({ up: true, nextChange: 4000 });
    expect(view.status(T, 4000)).toEqual({ up: false, nextChange: 9000 });
  });

  it('a drain override keeps the target up with weight 0', async () => {
    const { store, view } = setup(undefined);
    await store.commit('api:test', [{ kind: 'override', target: T.id, state: 'drain', reason: 'upgrade' }]);
    expect(view.status(T, 2000)).toMatchObject({ up: true, weight: 0 });
  });
});
