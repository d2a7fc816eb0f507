import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JournaledStore } from '../../src/7-state/store.ts';
import type { Change } from '../../src/7-state/types.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function dir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'gslbd-journal-'));
  dirs.push(d);
  return d;
}

const weight = (target: string, w: number): Change => ({ kind: 'weight', target, weight: w });

/** A journal of three records, weights a=1, b=2, c=3; its lines (the last one empty). */
async function threeRecords(): Promise<{ d: string; file: string; lines: string[] }> {
  const d = await dir();
  const a = new JournaledStore(d);
  await a.open();
  for (const [t, w] of [
    ['a', 1],
    ['b', 2],
    ['c', 3],
  ] as const)
    await a.commit('test', [weight(t, w)]);
  await a.close();
  const file = path.join(d, 'journal.log');
  return { d, file, lines: (await readFile(file, 'utf8')).split('\n') };
}

describe('journal', () => {
  it('replays every acknowledged changeset after a restart', async () => {
    const d = await dir();
    const a = new JournaledStore(d);
    await a.open();
    for (let i = 0; i < 50; i++) await a.commit('test', [weight(`t${i}`, i % 100)]);
    await a.close();
    const b = new JournaledStore(d);
    expect(await b.open()).toEqual({ changesets: 50, droppedBytes: 0 });
    for (let i = 0; i < 50; i++) expect(b.target(`t${i}`)?.weight).toBe(i % 100);
    await b.close();
  });

  it('drops a torn last record and keeps appending after the good ones', async () => {
    const d = await dir();
    const a = new JournaledStore(d);
    await a.open();
    await a.commit('test', [weight('a', 1)]);
    await a.commit('test', [weight('b', 2)]);
    await a.close();
    // A crash in the middle of a write: half a line, no newline.
    const file = path.join(d, 'journal.log');
    const whole = await readFile(file, 'utf8');
    await appendFile(file, whole.split('\n')[1]!.slice(0, 30));
    const b = new JournaledStore(d);
    const replay = await b.open();
    expect(replay.changesets).toBe(2);
    expect(replay.droppedBytes).toBe(30);
    expect((await stat(file)).size).toBe(Buffer.byteLength(whole));
    await b.commit('test', [weight('c', 3)]);
    await b.close();
    const c = new JournaledStore(d);
    expect((await c.open()).changesets).toBe(3);
    expect([c.target('a')?.weight, c.target('b')?.weight, c.target('c')?.weight]).toEqual([1, 2, 3]);
    await c.close();
  });

  it('refuses a record before the tail whose checksum does not match, and leaves the file untouched', async () => {
    const { d, file, lines } = await threeRecords();
    // Flip one digit of the second record's JSON: its CRC no longer matches.
    lines[1] = lines[1]!.replace('"weight":2', '"weight":7');
    await writeFile(file, lines.join('\n'));
    const before = await readFile(file);
    await expect(new JournaledStore(d).open()).rejects.toThrow(
      `${file}: offset ${Buffer.byteLength(lines[0]!) + 1}, record 2: checksum mismatch`,
    );
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it('drops a last whole record that fails its checksum as a torn tail, with any fragment after it', async () => {
    const { d, file, lines } = await threeRecords();
    lines[2] = lines[2]!.replace('"weight":3', '"weight":8');
    const torn = `${lines[2]}\n${lines[1]!.slice(0, 20)}`;
    await writeFile(file, `${lines[0]}\n${lines[1]}\n${torn}`);
    const b = new JournaledStore(d);
    expect(await b.open()).toEqual({ changesets: 2, droppedBytes: Buffer.byteLength(torn) });
    expect([b.target('a')?.weight, b.target('b')?.weight, b.target('c')]).toEqual([1, 2, undefined]);
    await b.close();
  });

  it('takes two failing whole records at the end for corruption, not a torn tail', async () => {
    const { d, file, lines } = await threeRecords();
    const text = lines.join('\n').replace('"weight":2', '"weight":7').replace('"weight":3', '"weight":8');
    await writeFile(file, text);
    await expect(new JournaledStore(d).open()).rejects.toThrow(/record 2: checksum mismatch \(and 1 more bad record\)/);
    expect(await readFile(file, 'utf8')).toBe(text);
  });

  it('compacts into a snapshot and replays snapshot plus the journal after it', async () => {
    const d = await dir();
    const a = new JournaledStore(d, Date.now, 10);
    await a.open();
    for (let i = 0; i < 25; i++) await a.commit('test', [weight(`t${i % 7}`, i)]);
    await a.close();
    const snapshot = JSON.parse(await readFile(path.join(d, 'snapshot.json'), 'utf8')) as { seq: number };
    expect(snapshot.seq).toBeGreaterThanOrEqual(10);
    const journal = await readFile(path.join(d, 'journal.log'), 'utf8');
    expect(journal.split('\n').filter(Boolean).length).toBeLessThan(10);
    const b = new JournaledStore(d);
    await b.open();
    for (let k = 0; k < 7; k++) {
      const last = Math.max(...Array.from({ length: 25 }, (_, i) => i).filter((i) => i % 7 === k));
      expect(b.target(`t${k}`)?.weight).toBe(last);
    }
    await b.close();
  });

  it('keeps an expiring override expiring after a restart, and a permanent one permanent', async () => {
    const d = await dir();
    const now = 1_000_000;
    const a = new JournaledStore(d, () => now, 2);
    await a.open();
    await a.commit('test', [{ kind: 'override', target: 'x', state: 'drain', reason: 'r', validMs: 60_000 }]);
    await a.commit('test', [{ kind: 'override', target: 'y', state: 'down', reason: 'r' }]);
    await a.commit('test', [weight('z', 5)]); // past the compaction threshold: a snapshot holds the overrides
    await a.close();
    const b = new JournaledStore(d);
    await b.open();
    expect(b.target('x')?.override?.expiresAt).toBe(now + 60_000);
    expect(b.target('y')?.override?.expiresAt).toBe(Infinity);
    await b.close();
  });
});
