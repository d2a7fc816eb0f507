// The journal: every accepted changeset is appended as one line `<crc32> <json>` and fsync'd before
// it is acknowledged; a snapshot compacts it. Start-up reads the snapshot, then the journal lines
// after it. A torn tail (a crash mid-write, journal-scan.ts) is cut off; a corrupt record anywhere
// else stops the start and leaves the file as it is, for `gslbd journal verify` and `recover`.

import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { GslbError } from '../0-base/errors.ts';
import { formatRecord, scanJournal, type BadRecord } from './journal-scan.ts';
import { replaceFile } from './durable-file.ts';
import type { Changeset } from './types.ts';

export interface Replay {
  readonly snapshot: unknown | null;
  readonly changesets: Changeset[];
  /** Bytes cut from the end of the journal because they did not form a whole, valid record. */
  readonly droppedBytes: number;
}

export const JOURNAL = 'journal.log';
export const SNAPSHOT = 'snapshot.json';

/** `journal.log: offset N, record K: checksum mismatch`, the one way a bad record is named. */
export const describeBad = (file: string, b: BadRecord): string =>
  `${file}: offset ${b.offset}, record ${b.record}: ${b.reason}`;

/** Acknowledged records that no longer read back: the start stops, the file stays as it is. */
export class JournalCorruptError extends GslbError {
  readonly bad: readonly BadRecord[];
  constructor(file: string, bad: readonly BadRecord[]) {
    const more = bad.length > 1 ? ` (and ${bad.length - 1} more bad record${bad.length > 2 ? 's' : ''})` : '';
    super(
      'ERR_JOURNAL',
      `${describeBad(file, bad[0]!)}${more}; the file is left untouched: see \`gslbd journal verify\` and \`gslbd journal recover\` (README: Data directory and the journal)`,
    );
    this.bad = bad;
  }
}

/** The snapshot (parsed; null if there is none) and the journal's bytes (empty if none) in `dir`. */
export async function readDataDir(dir: string): Promise<{ snapshot: unknown | null; file: string; data: Buffer }> {
  let snapshot: unknown | null = null;
  const snapFile = path.join(dir, SNAPSHOT);
  try {
    snapshot = JSON.parse(await readFile(snapFile, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new GslbError('ERR_JOURNAL', `${snapFile}: ${(e as Error).message}`);
  }
  const file = path.join(dir, JOURNAL);
  let data = Buffer.alloc(0);
  try {
    data = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return { snapshot, file, data };
}

export class Journal {
  readonly dir: string;
  #fd: FileHandle | null = null;
  #pending: { text: string; done: () => void; fail: (e: Error) => void }[] = [];
  #writing = false;
  /** Records in the journal file now (since the last snapshot). */
  records = 0;
  bytes = 0;
  /** Set once a failed write could not be undone: the file's end is unknown, so nothing more is written. */
  #broken: Error | null = null;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** Reads what is on disk and opens the journal for appending. */
  async open(): Promise<Replay> {
    await mkdir(this.dir, { recursive: true });
    const { snapshot, file, data } = await readDataDir(this.dir);
    const scan = scanJournal(data);
    // Checked before the file is opened for writing: a corrupt journal is not changed by a start.
    if (scan.corrupt.length) throw new JournalCorruptError(file, scan.corrupt);
    this.#fd = await open(file, 'a+');
    const good = scan.prefixBytes;
    if (good < data.length) {
      await this.#fd.truncate(good);
      await this.#fd.sync();
    }
    this.records = scan.prefix.length;
    this.bytes = good;
    return { snapshot, changesets: scan.prefix, droppedBytes: data.length - good };
  }

  /** Resolves once `cs` is on disk. Concurrent appends share one write and one fsync. */
  append(cs: Changeset): Promise<void> {
    return new Promise((done, fail) => {
      this.#pending.push({ text: formatRecord(cs), done, fail });
      if (!this.#writing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    while (this.#pending.length) {
      const batch = this.#pending.splice(0);
      const text = batch.map((b) => b.text).join('');
      try {
        if (this.#broken) throw this.#broken;
        if (!this.#fd) throw new Error('journal is not open');
        const bytes = Buffer.from(text);
        // write(2) may write part of the buffer and report no error (a nearly full disk): that
        // record is torn, so the batch has failed.
        const { bytesWritten } = await this.#fd.write(bytes);
        if (bytesWritten !== bytes.length)
          throw new Error(`short write: ${bytesWritten} of ${bytes.length} bytes (disk full?)`);
        await this.#fd.datasync();
        this.records += batch.length;
        this.bytes += bytes.length;
        for (const b of batch) b.done();
      } catch (e) {
        await this.#undo(e as Error);
        for (const b of batch) b.fail(e as Error);
      }
    }
    this.#writing = false;
  }

  /**
   * A write or fsync failed (disk full, I/O error): part of the batch may be in the file. Cut the
   * file back to its last acknowledged record, so the next record does not follow a torn one (a
   * start would then refuse the journal as corrupt). If even that fails, the journal stops taking
   * records: every later change is refused as not durable until gslbd is restarted.
   */
  async #undo(cause: Error): Promise<void> {
    if (this.#broken || !this.#fd) return;
    try {
      await this.#fd.truncate(this.bytes);
      await this.#fd.datasync();
    } catch (e) {
      this.#broken = new Error(
        `journal unusable after a failed write (${cause.message}) and a failed repair (${(e as Error).message})`,
      );
    }
  }

  /**
   * Writes `snapshot` durably, then empties the journal. A crash between the two leaves both:
   * replay skips what the snapshot covers. The caller (the store) calls it between transactions,
   * with a snapshot of exactly what has been appended.
   */
  async compact(snapshot: object): Promise<void> {
    while (this.#writing) await new Promise((r) => setTimeout(r, 1));
    const file = path.join(this.dir, SNAPSHOT);
    await replaceFile(
      file,
      JSON.stringify(snapshot, (_k, v) => (v === Infinity ? null : v)),
      `${file}.tmp`,
    );
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
