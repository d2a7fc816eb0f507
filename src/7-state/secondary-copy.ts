// A secondary zone's copy on disk (`<data>/secondary/<zone>.copy`), so gslbd serves it at once
// after a restart, with the primary down or not, and so each worker reads what the primary process
// pulled. Durable before visible: a transfer is written and fsynced before the zone it brings is
// put in service. Beside each copy, `<zone>.refreshed` holds when the primary last confirmed it:
// the SOA EXPIRE timer counts from there, across restarts too.
//
// Format: the line `gslbd secondary copy 1`, one line of JSON (zone, primary, serial, records),
// then the records (owner wire, TYPE u16, TTL u32, RDLENGTH u16, RDATA), then the SHA-256 of all
// that came before: a torn or altered file is refused whole, never served in part.

import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { nameEnd, nameToText, type NameKey } from '../0-base/name.ts';
import { replaceFile } from './durable-file.ts';

const MAGIC = 'gslbd secondary copy 1\n';

export interface CopyRecord {
  readonly owner: Buffer;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

export interface SecondaryCopy {
  readonly zone: string;
  /** The primary it came from, as configured (`192.0.2.1:53`). */
  readonly primary: string;
  readonly serial: number;
  readonly records: readonly CopyRecord[];
}

export class CopyError extends Error {}

const copyFile = (dir: string, zone: NameKey) => path.join(dir, `${nameToText(zone)}copy`);
const refreshedFile = (dir: string, zone: NameKey) => path.join(dir, `${nameToText(zone)}refreshed`);

export async function writeCopy(dir: string, zone: NameKey, copy: SecondaryCopy): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const head = Buffer.from(
    `${MAGIC}${JSON.stringify({ zone: copy.zone, primary: copy.primary, serial: copy.serial, records: copy.records.length })}\n`,
  );
  let size = head.length + 32;
  for (const r of copy.records) size += r.owner.length + 8 + r.rdata.length;
  const out = Buffer.allocUnsafe(size);
  let p = head.copy(out, 0);
  for (const r of copy.records) {
    p += r.owner.copy(out, p);
    p = out.writeUInt16BE(r.type, p);
    p = out.writeUInt32BE(r.ttl, p);
    p = out.writeUInt16BE(r.rdata.length, p);
    p += r.rdata.copy(out, p);
  }
  createHash('sha256').update(out.subarray(0, p)).digest().copy(out, p);
  const file = copyFile(dir, zone);
  await replaceFile(file, out, `${file}.tmp`);
}

/** The copy of `zone` under `dir`; null when there is none. Throws CopyError for a damaged one. */
export async function readCopy(dir: string, zone: NameKey): Promise<SecondaryCopy | null> {
  const file = copyFile(dir, zone);
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new CopyError(`${file}: cannot read: ${(e as Error).message}`);
  }
  const fail = (reason: string): never => {
    throw new CopyError(`${file}: ${reason}`);
  };
  if (buf.length < MAGIC.length + 32 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC)
    fail('not a gslbd secondary copy');
  const body = buf.subarray(0, buf.length - 32);
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(buf.subarray(buf.length - 32))
  )
    fail('damaged (its checksum does not match): it is not served; the zone is transferred again');
  const eol = body.indexOf(10, MAGIC.length);
  if (eol < 0) fail('no header');
  const head = JSON.parse(body.toString('utf8', MAGIC.length, eol)) as {
    zone: string;
    primary: string;
    serial: number;
    records: number;
  };
  const records: CopyRecord[] = [];
  let p = eol + 1;
  try {
    for (let i = 0; i < head.records; i++) {
      const end = nameEnd(body, p);
      const owner = body.subarray(p, end);
      const type = body.readUInt16BE(end);
      const ttl = body.readUInt32BE(end + 2);
      const len = body.readUInt16BE(end + 6);
      const rdata = body.subarray(end + 8, end + 8 + len);
      if (rdata.length !== len) fail('a record runs past the end');
      records.push({ owner, type, ttl, rdata });
      p = end + 8 + len;
    }
  } catch (e) {
    if (e instanceof CopyError) throw e;
    fail(`malformed: ${(e as Error).message}`);
  }
  if (p !== body.length) fail('bytes after the last record');
  return { zone: head.zone, primary: head.primary, serial: head.serial, records };
}

/** When the primary last confirmed the copy (ms since the epoch); null: never written. */
export async function readRefreshed(dir: string, zone: NameKey): Promise<number | null> {
  try {
    const j = JSON.parse(await readFile(refreshedFile(dir, zone), 'utf8')) as { at?: unknown };
    return typeof j.at === 'number' ? j.at : null;
  } catch {
    return null;
  }
}

export async function writeRefreshed(dir: string, zone: NameKey, at: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = refreshedFile(dir, zone);
  await replaceFile(file, `${JSON.stringify({ at, time: new Date(at).toISOString() })}\n`, `${file}.tmp`);
}
