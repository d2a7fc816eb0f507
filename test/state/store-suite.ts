// The StateStore contract (src/7-state/types.ts), as one suite every store must pass: the journal
// store now, the cluster store next. `runStoreSuite({ make })` registers the tests; `make` gives a
// fresh store, or one reopened over what an earlier one left (`reopen`), and the hooks break the
// store's durability on demand, or tear its last record, where the store has such a thing.

import { describe, expect, it } from 'vitest';
import { NotDurableError, type Change, type Changeset, type StateStore } from '../../src/7-state/types.ts';

export interface TestStore extends StateStore {
  open(): Promise<{ changesets: number; droppedBytes: number }>;
  onChange(fn: (cs: Changeset) => void | Promise<void>): void;
  close(): Promise<void>;
}

export interface StoreFactory {
  /** A new, empty store (opened). */
  make(): Promise<TestStore & { readonly reopen: () => Promise<TestStore> }>;
  /**
   * Makes the store's next writes fail as a full disk does; the function returned repairs it.
   * Absent: the store cannot be broken here (the failure tests are skipped, saying why).
   */
  breakDurability?: (store: TestStore) => Promise<() => Promise<void>>;
  /** Appends half a record, as a crash in the middle of a write leaves it. */
  tearTail?: (store: TestStore) => Promise<void>;
  /** Why breakDurability is absent, for the skipped test's name. */
  readonly unbreakable?: string;
}

const weight = (target: string, w: number): Change => ({ kind: 'weight', target, weight: w });

export function runStoreSuite(f: StoreFactory): void {
  describe('order', () => {
    it('numbers changesets 1, 2, 3 … and tells listeners in that order', async () => {
      const s = await f.make();
      const seen: number[] = [];
      s.onChange((cs) => void seen.push(cs.seq));
      for (let i = 0; i < 5; i++) expect((await s.commit('test', [weight('a', i)]))?.seq).toBe(i + 1);
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      await s.close();
    });

    it('runs concurrent transactions one at a time: each build sees the ones before it applied', async () => {
      const s = await f.make();
      // Eight writers each claim target "x" unless someone has: exactly one may win.
      const claim = (n: number) =>
        s.transact(
          `w${n}`,
          () => (s.target('x')?.weight === undefined ? [weight('x', n)] : []),
          () => s.target('x')?.weight,
        );
      const results = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(claim));
      expect(results.filter((r) => r.changeset !== null)).toHaveLength(1);
      expect(results.map((r) => r.view)).toEqual(Array(8).fill(1));
      await s.close();
    });

    it('shows nothing of a change before it is durable, and `after` sees it applied', async () => {
      const s = await f.make();
      const pending = s.transact(
        'test',
        () => [weight('a', 7)],
        () => s.target('a')?.weight,
      );
      // The transaction has been asked for, not yet made durable: nothing of it shows.
      const before = s.target('a')?.weight;
      const r = await pending;
      expect([before, r.view, s.target('a')?.weight]).toEqual([undefined, 7, 7]);
      await s.close();
    });
  });

  describe('atomicity', () => {
    it('changes nothing when build throws, and goes on with the next transaction', async () => {
      const s = await f.make();
      await s.commit('test', [weight('a', 1)]);
      await expect(
        s.transact(
          'test',
          () => {
            throw new Error('refused');
          },
          () => 0,
        ),
      ).rejects.toThrow('refused');
      expect((await s.commit('test', [weight('b', 2), weight('c', 3)]))?.seq).toBe(2);
      expect([s.target('a')?.weight, s.target('b')?.weight, s.target('c')?.weight]).toEqual([1, 2, 3]);
      await s.close();
    });

    it('writes nothing for a transaction without changes', async () => {
      const s = await f.make();
      expect(
        await s.transact(
          'test',
          () => [],
          () => 'view',
        ),
      ).toEqual({ changeset: null, view: 'view' });
      expect((await s.commit('test', [weight('a', 1)]))?.seq).toBe(1);
      await s.close();
    });
  });

  describe('replay', () => {
    it('holds exactly the acknowledged changesets after a restart', async () => {
      const s = await f.make();
      for (let i = 0; i < 30; i++) await s.commit('test', [weight(`t${i}`, i)]);
      await s.close();
      const again = await s.reopen();
      for (let i = 0; i < 30; i++) expect(again.target(`t${i}`)?.weight).toBe(i);
      expect((await again.commit('test', [weight('next', 1)]))?.seq).toBe(31);
      await again.close();
    });

    it.skipIf(!f.tearTail)('drops a torn last record, which was never acknowledged', async () => {
      const s = await f.make();
      await s.commit('test', [weight('a', 1)]);
      await s.close();
      await f.tearTail!(s);
      const again = await s.reopen();
      expect(again.target('a')?.weight).toBe(1);
      expect((await again.commit('test', [weight('b', 2)]))?.seq).toBe(2);
      await again.close();
    });
  });

  describe('failure to persist', () => {
    it.skipIf(!f.breakDurability)(
      `applies a change it cannot make durable nowhere${f.unbreakable ? ` (${f.unbreakable})` : ''}`,
      async () => {
        const s = await f.make();
        await s.commit('test', [weight('a', 1)]);
        const told: number[] = [];
        s.onChange((cs) => void told.push(cs.seq));
        const repair = await f.breakDurability!(s);
        let afterRan = false;
        for (let i = 0; i < 3; i++) {
          const big = Array.from({ length: 50 }, (_, k) => weight(`lost-${i}-${k}-${'x'.repeat(200)}`, 5));
          await expect(
            s.transact(
              'test',
              () => big,
              () => (afterRan = true),
            ),
          ).rejects.toBeInstanceOf(NotDurableError);
        }
        expect([afterRan, told, s.target('lost-0-0-' + 'x'.repeat(200))]).toEqual([false, [], undefined]);
        await repair();
        expect((await s.commit('test', [weight('b', 2)]))?.seq).toBe(2);
        await s.close();
        const again = await s.reopen();
        expect([
          again.target('a')?.weight,
          again.target('b')?.weight,
          again.target('lost-0-0-' + 'x'.repeat(200)),
        ]).toEqual([1, 2, undefined]);
        await again.close();
      },
    );
  });
}
