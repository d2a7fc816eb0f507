// Honest TTLs (issue 14): a pool answer's TTL is bounded by the earliest moment a state change could
// take effect, not by when the next probe runs. Each case below is pinned with an injected clock:
// a real HealthChecker probing through a scripted prober, the TargetHealth answers use, and a pool
// parsed from a pools file with `ttl: 30` and `check: { interval: 5s, fall: 3, rise: 2 }`.

import { describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { parseName } from '../../src/0-base/name.ts';
import { HealthChecker } from '../../src/3-health/checker.ts';
import type { ProbeResult, Prober } from '../../src/3-health/types.ts';
import { Pool } from '../../src/4-gslb/pool.ts';
import { parsePoolsFile } from '../../src/4-gslb/pools-file.ts';
import { JournaledStore } from '../../src/7-state/store.ts';
import { TargetHealth } from '../../src/7-state/target-health.ts';
import { makeContext } from '../policy/helpers.ts';
import { FakeClock } from './fake-clock.ts';

const ORIGIN = 'example.com.';

function poolsText(check: string, extra = ''): string {
  return `www:
  ttl: 30
  answers: 2${extra}
  check: { type: tcp, port: 80, interval: 5s, fall: 3, rise: 2${check} }
  targets: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
`;
}

type Outcome = 'pass' | 'fail' | 'refused';

/**
 * A pool with its checks under a fake clock. Jitter draws are 0.5 (none), so every check's first
 * probe comes at half the interval and the later ones exactly an interval apart; `outcome` says
 * what each address's probes find from then on.
 */
function setupFrom(text: string) {
  const parsed = parsePoolsFile(text, `${ORIGIN}pools.yaml`, parseName(ORIGIN, null));
  expect(parsed.errors).toEqual([]);
  const def = parsed.pools[0]!;
  const pool = new Pool(def);
  const clock = new FakeClock();
  const outcome = new Map<string, Outcome>();
  const probes: number[] = [];
  const prober: Prober = {
    probe: async ({ address }) => {
      probes.push(clock.now());
      const o = outcome.get(address) ?? 'pass';
      const r: ProbeResult =
        o === 'pass'
          ? { ok: true, reason: 'connected', hard: false, latencyMs: 0 }
          : {
              ok: false,
              reason: o === 'refused' ? 'connect ECONNREFUSED' : 'timeout',
              hard: o === 'refused',
              latencyMs: 0,
            };
      return r;
    },
  };
  const checker = new HealthChecker({
    probers: { tcp: prober, http: prober, https: prober, dns: prober },
    clock,
    random: () => 0.5,
    initial: 'up',
  });
  checker.sync(def.targets);
  const store = new JournaledStore(null, () => clock.now());
  const health = new TargetHealth(checker, store);
  const answer = () => pool.answer(Type.A, makeContext({ now: clock.now() }), health);
  return {
    clock,
    outcome,
    store,
    probes,
    ttl: () => answer().ttl,
    /** The addresses answered. */
    addresses: () => {
      const a = answer();
      return (a.pick ?? a.targets.map((_, i) => i)).map((i) => a.targets[i]!.address).sort();
    },
    target: (a: string) => `www.${ORIGIN}/${a}`,
  };
}

/** `ttl: 30`, `check: { type: tcp, interval: 5s, fall: 3, rise: 2 }` plus `check` and `extra`. */
const setup = (check = '', extra = '') => setupFrom(poolsText(check, extra));

describe('the TTL of a pool answer', () => {
  it('a steady up check with fall 3 cannot change before 3 more probes: far above 1 s', async () => {
    const s = setup();
    await s.clock.advance(3000); // first probes at 2.5 s passed; next at 7.5 s
    // Earliest change: third failure at 7.5 + 2 × 4.75 (each later probe may come 5 % early) = 17 s.
    expect(s.ttl()).toBe(14);
    await s.clock.advance(4000); // 7 s: next probe at 7.5 s
    expect(s.ttl()).toBe(10);
    await s.clock.advance(1000); // 8 s: the 7.5 s probe passed, next at 12.5 s → 22 s
    expect(s.ttl()).toBe(14);
  });

  it('the configured ttl is the ceiling and min-ttl the floor', async () => {
    const long = setup('', '\n  min-ttl: 5');
    await long.clock.advance(3000);
    expect(long.ttl()).toBe(14);
    // interval 60 s: the bound (62.5 + 2 × 57 s) is past the ttl of 30 s.
    const slow = setupWithInterval('60s');
    await slow.clock.advance(31_000);
    expect(slow.ttl()).toBe(30);
  });

  it('a check in transition can change at its next probe: with one failure left, the TTL ends there', async () => {
    const s = setup('', '\n  min-ttl: 0');
    await s.clock.advance(3000);
    s.outcome.set('192.0.2.1', 'fail');
    await s.clock.advance(5000); // 8 s: one failure counted (7.5 s); two more at 12.5 and 17.5 s at the earliest
    expect(s.ttl()).toBe(Math.floor((12_500 + 4750 - 8000) / 1000));
    await s.clock.advance(5000); // 13 s: two counted; the next probe (17.5 s) can take it down
    expect(s.ttl()).toBe(4);
    expect(s.addresses()).toEqual(['192.0.2.1', '192.0.2.2']);
    await s.clock.advance(5000); // 18 s: down, as the TTL said it could be
    expect(s.addresses()).toEqual(['192.0.2.2']);
  });

  it('a down check needs `rise` passes: its TTL bound is the second of them', async () => {
    const s = setup();
    s.outcome.set('192.0.2.1', 'fail');
    await s.clock.advance(13_000); // failures at 2.5, 7.5, 12.5 s: down
    expect(s.addresses()).toEqual(['192.0.2.2']);
    s.outcome.set('192.0.2.1', 'pass');
    // Next probe 17.5 s, then one more pass at the earliest 4.75 s later: 22.25 s.
    expect(s.ttl()).toBe(9);
  });

  it('a hard failure counts as one failure by default: a refused connection does not take the target down at once', async () => {
    const s = setup();
    await s.clock.advance(3000);
    s.outcome.set('192.0.2.1', 'refused');
    await s.clock.advance(5000); // 8 s: refused at 7.5 s, not probed again until 12.5 s
    expect(s.addresses()).toEqual(['192.0.2.1', '192.0.2.2']);
    expect(s.probes.filter((t) => t > 7500 && t < 12_500)).toEqual([]);
    await s.clock.advance(10_000); // 18 s: third failure at 17.5 s
    expect(s.addresses()).toEqual(['192.0.2.2']);
  });

  it('fast-fail: true confirms a hard failure at once, and so bounds the TTL by the next probe', async () => {
    const s = setup(', fast-fail: true', '\n  min-ttl: 0');
    await s.clock.advance(3000);
    expect(s.ttl()).toBe(0); // tcp with fast-fail watches the connection: down any moment
    const h = setupHttpFastFail();
    await h.clock.advance(3000);
    expect(h.ttl()).toBe(4); // next probe at 7.5 s
    h.outcome.set('192.0.2.1', 'refused');
    await h.clock.advance(4600); // 7.6 s: refused at 7.5 s, then twice more at once
    expect(h.addresses()).toEqual(['192.0.2.2']);
  });

  it('a report or override bounds the TTL by its expiry', async () => {
    const s = setup();
    await s.clock.advance(3000);
    await s.store.commit('api:test', [
      { kind: 'report', target: s.target('192.0.2.1'), state: 'up', reason: 'ok', validMs: 6000 },
    ]);
    expect(s.ttl()).toBe(6);
    await s.store.commit('api:test', [
      { kind: 'override', target: s.target('192.0.2.2'), state: 'drain', reason: 'upgrade', validMs: 3000 },
    ]);
    expect(s.ttl()).toBe(3);
  });

  it('a load report bounds the TTL by its expiry', async () => {
    const s = setup();
    await s.clock.advance(3000);
    await s.store.commit('api:test', [
      { kind: 'load', target: s.target('192.0.2.1'), load: 1, capacity: 10, validMs: 8000 },
    ]);
    expect(s.ttl()).toBe(8);
  });
});

function setupWithInterval(interval: string) {
  const s = setupFrom(
    `www:
  ttl: 30
  answers: 2
  check: { type: tcp, port: 80, interval: ${interval}, timeout: 2s, fall: 3, rise: 2 }
  targets: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
`,
  );
  return s;
}

function setupHttpFastFail() {
  return setupFrom(`www:
  ttl: 30
  answers: 2
  min-ttl: 0
  check: { type: http, port: 80, interval: 5s, fall: 3, rise: 2, fast-fail: true }
  targets: [{ address: 192.0.2.1 }, { address: 192.0.2.2 }]
`);
}
