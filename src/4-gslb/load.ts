// The zones directory with pools: each `<origin>.zone` read by the zone layer (2-zone/loader.ts),
// with its `<origin>.pools.yaml` attached as the zone's last build step. A broken pools file fails
// its zone, as a broken zone file does: a reload keeps the previous version of both.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../0-base/errors.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import type { BuildResult, BuiltZone } from '../2-zone/build.ts';
import { buildZoneWith, originOfFile, readZone, readZones, ZONE_SUFFIX, type LoadResult } from '../2-zone/loader.ts';
import type { ParsedRecord } from '../2-zone/types.ts';
import { attachPools } from './attach.ts';
import type { PooledZone } from './pool.ts';
import { parsePoolsFile, type PoolsFileResult } from './pools-file.ts';

const POOLS_SUFFIX = '.pools.yaml';

export interface PooledLoadResult extends LoadResult {
  readonly zones: PooledZone[];
}

/** `<origin>.pools.yaml` beside `<origin>.zone`, when there is one. */
export const poolsFileOf = (zoneFile: string): string => zoneFile.slice(0, -ZONE_SUFFIX.length) + POOLS_SUFFIX;

/**
 * Loads every zone of `dir` with its pools. Throws GslbError ERR_ZONE_IO only if the directory
 * itself cannot be read; a pools file with no zone file beside it is an error in the result.
 */
export async function loadZones(dir: string, secondaries: ReadonlySet<NameKey> = new Set()): Promise<PooledLoadResult> {
  const r = await readZones(dir, attachPoolsFile);
  const stray = await strayPoolsFiles(dir, secondaries);
  // Every zone went through attachPoolsFile: its pools are Pools.
  return { ...r, zones: r.zones as PooledZone[], errors: [...r.errors, ...stray] };
}

/** Loads the one zone of `dir` whose origin is `origin`, with its pools; undefined if it has no file. */
export function loadZone(dir: string, origin: NameKey): Promise<BuildResult | undefined> {
  return readZone(dir, origin, attachPoolsFile);
}

async function attachPoolsFile(
  zoneFile: string,
  zone: BuiltZone,
): Promise<{ kind: 'zone'; zone: BuiltZone } | { kind: 'invalid'; errors: SourceError[] }> {
  const file = poolsFileOf(zoneFile);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'zone', zone };
    return { kind: 'invalid', errors: [new SourceError('ERR_POOLS', file, 0, `cannot read: ${(e as Error).message}`)] };
  }
  const parsed = parsePools(text, file, zone.origin);
  if (parsed.errors.length) return { kind: 'invalid', errors: parsed.errors };
  const attached = attachPools(zone, parsed.pools);
  if (attached.errors.length) return { kind: 'invalid', errors: attached.errors };
  return { kind: 'zone', zone: attached.zone };
}

/**
 * A secondary zone (its records transferred from `primary`) with its pools file from `dir`, as
 * `loadZone` builds a zone of the directory; `file` names where the records came from in errors.
 */
export async function buildSecondaryZone(
  dir: string,
  origin: NameKey,
  file: string,
  records: readonly ParsedRecord[],
  primary: string,
): Promise<BuildResult> {
  const r = await buildZoneWith(origin, file, records, attachPoolsFile, path.join(dir, `${nameToText(origin)}zone`));
  return r.kind === 'zone' ? { ...r, zone: { ...r.zone, primary } } : r;
}

/** Pools files with no zone file beside them (nor a secondary zone): their pools cannot be served. */
async function strayPoolsFiles(dir: string, secondaries: ReadonlySet<NameKey>): Promise<SourceError[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const zoneNames = new Set(names.filter((n) => n.endsWith(ZONE_SUFFIX)).map((n) => n.toLowerCase()));
  return names
    .filter((n) => n.endsWith(POOLS_SUFFIX) && !n.startsWith('.'))
    .sort()
    .flatMap((name) => {
      const zoneName = name.slice(0, -POOLS_SUFFIX.length) + ZONE_SUFFIX;
      const named = originOfFile(zoneName);
      return zoneNames.has(zoneName.toLowerCase()) || ('origin' in named && secondaries.has(named.origin))
        ? []
        : [
            new SourceError(
              'ERR_POOLS',
              path.join(dir, name),
              0,
              `no zone file ${zoneName} beside it: its pools cannot be served`,
            ),
          ];
    });
}

/**
 * The last parse of each pools file. The yaml library parses a file in one go (about 100 ms for
 * 1,000 pools, with no query answered meanwhile), and a reload mostly finds a pools file as it
 * was: the same text gives the same definitions, which are immutable, so they are used again.
 */
const lastPools = new Map<string, { text: string; result: PoolsFileResult }>();

function parsePools(text: string, file: string, origin: NameKey): PoolsFileResult {
  const last = lastPools.get(file);
  if (last?.text === text) return last.result;
  const result = parsePoolsFile(text, file, Buffer.from(origin, 'latin1'));
  lastPools.set(file, { text, result });
  return result;
}
