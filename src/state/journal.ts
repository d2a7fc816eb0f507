// The journal: every accepted changeset is appended as one line `<crc32> <json>` and fsync'd before
// it is acknowledged; a snapshot compacts it. Start-up reads the snapshot, then the journal lines
// after it; a torn or corrupt line (a crash mid-write) ends the replay there and is cut off.

import { mkdir, open, readFile, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import type { Changeset } from './types.ts';

export interface Replay {
  readonly snapshot: unknown | null;
  readonly changesets: Changeset[];
  /** Bytes cut from the end of the journal because they did not form a whole, valid record. */
  readonly droppedBytes: number;
}

const JOURNAL = 'journal.log';
const SNAPSHOT = 'snapshot.json';

function line(cs: Changeset): string {
  const json = JSON.stringify(cs, (_k, v) => (v === Infinity ? null : v));
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

export class Journal {
  readonly dir: string;
  #fd: FileHandle | null = null;
  #pending: { text: string; done: () => void; fail: (e: Error) => void }[] = [];
  #writing = false;
  /** Records in the journal file now (since the last snapshot). */
  records = 0;
  bytes = 0;
  readonly #compactAfter: number;
  readonly #snapshot: () => object;

  /**
   * `snapshot` must return state covering every changeset appended so far (the store applies a
   * changeset before appending it); it is taken between writes once `compactAfter` records pile up.
   */
  constructor(dir: string, snapshot: () => object, compactAfter = 10_000) {
    this.dir = dir;
    this.#snapshot = snapshot;
    this.#compactAfter = compactAfter;
  }

  /** Reads what is on disk and opens the journal for appending. */
  async open(): Promise<Replay> {
    await mkdir(this.dir, { recursive: true });
    let snapshot: unknown | null = null;
    try {
      snapshot = JSON.parse(await readFile(path.join(this.dir, SNAPSHOT), 'utf8'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`${path.join(this.dir, SNAPSHOT)}: ${(e as Error).message}`);
    }
    const file = path.join(this.dir, JOURNAL);
    let data = Buffer.alloc(0);
    try {
      data = await readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    const changesets: Changeset[] = [];
    let good = 0;
    while (good < data.length) {
      const nl = data.indexOf(10, good);
      if (nl < 0) break;
      const text = data.subarray(good, nl).toString('utf8');
      const json = text.slice(9);
      if (text[8] !== ' ' || crc32(json).toString(16).padStart(8, '0') !== text.slice(0, 8)) break;
      try {
        changesets.push(JSON.parse(json) as Changeset);
      } catch {
        break;
      }
      good = nl + 1;
    }
    this.#fd = await open(file, 'a+');
    if (good < data.length) {
      await this.#fd.truncate(good);
      await this.#fd.sync();
    }
    this.records = changesets.length;
    this.bytes = good;
    return { snapshot, changesets, droppedBytes: data.length - good };
  }

  /** Resolves once `cs` is on disk. Concurrent appends share one write and one fsync. */
  append(cs: Changeset): Promise<void> {
    return new Promise((done, fail) => {
      this.#pending.push({ text: line(cs), done, fail });
      if (!this.#writing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    while (this.#pending.length) {
      const batch = this.#pending.splice(0);
      const text = batch.map((b) => b.text).join('');
      try {
        if (!this.#fd) throw new Error('journal is not open');
        await this.#fd.write(text);
        await this.#fd.datasync();
        this.records += batch.length;
        this.bytes += Buffer.byteLength(text);
        for (const b of batch) b.done();
      } catch (e) {
        for (const b of batch) b.fail(e as Error);
      }
      // Compaction runs here, between writes, so no append can slip between snapshot and truncate.
      if (this.records >= this.#compactAfter) {
        try {
          await this.#compact(this.#snapshot());
        } catch {
          // The journal stays as it is and remains valid; the next write tries again.
        }
      }
    }
    this.#writing = false;
  }

  /**
   * Writes `snapshot` durably, then empties the journal. A crash between the two leaves both:
   * replay skips what the snapshot covers. Only called from the write loop.
   */
  async #compact(snapshot: object): Promise<void> {
    const tmp = path.join(this.dir, `${SNAPSHOT}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.write(JSON.stringify(snapshot, (_k, v) => (v === Infinity ? null : v)));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path.join(this.dir, SNAPSHOT));
    const dirFh = await open(this.dir, 'r');
    try {
      await dirFh.sync();
    } finally {
      await dirFh.close();
    }
    await this.#fd?.truncate(0);
    await this.#fd?.sync();
    this.records = 0;
    this.bytes = 0;
  }

  async close(): Promise<void> {
    while (this.#writing) await new Promise((r) => setTimeout(r, 5));
    await this.#fd?.close();
    this.#fd = null;
  }
}
