// The cluster store against the StateStore contract (store-suite.ts), over a real etcd started
// here; its durability is broken by killing etcd (refused at once) and repaired by starting it
// again on the same ports and data. Then what only a shared store has: two nodes, one order.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/7-state/etcd-store.ts';
import { NotDurableError, type Change } from '../../src/7-state/types.ts';
import { startEtcd, startEtcdCluster, type EtcdServer } from '../helpers/etcd.ts';
import { until } from '../helpers/listeners.ts';
import { runStoreSuite, type TestStore } from './store-suite.ts';

let etcd: EtcdServer;
beforeAll(async () => {
  etcd = await startEtcd();
}, 30_000);
afterAll(async () => {
  await etcd?.stop();
});

let prefixes = 0;
const open = async (prefix: string) => {
  const s = new EtcdStore({ endpoints: [etcd.endpoint], prefix, timeoutMs: 2000 });
  await s.open();
  return s;
};
async function node(prefix: string): Promise<TestStore & { reopen: () => Promise<TestStore> }> {
  return Object.assign(await open(prefix), { reopen: () => node(prefix) });
}

runStoreSuite({
  make: () => node(`/gslbd-test-${process.pid}-${++prefixes}/`),
  async breakDurability() {
    await etcd.kill();
    return () => etcd.start();
  },
});

const weight = (target: string, w: number): Change => ({ kind: 'weight', target, weight: w });

describe('two nodes on one etcd', () => {
  it('each sees the changes the other commits, in the same order', async () => {
    const prefix = `/gslbd-test-${process.pid}-${++prefixes}/`;
    const [a, b] = [await open(prefix), await open(prefix)];
    const seenB: number[] = [];
    b.onChange((cs) => void seenB.push(cs.seq));
    await a.commit('api:a', [weight('x', 1)]);
    await b.commit('api:b', [weight('y', 2)]);
    await a.commit('api:a', [weight('x', 3)]);
    await until(() => a.target('y')?.weight === 2 && b.target('x')?.weight === 3, 5000, 'both nodes caught up');
    expect([a.seq, b.seq]).toEqual([3, 3]);
    expect(seenB).toEqual([1, 2, 3]);
    await Promise.all([a.close(), b.close()]);
  });

  it('two writers on different nodes claiming the same thing: exactly one wins', async () => {
    const prefix = `/gslbd-test-${process.pid}-${++prefixes}/`;
    const nodes = [await open(prefix), await open(prefix), await open(prefix)];
    // Each node's writers claim "x" unless it is claimed: a check and its change, across nodes.
    const claim = (s: EtcdStore, n: number) =>
      s.transact(
        `w${n}`,
        () => (s.target('x')?.weight === undefined ? [weight('x', n)] : []),
        () => s.target('x')?.weight,
      );
    const results = await Promise.all(nodes.flatMap((s, i) => [1, 2, 3].map((k) => claim(s, i * 10 + k))));
    const winners = results.filter((r) => r.changeset !== null);
    expect(winners).toHaveLength(1);
    const w = winners[0]!.view;
    await until(() => nodes.every((s) => s.target('x')?.weight === w), 5000, 'every node has the winner');
    expect(results.map((r) => r.view)).toEqual(Array(9).fill(w));
    await Promise.all(nodes.map((s) => s.close()));
  });

  it('a node opened later reads the whole log, then follows it', async () => {
    const prefix = `/gslbd-test-${process.pid}-${++prefixes}/`;
    const a = await open(prefix);
    for (let i = 0; i < 20; i++) await a.commit('api:a', [weight(`t${i}`, i)]);
    const late = await open(prefix);
    expect([late.seq, late.target('t19')?.weight]).toEqual([20, 19]);
    await a.commit('api:a', [weight('t20', 20)]);
    await until(() => late.target('t20')?.weight === 20, 5000, 'the late node follows');
    await Promise.all([a.close(), late.close()]);
  });
});

describe('a lost watch', () => {
  it('is replaced after etcd comes back, and changes flow to the other node without the periodic read', async () => {
    const prefix = `/gslbd-test-${process.pid}-${++prefixes}/`;
    // The periodic read as good as off: only the watch can bring a's changes to b.
    const make = () => new EtcdStore({ endpoints: [etcd.endpoint], prefix, timeoutMs: 2000, pollMs: 600_000 });
    const [a, b] = [make(), make()];
    await a.open();
    await b.open();
    await a.commit('api:a', [weight('x', 1)]);
    await until(() => b.target('x')?.weight === 1, 5000, 'b follows');
    await etcd.kill();
    await etcd.start();
    await until(() => b.rewatches >= 1, 15_000, "b's watch replaced", 100);
    await until(
      async () => {
        try {
          await a.commit('api:a', [weight('y', 2)]);
          return true;
        } catch {
          return false;
        }
      },
      15_000,
      'a commit once etcd is back',
      200,
    );
    await until(() => b.target('y')?.weight === 2, 3000, "a's change at b by the new watch");
    await Promise.all([a.close(), b.close()]);
  }, 60_000);
});

