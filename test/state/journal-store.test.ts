// The journal store against the StateStore contract (store-suite.ts). Its durability is broken by
// filling the small tmpfs its data directory is mounted on, which needs root (as CI runs).

import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { JournaledStore } from '../../src/7-state/store.ts';
import { runStoreSuite, type TestStore } from './store-suite.ts';

const root = process.getuid?.() === 0;
const dirs: string[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) execFileSync('umount', [m]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const dirOf = new WeakMap<TestStore, string>();

async function open(dir: string): Promise<TestStore & { reopen: () => Promise<TestStore> }> {
  const s = new JournaledStore(dir);
  await s.open();
  const t = Object.assign(s, { reopen: () => open(dir) });
  dirOf.set(t, dir);
  return t;
}

runStoreSuite({
  async make() {
    const dir = mkdtempSync(path.join(tmpdir(), 'gslbd-store-'));
    dirs.push(dir);
    if (root) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir]);
      mounts.push(dir);
    }
    return open(dir);
  },
  ...(root && {
    async breakDurability(s) {
      // Fill the filesystem to its last byte: the next record cannot be written whole.
      const filler = path.join(dirOf.get(s)!, 'filler');
      try {
        for (let i = 0; i < 1024; i++) appendFileSync(filler, Buffer.alloc(4096));
      } catch {
        /* ENOSPC: full */
      }
      try {
        for (;;) appendFileSync(filler, Buffer.alloc(1));
      } catch {
        /* full to the byte */
      }
      return async () => rmSync(filler);
    },
  }),
  unbreakable: root ? undefined : 'needs root to mount a tmpfs',
  async tearTail(s) {
    appendFileSync(path.join(dirOf.get(s)!, 'journal.log'), '0badc0de {"seq":2,"at":0,"sou');
  },
});
