// Reading journal bytes into records, and telling a torn tail (a crash mid-write: expected, safe to
// drop) from corruption (a record that was acknowledged and no longer reads back: never dropped
// silently). Pure: no I/O, so `Journal.open` and `gslbd journal verify` judge a file the same way.

import { crc32 } from 'node:zlib';
import type { Changeset } from './types.ts';

/** A record that does not read back: where it starts (byte offset, record number from 1) and why. */
export interface BadRecord {
  readonly offset: number;
  readonly record: number;
  readonly bytes: number;
  readonly reason: 'checksum mismatch' | 'not JSON' | 'malformed record';
}

export interface JournalScan {
  /** Every record up to the first bad one, in order: what may be replayed. */
  readonly prefix: Changeset[];
  /** Bytes those records take: where a recovered or cut journal ends. */
  readonly prefixBytes: number;
  /** Records that do not read back, other than a torn tail. Empty: the journal is sound. */
  readonly corrupt: BadRecord[];
  /** The torn tail, when there is one: cut off on open, with a warning. */
  readonly torn: BadRecord | null;
  /** Whole, valid records in the file, including any after a corrupt one. */
  readonly valid: number;
}

/** `<crc32 hex> <json>\n`, the one record format the journal writes. */
export function formatRecord(cs: Changeset): string {
  const json = JSON.stringify(cs, (_k, v) => (v === Infinity ? null : v));
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

function parseRecord(text: string): Changeset | BadRecord['reason'] {
  if (text.length < 10 || text[8] !== ' ' || !/^[0-9a-f]{8}$/.test(text.slice(0, 8))) return 'malformed record';
  const json = text.slice(9);
  if (crc32(json).toString(16).padStart(8, '0') !== text.slice(0, 8)) return 'checksum mismatch';
  try {
    return JSON.parse(json) as Changeset;
  } catch {
    return 'not JSON';
  }
}

/**
 * Splits `data` into records and judges them. A torn tail is what a crash in the middle of the
 * last write can leave, and only that: bytes after the last newline (every record ends with one,
 * so a record without it was never acknowledged), or a last whole line that fails its check with
 * at most such bytes after it (a write whose end reached the disk but not all of its middle).
 * Any other record that fails is corruption: a record that was fsync'd, acknowledged, and has
 * changed since. Replaying past it could apply later changes without the ones they followed, and
 * dropping everything after it would lose acknowledged changes, so neither happens silently.
 */
export function scanJournal(data: Buffer): JournalScan {
  const prefix: Changeset[] = [];
  const bad: BadRecord[] = [];
  let prefixBytes = 0;
  let valid = 0;
  let offset = 0;
  let record = 0;
  while (offset < data.length) {
    record++;
    const nl = data.indexOf(10, offset);
    const end = nl < 0 ? data.length : nl + 1;
    if (nl < 0) {
      bad.push({ offset, record, bytes: end - offset, reason: 'malformed record' });
      break;
    }
    const parsed = parseRecord(data.subarray(offset, nl).toString('utf8'));
    if (typeof parsed === 'string') {
      bad.push({ offset, record, bytes: end - offset, reason: parsed });
    } else {
      valid++;
      if (!bad.length) {
        prefix.push(parsed);
        prefixBytes = end;
      }
    }
    offset = end;
  }
  // Torn: nothing valid after the first failure, which is the last line, or the last whole line
  // followed only by an unterminated fragment.
  const unterminated = data.length > 0 && data[data.length - 1] !== 10;
  const torn = valid === prefix.length && (bad.length === 1 || (bad.length === 2 && unterminated));
  if (torn) {
    const first = bad[0]!;
    return { prefix, prefixBytes, corrupt: [], torn: { ...first, bytes: data.length - first.offset }, valid };
  }
  return { prefix, prefixBytes, corrupt: bad, torn: null, valid };
}
