// What a worker follows of its primary, without processes: check statuses (PrimaryChecks fed as
// 9-main/cluster/primary.ts feeds it) give the same up/down and the same next possible change (the TTL
// bound) as the primary's own HealthChecker, at every moment; a store fed with the primary's
// snapshot and changesets holds the same state; a commit waits for its followers.

import { describe, expect, it } from 'vitest';
import { checkUpdate } from '../../src/9-main/cluster/messages.ts';
import { PrimaryChecks } from '../../src/9-main/cluster/checks.ts';
import type { TargetDef } from '../../src/4-gslb/types.ts';
import type { CheckSpec } from '../../src/3-health/types.ts';
import { checkKey, HealthChecker } from '../../src/3-health/checker.ts';
import type { Prober, ProbeResult } from '../../src/3-health/types.ts';
import { TargetHealth } from '../../src/7-state/target-health.ts';
import { JournaledStore } from '../../src/7-state/store.ts';
import { FakeClock } from '../health/fake-clock.ts';

const HTTP: CheckSpec = {
  type: 'http',
  port: 80,
  intervalMs: 1000,
  timeoutMs: 500,
  rise: 3,
  fall: 2,
  path: '/',
  expect: [200],
  insecure: false,
};
const target = (id: string, address: string, check: CheckSpec | null): TargetDef => ({
  id,
  address,
  family: 4,
  weight: 1,
  check,
  line: 1,
});

/** Each probe takes 40 ms; what it finds depends on when it started. */
function scripted(clock: FakeClock, at: (now: number) => Omit<ProbeResult, 'latencyMs'>): Prober {
  return {
    probe: () =>
      new Promise((resolve) => {
        const r = at(clock.now());
        clock.setTimeout(() => resolve({ ...r, latencyMs: 40 }), 40);
      }),
  };
}

describe('PrimaryChecks', () => {
  it("gives the primary's up/down and next possible change at every moment, probes in flight included", async () => {
    const clock = new FakeClock(1_000_000);
    const t0 = clock.now();
    // Passes, then fails softly (timeouts), then is refused (hard: confirmed at once), then passes again.
    const prober = scripted(clock, (now) => {
      const t = now - t0;
      if (t < 3000 || t >= 9000) return { ok: true, hard: false, reason: 'pass' };
      if (t < 6000) return { ok: false, hard: false, reason: 'timeout' };
      return { ok: false, hard: true, reason: 'refused' };
    });
    const store = new JournaledStore(null, () => clock.now());
    const worker = new PrimaryChecks(store.probes(), () => clock.now());
    const checker = new HealthChecker({
      probers: { tcp: prober, http: prober, https: prober, dns: prober },
      clock,
      random: () => 0.3,
      known: store.probes(),
      onResult: (c) => worker.update([checkUpdate(c)], false),
    });
    const targets = [
      target('p./192.0.2.1', '192.0.2.1', HTTP),
      target('p./192.0.2.2', '192.0.2.2', HTTP),
      target('p./192.0.2.3', '192.0.2.3', null),
    ];
    checker.sync(targets);
    worker.update(checker.all().map(checkUpdate), true);
    worker.sync(targets);
    const primaryView = new TargetHealth(checker, store);
    const workerView = new TargetHealth(worker, store);
    const seen = new Set<string>();
    for (let step = 0; step < 1400; step++) {
      const now = clock.now();
      for (const t of targets) {
        const p = primaryView.status(t, now);
        expect(workerView.status(t, now), `${t.address} at +${now - t0} ms`).toEqual(p);
        const c = checker.statusOf(t.id);
        if (c) seen.add(`${c.state}${c.nextAt === Infinity ? ', in flight' : ''}`);
      }
      await clock.advance(10);
    }
    expect([...seen].sort()).toEqual(['down', 'down, in flight', 'up', 'up, in flight']);
    checker.stop();
  });

  it('a check not reported yet: its last known state, its first probe any moment (rise passes from now)', async () => {
    const store = new JournaledStore(null, () => 5000);
    const t = target('p./192.0.2.9', '192.0.2.9', HTTP);
    await store.commit('probe', [{ kind: 'probe', check: checkKey(t.address, HTTP), state: 'down', since: 1000 }]);
    const worker = new PrimaryChecks(store.probes(), () => 5000);
    worker.sync([t]);
    expect(worker.statusOf(t.id)).toMatchObject({ state: 'down', since: 1000, nextAt: Infinity, lastAt: 0 });
    // rise 3: passes now, and two more an interval (less 5 % jitter) apart.
    expect(new TargetHealth(worker, store).status(t, 5000)).toEqual({ up: false, nextChange: 5000 + 2 * 950 });
  });

  it('keeps the last status of a check the primary dropped while its own zones still have it', () => {
    const t = target('p./192.0.2.9', '192.0.2.9', HTTP);
    const key = checkKey(t.address, HTTP);
    const worker = new PrimaryChecks(new Map(), () => 5000);
    worker.sync([t]);
    worker.update([{ key, state: 'down', since: 4000, lastAt: 4000, nextAt: 6000, remaining: 3, heldUntil: 0 }], false);
    // The primary reloaded first and runs no such check any more; this worker has not reloaded yet.
    worker.update([], true);
    expect(worker.statusOf(t.id)).toMatchObject({ state: 'down', nextAt: 6000 });
    // Once its zones drop the check too, the status goes with the next full update.
    worker.sync([]);
    worker.update([], true);
    worker.sync([t]);
    expect(worker.statusOf(t.id)).toMatchObject({ state: 'up', nextAt: Infinity });
  });
});

describe('a store following another', () => {
  it('holds the same state from a snapshot plus every later changeset, each applied once', async () => {
    const primary = new JournaledStore(null, () => 1000);
    await primary.commit('api:t', [
      { kind: 'weight', target: 'a', weight: 5 },
      { kind: 'override', target: 'b', state: 'drain', reason: 'x' },
    ]);
    const follower = new JournaledStore(null);
    follower.restore(structuredClone(primary.snapshot()));
    const seen: number[] = [];
    follower.onChange((cs) => void seen.push(cs.seq));
    primary.onChange((cs) => follower.apply(structuredClone(cs)));
    await primary.commit('api:t', [{ kind: 'rrset', zone: 'z.', name: 'n.z.', type: 1, ttl: 60, rdata: ['c0000201'] }]);
    await primary.commit('api:t', [{ kind: 'load', target: 'a', load: 1, capacity: 10, validMs: 5000 }]);
    // A changeset it already has (in its snapshot, or sent twice) changes nothing.
    follower.apply({ seq: 1, at: 0, source: 'api:t', changes: [{ kind: 'weight', target: 'a', weight: 1 }] });
    expect(seen).toEqual([2, 3]);
    expect(follower.snapshot()).toEqual(primary.snapshot());
    expect(follower.target('b')?.override?.expiresAt).toBe(Infinity);
  });

  it('a commit is acknowledged only once its followers have applied it', async () => {
    const store = new JournaledStore(null);
    let applied: () => void = () => {};
    store.onChange(() => new Promise<void>((r) => (applied = r)));
    let done = false;
    const commit = store.commit('api:t', [{ kind: 'weight', target: 'a', weight: 2 }]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
    // Applied here already (answers see it), acknowledged later.
    expect(store.target('a')?.weight).toBe(2);
    applied();
    await commit;
    expect(done).toBe(true);
  });
});
