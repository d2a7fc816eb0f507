// A corrupt journal record over real processes: a gslbd that took API writes and stopped, one byte
// flipped in a record in the middle, then `gslbd serve` (refuses, file unchanged), `gslbd journal
// verify` (names the record), `gslbd journal recover` (valid prefix, backup) and a gslbd serving
// that prefix, checked with dig. And the torn tail a crash leaves, which a start still drops.

import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { runCli, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { WRITE, ZONE, zonesDir } from '../api/helpers.ts';

const WRITES = 30;
const BAD = 17; // the write whose record gets a flipped byte
let dir: string;
let zones: string;
let data: string;
let config: string;
let journal: string;

async function withGslbd<T>(
  fn: (server: Gslbd, api: (method: string, url: string, body?: unknown) => Promise<number>) => Promise<T>,
): Promise<T> {
  const server = await startGslbd(['--config', config, '--data', data], { GSLBD_API_TOKEN: WRITE });
  try {
    const base = `http://127.0.0.1:${(await server.waitForLog((l) => l.msg === 'api listening')).port as number}`;
    const api = async (method: string, url: string, body?: unknown) => {
      const res = await fetch(base + url, {
        method,
        headers: {
          authorization: `Bearer ${WRITE}`,
          ...(body !== undefined && { 'content-type': 'application/json' }),
        },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    return await fn(server, api);
  } finally {
    expect(await server.stop()).toBe(0);
  }
}

const txt = async (server: Gslbd, i: number) =>
  (await dig(server.port, [`w${i}.${ZONE}`, 'TXT'])).answer.map((rr) => rr.data);

/** Where the record of write `i` starts, its number, and the byte of its owner name's first letter. */
function recordOf(bytes: Buffer, i: number): { offset: number; record: number; inside: number } {
  const owner = `"w${i}.${ZONE}"`;
  const lines = bytes.toString('utf8').split('\n');
  const k = lines.findIndex((l) => l.includes(owner));
  expect(k).toBeGreaterThan(0);
  const offset = lines.slice(0, k).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  return { offset, record: k + 1, inside: offset + lines[k]!.indexOf(owner) + 1 };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-journal-e2e-'));
  zones = await zonesDir();
  data = path.join(dir, 'data');
  journal = path.join(data, 'journal.log');
  config = path.join(dir, 'gslbd.yaml');
  writeFileSync(
    config,
    [
      `zones: ${zones}`,
      'api:',
      '  listen: 127.0.0.1:0',
      '  tokens:',
      '    - { name: writer, token: "${GSLBD_API_TOKEN}", access: write }',
      '',
    ].join('\n'),
  );
  await withGslbd(async (_server, api) => {
    for (let i = 1; i <= WRITES; i++)
      expect(await api('PUT', `/v1/zones/${ZONE}/rrsets/w${i}/TXT`, { ttl: 60, records: [`"v${i}"`] })).toBe(201);
  });
}, 60_000);
afterAll(() => {
  for (const d of [dir, zones]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('a corrupt journal record', () => {
  let original: Buffer;
  let bad: { offset: number; record: number };

  it('stops gslbd serve with the file, offset and record, and leaves the file byte for byte', async () => {
    const bytes = readFileSync(journal);
    const r = recordOf(bytes, BAD);
    bad = r;
    bytes[r.inside] = bytes[r.inside]! ^ 0x01; // "w17." becomes "v17.": the CRC no longer matches
    writeFileSync(journal, bytes);
    original = Buffer.from(bytes);
    const run = await runCli(
      ['serve', '--config', config, '--data', data, '--listen', '127.0.0.1:0', '--workers', '1'],
      20_000,
      { GSLBD_API_TOKEN: WRITE },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${journal}: offset ${r.offset}, record ${r.record}: checksum mismatch`);
    expect(readFileSync(journal).equals(original)).toBe(true);
  }, 30_000);

  it('is reported by gslbd journal verify with exit 1, offset and record', async () => {
    const run = await runCli(['journal', 'verify', '--data', data]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${journal}: offset ${bad.offset}, record ${bad.record}: checksum mismatch`);
    expect(run.stdout).toContain(`${bad.record - 1} valid before the first`);
    expect(readFileSync(journal).equals(original)).toBe(true);
  });

  it('is not mistaken for a sound journal when --data names no directory', async () => {
    const run = await runCli(['journal', 'verify', '--data', path.join(dir, 'no-such-dir')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no-such-dir: not a directory');
  });

  it('is recovered to the valid prefix, with the original kept, and gslbd then serves that prefix', async () => {
    const run = await runCli(['journal', 'recover', '--data', data]);
    expect(run.code).toBe(0);
    const backups = readdirSync(data).filter((f) => f.startsWith('journal.log.corrupt-'));
    expect(backups).toHaveLength(1);
    expect(readFileSync(path.join(data, backups[0]!)).equals(original)).toBe(true);
    expect(readFileSync(journal).equals(original.subarray(0, bad.offset))).toBe(true);
    const verified = await runCli(['journal', 'verify', '--data', data]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`ok: ${bad.record - 1} records`);
    await withGslbd(async (server) => {
      for (let i = 1; i < BAD; i++) expect(await txt(server, i)).toEqual([`"v${i}"`]);
      for (let i = BAD; i <= WRITES; i++) expect(await txt(server, i)).toEqual([]);
    });
  }, 60_000);
});

describe('a torn tail', () => {
  it('is dropped with a warning, and gslbd starts with every whole record', async () => {
    const before = readFileSync(journal);
    const lines = before.toString('utf8').split('\n');
    // A crash in the middle of a write: part of a record, no newline.
    appendFileSync(journal, lines[0]!.slice(0, 40));
    const verified = await runCli(['journal', 'verify', '--data', data]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`torn tail at offset ${before.length}`);
    await withGslbd(async (server) => {
      const warn = await server.waitForLog((l) => l.msg === 'journal: torn last record dropped');
      expect(warn.bytes).toBe(40);
      expect(await txt(server, BAD - 1)).toEqual([`"v${BAD - 1}"`]);
    });
    expect(readFileSync(journal).subarray(0, before.length).equals(before)).toBe(true);
  }, 60_000);
});