describe('snapshots', () => {
  it('a node that starts, or comes back, after the log was trimmed catches up through the snapshot', async () => {
    const prefix = `/gslbd-test-${process.pid}-${++prefixes}/`;
    const dir = mkdtempSync(path.join(tmpdir(), 'gslbd-copy-'));
    const copy = path.join(dir, 'cluster-state.json');
    const make = (localCopy?: string) =>
      new EtcdStore({
        endpoints: [etcd.endpoint],
        prefix,
        timeoutMs: 2000,
        snapshotEvery: 10,
        ...(localCopy && { localCopy }),
      });
    try {
      const a = make();
      await a.open();
      // b follows to seq 5, then stops (its local copy at 5).
      const b = make(copy);
      await b.open();
      for (let i = 1; i <= 5; i++) await a.commit('api:a', [weight(`t${i}`, i)]);
      await until(() => b.seq === 5, 5000, 'b at 5');
      await b.close();
      for (let i = 6; i <= 35; i++) await a.commit('api:a', [weight(`t${i}`, i)]);
      // Snapshots at 10, 20, 30; the log keeps the last 10 before the newest snapshot: 21..35.
      await until(
        async () => (await a.client.getAll().prefix(`${prefix}log/`).keys()).length === 15,
        5000,
        'the log trimmed to 21..35',
      );
      const late = make();
      expect((await late.open()).changesets).toBe(35);
      expect([1, 20, 35].map((i) => late.target(`t${i}`)?.weight)).toEqual([1, 20, 35]);
      // b comes back from its copy while etcd is away, then etcd returns: a reset, then the rest.
      await etcd.kill();
      const again = make(copy);
      const resets: number[] = [];
      again.onReset(() => resets.push(again.seq));
      const caughtUp = new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (again.seq === 35) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
      });
      expect((await again.open()).changesets).toBe(5);
      expect(again.fromLocalCopy).toBe(true);
      await etcd.start();
      await caughtUp;
      expect(resets).toEqual([30]);
      expect([1, 30, 35].map((i) => again.target(`t${i}`)?.weight)).toEqual([1, 30, 35]);
      await Promise.all([a.close(), late.close(), again.close()]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('three nodes on a three-member etcd that loses its leader', () => {
  it('1,000 changes spread over the nodes while the leader is killed: every acknowledged one is on every node', async () => {
    const etcd3 = await startEtcdCluster(3);
    const stores: EtcdStore[] = [];
    try {
      const prefix = `/gslbd-leader-${process.pid}/`;
      for (let k = 0; k < 3; k++) {
        const s = new EtcdStore({ endpoints: etcd3.endpoints, prefix, timeoutMs: 2000 });
        await s.open();
        stores.push(s);
      }
      const N = 1000;
      const acknowledged: number[] = [];
      let refused = 0;
      let next = 0;
      let killed: string | null = null;
      await Promise.all(
        stores.flatMap((s) =>
          Array.from({ length: 4 }, async () => {
            while (next < N) {
              const i = next++;
              if (i === 300 && !killed) {
                const leader = await etcd3.leader();
                killed = leader.name;
                await leader.kill();
              }
              // A refused change is made again, as a client would: a write that timed out after
              // etcd took it may land twice, which a weight does not mind.
              for (let attempt = 1; ; attempt++) {
                try {
                  await s.commit('test', [weight(`t${i}`, i)]);
                  acknowledged.push(i);
                  break;
                } catch (err) {
                  if (!(err instanceof NotDurableError) || attempt >= 100) throw err;
                  refused++;
                  await new Promise((r) => setTimeout(r, 50));
                }
              }
            }
          }),
        ),
      );
      expect(killed).not.toBeNull();
      expect(acknowledged).toHaveLength(N);
      await until(() => stores.every((s) => s.seq === stores[0]!.seq), 15_000, 'every node at the same seq');
      for (const s of stores) {
        const missing = acknowledged.filter((i) => s.target(`t${i}`)?.weight !== i);
        expect(missing).toEqual([]);
      }
      console.log(
        `leader ${killed} killed after 300 of ${N} changes; ${refused} refusals retried; seq ${stores[0]!.seq}`,
      );
    } finally {
      for (const s of stores) await s.close();
      await etcd3.stop();
    }
  }, 180_000);
});
