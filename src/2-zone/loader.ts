// Reads the zones directory: `DIR/<origin>.zone` for every zone, $INCLUDE files from inside DIR
// only. Each zone loads or fails on its own, so a reload can keep the previous version of a zone
// whose new file is broken while the others move on. A layer above may add a step to each zone
// once it is built (4-gslb/load.ts attaches the zone's pools); names are indexed after it.

import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { keyOf, NameError, nameToText, parseName, type NameKey } from '../0-base/name.ts';
import { GslbError, SourceError } from '../0-base/errors.ts';
import { buildZoneSliced, type BuildResult, type BuiltZone } from './build.ts';
import { indexNameServersSteps } from './name-servers.ts';
import { countChildrenSteps } from './overlay.ts';
import { parseZone, type IncludeReader, type ParseResult } from './parser.ts';
import { runSliced } from '../0-base/slices.ts';
import type { ParsedRecord, Zone } from './types.ts';

export const ZONE_SUFFIX = '.zone';

/**
 * A step run on each zone once it is built, before its names are counted and indexed: it may add
 * names to the zone's own node map (not to a copy). `zoneFile` is the path of `<origin>.zone`.
 */
export type ZoneStep = (
  zoneFile: string,
  zone: BuiltZone,
) => Promise<{ kind: 'zone'; zone: BuiltZone } | { kind: 'invalid'; errors: SourceError[] }>;

export interface ZoneFailure {
  readonly origin: NameKey;
  readonly file: string;
  readonly errors: SourceError[];
}

export interface LoadResult {
  /** Zones that passed every check, in file name order. */
  readonly zones: Zone[];
  /** Zones whose file has errors: none of their records is usable. */
  readonly failures: ZoneFailure[];
  /** Files that name no zone: an invalid origin, or an origin another file already has. */
  readonly errors: SourceError[];
  readonly warnings: SourceError[];
}

/** A zone file found in the directory. */
interface ZoneFile {
  readonly origin: NameKey;
  readonly file: string;
}

/**
 * Loads every `*.zone` file of `dir` (dot files ignored). Throws GslbError ERR_ZONE_IO only if the
 * directory itself cannot be read; everything else is reported in the result.
 */
export async function readZones(dir: string, step?: ZoneStep): Promise<LoadResult> {
  const { files, errors } = await listZoneFiles(dir);
  const zones: Zone[] = [];
  const failures: ZoneFailure[] = [];
  const warnings: SourceError[] = [];
  for (const f of files) {
    const r = await loadZoneFile(dir, f, step);
    for (const w of r.warnings) warnings.push(w); // not push(...): a zone may have 100k+ warnings
    if (r.kind === 'zone') zones.push(r.zone);
    else failures.push({ origin: f.origin, file: f.file, errors: r.errors });
  }
  return { zones, failures, errors, warnings };
}

/** Loads the one zone of `dir` whose origin is `origin` (a key); undefined if it has no file. */
export async function readZone(dir: string, origin: NameKey, step?: ZoneStep): Promise<BuildResult | undefined> {
  const { files } = await listZoneFiles(dir);
  const f = files.find((z) => z.origin === origin);
  return f && loadZoneFile(dir, f, step);
}

/** Origin named by a zone file name: `example.com.zone` → example.com. (a key). */
export function originOfFile(name: string): { origin: NameKey } | { reason: string } {
  const base = name.slice(0, -ZONE_SUFFIX.length);
  try {
    return { origin: keyOf(parseName(`${base}.`, null)) };
  } catch (e) {
    if (e instanceof NameError) return { reason: `the file name does not name a zone: ${e.message}` };
    throw e;
  }
}

