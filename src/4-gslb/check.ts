// `gslbd check --zones DIR`: load every zone as `serve` would and report, named-checkzone style,
// each error and warning as `file:line: reason`. Nothing is served, so nothing is kept.

import { nameToText, type NameKey } from '../0-base/name.ts';
import { GslbError } from '../0-base/errors.ts';
import { loadZones } from '../4-gslb/load.ts';
import type { PooledZone } from './pool.ts';

export interface CheckReport {
  /** `file:line: reason` (or `file: reason`); any error means the command should fail. */
  readonly errors: string[];
  readonly warnings: string[];
  /** Zones that would load: origin in presentation form, SOA serial, number of RRs. */
  readonly zones: { origin: string; serial: number; records: number }[];
  /** Zones with a file that did not load (their errors are in `errors`), origin in presentation form. */
  readonly failed: string[];
}

/** `secondaries`: zones transferred from a primary, whose pools file has no zone file beside it. */
export async function checkZones(dir: string, secondaries: ReadonlySet<NameKey> = new Set()): Promise<CheckReport> {
  let loaded;
  try {
    loaded = await loadZones(dir, secondaries);
  } catch (e) {
    if (e instanceof GslbError) return { errors: [e.message], warnings: [], zones: [], failed: [] };
    throw e;
  }
  const errors = [...loaded.errors, ...loaded.failures.flatMap((f) => f.errors)].map((e) => e.message);
  const warnings = loaded.warnings.map((w) => w.message);
  if (loaded.zones.length === 0 && loaded.failures.length === 0) warnings.push(`${dir}: no *.zone files`);
  const zones = loaded.zones.map((z) => ({ origin: nameToText(z.origin), serial: z.serial, records: countRecords(z) }));
  return { errors, warnings, zones, failed: loaded.failures.map((f) => nameToText(f.origin)) };
}

function countRecords(zone: PooledZone): number {
  let n = 0;
  for (const node of zone.nodes.values()) for (const set of node.rrsets.values()) n += set.rdata.length;
  return n;
}
