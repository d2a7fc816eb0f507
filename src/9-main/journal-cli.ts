// `gslbd journal verify` and `gslbd journal recover`: checking a data directory's journal without
// starting gslbd, and the explicit, operator-chosen way past a corrupt record (README: Data
// directory and the journal). Both read the journal exactly as `gslbd serve` does (journal-scan.ts).

import { constants } from 'node:fs';
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GslbError } from '../0-base/errors.ts';
import { scanJournal, type JournalScan } from '../7-state/journal-scan.ts';
import { describeBad, readDataDir } from '../7-state/journal.ts';
import { replaceFile, syncPath } from '../7-state/durable-file.ts';

const USAGE = 'usage: gslbd journal verify|recover [--data DIR] (default ./data)';

function seqRange(scan: JournalScan): string {
  const first = scan.prefix[0]?.seq;
  const last = scan.prefix.at(-1)?.seq;
  return first === undefined ? 'none' : `seq ${first}..${last}`;
}

/** Exit 0 and counts when `gslbd serve` would start; 1 and each bad record when it would refuse. */
async function verify(dir: string): Promise<number> {
  const { snapshot, file, data } = await readDataDir(dir);
  const scan = scanJournal(data);
  const snapSeq = (snapshot as { seq?: unknown } | null)?.seq;
  if (snapshot !== null)
    process.stdout.write(`${path.join(dir, 'snapshot.json')}: snapshot at seq ${String(snapSeq)}\n`);
  for (const b of scan.corrupt) process.stdout.write(`${describeBad(file, b)}\n`);
  if (scan.corrupt.length) {
    process.stdout.write(
      `${file}: CORRUPT: ${scan.corrupt.length} bad record(s); ${scan.prefix.length} valid before the first (${seqRange(scan)}), ${scan.valid - scan.prefix.length} valid after it; ${data.length} bytes\n`,
    );
    return 1;
  }
  process.stdout.write(`${file}: ok: ${scan.prefix.length} records (${seqRange(scan)}), ${scan.prefixBytes} bytes\n`);
  if (scan.torn)
    process.stdout.write(
      `${file}: torn tail at offset ${scan.torn.offset}, record ${scan.torn.record} (${scan.torn.bytes} bytes, never acknowledged): gslbd serve drops it\n`,
    );
  return 0;
}

/**
 * Keeps the file as it was under `journal.log.corrupt-<time>`, then replaces the journal with its
 * valid prefix: the records before the first bad one. Records after it are valid but not kept:
 * a changeset follows from those before it (a serial bump, a target added then weighted), so
 * replaying them over a gap could serve state no one ever acknowledged together.
 */
async function recover(dir: string): Promise<number> {
  const { file, data } = await readDataDir(dir);
  const scan = scanJournal(data);
  if (!scan.corrupt.length) {
    process.stdout.write(`${file}: no corrupt record: nothing to recover (gslbd serve drops a torn tail itself)\n`);
    return 0;
  }
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  const backup = `${file}.corrupt-${stamp}`;
  // COPYFILE_EXCL: an earlier backup is never overwritten.
  await copyFile(file, backup, constants.COPYFILE_EXCL);
  await syncPath(backup);
  await replaceFile(file, data.subarray(0, scan.prefixBytes), `${file}.recover`);
  const lost = scan.corrupt.length + scan.valid - scan.prefix.length;
  process.stdout.write(
    `${file}: kept ${scan.prefix.length} records (${seqRange(scan)}, ${scan.prefixBytes} bytes); dropped from offset ${scan.corrupt[0]!.offset}, record ${scan.corrupt[0]!.record}: ${lost} records (${scan.corrupt.length} bad)\n`,
  );
  process.stdout.write(`original kept as ${backup}\n`);
  return 0;
}

export async function journalCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'verify' && sub !== 'recover') throw new GslbError('ERR_CONFIG', USAGE);
  const { values } = parseArgs({ args: rest, options: { data: { type: 'string', default: './data' } }, strict: true });
  // A mistyped --data would otherwise read as an empty, sound journal.
  const isDir = await stat(values.data).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDir) throw new GslbError('ERR_CONFIG', `--data ${values.data}: not a directory`);
  return sub === 'verify' ? verify(values.data) : recover(values.data);
}