async function listZoneFiles(dir: string): Promise<{ files: ZoneFile[]; errors: SourceError[] }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new GslbError('ERR_ZONE_IO', `${dir}: cannot read the zones directory: ${(e as Error).message}`);
  }
  const files: ZoneFile[] = [];
  const errors: SourceError[] = [];
  const seen = new Map<NameKey, string>();
  for (const name of names.sort()) {
    if (!name.endsWith(ZONE_SUFFIX) || name.startsWith('.')) continue;
    const file = path.join(dir, name);
    if (
      !(await stat(file).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      continue;
    const named = originOfFile(name);
    if ('reason' in named) {
      errors.push(new SourceError('ERR_ZONE_IO', file, 0, named.reason));
      continue;
    }
    const other = seen.get(named.origin);
    if (other !== undefined) {
      errors.push(
        new SourceError('ERR_ZONE_IO', file, 0, `${other} already holds the zone ${nameToText(named.origin)}`),
      );
      continue;
    }
    seen.set(named.origin, file);
    files.push({ origin: named.origin, file });
  }
  return { files, errors };
}

async function loadZoneFile(dir: string, f: ZoneFile, step: ZoneStep | undefined): Promise<BuildResult> {
  const parsed = await parseZoneFile(dir, f);
  // Content checks on the records of a file with bad lines would mislead (a "missing" SOA that is
  // only a bad SOA line), so they run once the syntax is clean, as a compiler's later passes do.
  if (parsed.errors.length > 0) return { kind: 'invalid', errors: parsed.errors, warnings: parsed.warnings };
  const built = await buildZoneWith(f.origin, f.file, parsed.records, step, f.file);
  return { ...built, warnings: [...parsed.warnings, ...built.warnings] };
}

/**
 * Builds the zone `origin` from `records` read from `file` (a zone file, or a transfer), runs
 * `step` on it as if it were read from `zoneFile`, and indexes it: what a zone needs before it is
 * served, wherever its records came from.
 */
export async function buildZoneWith(
  origin: NameKey,
  file: string,
  records: readonly ParsedRecord[],
  step: ZoneStep | undefined,
  zoneFile: string,
): Promise<BuildResult> {
  const built = await buildZoneSliced(origin, file, records);
  if (built.kind === 'invalid') return built;
  // A step's errors fail the zone as its own would (the previous version is kept).
  const stepped = step ? await step(zoneFile, built.zone) : { kind: 'zone' as const, zone: built.zone };
  if (stepped.kind === 'invalid') return { kind: 'invalid', errors: stepped.errors, warnings: built.warnings };
  // Last: the step may have added names. Ready before the service lays run-time changes over the
  // zone, and before a change needs to know which NS sets name a name server (name-servers.ts).
  await runSliced(countChildrenSteps(stepped.zone.nodes, origin));
  await runSliced(indexNameServersSteps(stepped.zone.nodes, origin));
  return { ...built, zone: stepped.zone };
}

/** Reads and parses a zone file. The text is dropped on return, before the build needs memory. */
async function parseZoneFile(dir: string, f: ZoneFile): Promise<ParseResult> {
  let text: string;
  try {
    // latin1: one char per byte, so the parser sees the file's bytes exactly (see lexer.ts).
    text = await readFile(f.file, 'latin1');
  } catch (e) {
    return {
      records: [],
      errors: [new SourceError('ERR_ZONE_IO', f.file, 0, `cannot read: ${(e as Error).message}`)],
      warnings: [],
    };
  }
  return parseZone(text, f.file, Buffer.from(f.origin, 'latin1'), { include: includeReader(dir) });
}

const escapes = (rel: string): boolean => rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel);

/**
 * $INCLUDE paths are relative to the zones directory and must stay inside it, also after symbolic
 * links are followed: a zone file must not be a way to read any file the server can.
 */
function includeReader(dir: string): IncludeReader {
  return async (target) => {
    const root = path.resolve(dir);
    const wanted = path.resolve(root, target);
    if (escapes(path.relative(root, wanted))) {
      throw new GslbError('ERR_ZONE_SYNTAX', `the file is outside the zones directory ${dir}`);
    }
    let real: string;
    let realRoot: string;
    try {
      [real, realRoot] = await Promise.all([realpath(wanted), realpath(root)]);
    } catch (e) {
      throw new GslbError('ERR_ZONE_IO', `cannot read: ${(e as Error).message}`);
    }
    const rel = path.relative(realRoot, real);
    if (escapes(rel))
      throw new GslbError('ERR_ZONE_SYNTAX', `a symbolic link leads outside the zones directory ${dir}`);
    try {
      return { file: path.join(dir, rel), text: await readFile(real, 'latin1') };
    } catch (e) {
      throw new GslbError('ERR_ZONE_IO', `cannot read: ${(e as Error).message}`);
    }
  };
}
