// The catalog zone's content (RFC 9432) and a serial that only goes forward: a consumer ignores a
// catalog whose serial is not newer than its copy (RFC 1982), so the serial must never fall back,
// across reloads and restarts alike. It is time-based (Unix seconds when the member list changed,
// or one more than the last when that is not newer) and kept under the data directory with the
// members it was given to, so a restart with the same members keeps the same serial.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { serialNewer } from '../0-base/serial.ts';
import type { Logger } from '../0-base/log.ts';
import { replaceFile } from '../7-state/durable-file.ts';

/** The catalog as plain data (it goes to cluster workers as it is): its name, serial and members, all text. */
export interface CatalogContent {
  readonly zone: string;
  readonly serial: number;
  /** Member zones, final dot, lower case, sorted. */
  readonly members: readonly string[];
}

export const CATALOG_FILE = 'catalog.json';

/** The serial after `last` for a change at `nowSeconds`: the time, unless that is not newer (RFC 1982). */
export function nextCatalogSerial(last: number | null, nowSeconds: number): number {
  const now = nowSeconds >>> 0;
  if (last === null || serialNewer(now, last)) return now;
  return (last + 1) >>> 0;
}

export interface CatalogSerialsOptions {
  readonly zone: string;
  /** Where `catalog.json` is kept; null: nothing kept, the serial is the time of each change. */
  readonly dataDir: string | null;
  /** ms since the epoch. */
  readonly now: () => number;
  readonly log: Logger;
}

/** The catalog's content as its members change: a new serial for each change, kept on disk. */
export class CatalogSerials {
  readonly #o: CatalogSerialsOptions;
  /** What was last given; null before the first `next`. */
  #current: CatalogContent | null = null;
  /** What the data directory had at start (the same catalog's), for the first `next`. */
  #stored: CatalogContent | null = null;

  constructor(o: CatalogSerialsOptions) {
    this.#o = o;
  }

  get #file(): string | null {
    return this.#o.dataDir === null ? null : path.join(this.#o.dataDir, CATALOG_FILE);
  }

  /** Reads what the last run kept. A missing or unreadable file starts afresh from the time. */
  async open(): Promise<void> {
    const file = this.#file;
    if (file === null) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#o.log.warn({ file, err: (err as Error).message }, 'catalog: serial not read: it starts from the time');
      return;
    }
    try {
      const v = JSON.parse(text) as CatalogContent;
      if (typeof v.serial !== 'number' || !Array.isArray(v.members)) throw new Error('not a catalog record');
      // Another catalog's serial says nothing of this one's.
      if (v.zone === this.#o.zone)
        this.#stored = { zone: v.zone, serial: v.serial >>> 0, members: v.members.map(String) };
    } catch (err) {
      this.#o.log.warn({ file, err: (err as Error).message }, 'catalog: serial not read: it starts from the time');
    }
  }

  /**
   * The catalog listing `members` (sorted here); null when they are those of the catalog last
   * given. A new serial is kept on disk before it is returned; if that fails it is logged, and the
   * serial is still served (the next one is time-based, so it still goes forward after a restart).
   */
  async next(members: readonly string[]): Promise<CatalogContent | null> {
    const sorted = [...members].sort();
    const same = (c: CatalogContent | null) => c !== null && c.members.join('\n') === sorted.join('\n');
    if (same(this.#current)) return null;
    const before = this.#current ?? this.#stored;
    if (this.#current === null && same(this.#stored)) {
      this.#current = this.#stored;
      return this.#current;
    }
    const content = {
      zone: this.#o.zone,
      serial: nextCatalogSerial(before?.serial ?? null, Math.floor(this.#o.now() / 1000)),
      members: sorted,
    };
    const file = this.#file;
    if (file !== null) {
      try {
        await replaceFile(file, `${JSON.stringify(content)}\n`, `${file}.tmp`);
      } catch (err) {
        this.#o.log.error({ file, err: (err as Error).message }, 'catalog: serial not kept on disk');
      }
    }
    this.#current = content;
    return content;
  }
}
