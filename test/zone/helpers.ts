// Shared by the zone tests: parse text as example.com., build zones, write fixture directories.

import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, onTestFinished } from 'vitest';
import { keyOf, parseName, type NameKey } from '../../src/0-base/name.ts';
import { buildZone, type BuildResult } from '../../src/2-zone/build.ts';
import { parseZone, type ParseOptions, type ParseResult } from '../../src/2-zone/parser.ts';

export const ORIGIN = parseName('example.com.', null);
export const ORIGIN_KEY: NameKey = keyOf(ORIGIN);

export const key = (text: string): NameKey => keyOf(parseName(text, ORIGIN));

/** The usual head of a test zone: $TTL, SOA and two in-zone name servers with addresses. */
export const HEAD = `$TTL 3600
@    SOA ns1 hostmaster 1 7200 900 1209600 300
     NS  ns1
     NS  ns2
ns1  A   192.0.2.1
ns2  A   192.0.2.2
`;
/** Lines in HEAD, to compute the line numbers of what follows it. */
export const HEAD_LINES = 6;

export function parse(text: string, options?: ParseOptions): Promise<ParseResult> {
  return parseZone(text, 'test.zone', ORIGIN, options);
}

/** Error messages of parsing `text`. */
export async function errorsOf(text: string): Promise<string[]> {
  return (await parse(text)).errors.map((e) => e.message);
}

/** Hex RDATA of the single record in `text` (a record line relative to example.com.). */
export async function rdataHex(text: string): Promise<string> {
  const r = await parse(`$TTL 60\n${text}\n`);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  expect(r.records).toHaveLength(1);
  return r.records[0]!.rdata.toString('hex');
}

/** The error of the single bad record in `text`. */
export async function rdataError(text: string): Promise<string> {
  const r = await parse(`$TTL 60\n${text}\n`);
  expect(r.errors).toHaveLength(1);
  return r.errors[0]!.message;
}

export async function build(text: string): Promise<BuildResult> {
  const r = await parse(text);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return buildZone(ORIGIN_KEY, 'test.zone', r.records);
}

/**
 * A fresh directory under the system temp dir holding `files` (paths may have folders), removed
 * when the calling test ends.
 */
export async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gslbd-zone-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true, maxRetries: 3 }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text, 'latin1');
  }
  return dir;
}
