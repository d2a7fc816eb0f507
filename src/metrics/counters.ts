// Counters kept on the query path. Plain maps with string keys, incremented with no allocation
// beyond the first time a key is seen; prom-client reads them only when /metrics is scraped, so
// a query pays a few map operations, not a metrics library's label handling.

import { typeName } from '../dns/constants.ts';
import { nameToText, type NameKey } from '../dns/name.ts';

export const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? (rcode === 16 ? 'BADVERS' : `RCODE${rcode}`);
}

/** A map of counts whose keys are label values joined by a tab. */
export class CountMap {
  readonly counts = new Map<string, number>();

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  /** Entries with their labels split again. */
  *entries(): Generator<[string[], number]> {
    for (const [k, v] of this.counts) yield [k.split('\t'), v];
  }

  /** Adds every count of `other` (a worker's counters into the primary's). */
  merge(other: Iterable<[string, number]>): void {
    for (const [k, v] of other) this.add(k, v);
  }
}

/** Presentation names are made once per zone key, not per query. */
const zoneNames = new Map<NameKey, string>();
function zoneName(zone: NameKey | undefined): string {
  if (zone === undefined) return '';
  let n = zoneNames.get(zone);
  if (n === undefined) {
    n = nameToText(zone);
    if (zoneNames.size < 10_000) zoneNames.set(zone, n);
  }
  return n;
}

/** Query types worth their own label; the rest are counted as OTHER (label cardinality). */
const COMMON_TYPES = new Set([1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 43, 52, 64, 65, 255, 257]);

/** What QueryCounters holds, as plain data: a cluster worker sends it to its primary on scrape. */
export interface QueryCounts {
  readonly queries: ReadonlyMap<string, number>;
  readonly answers: ReadonlyMap<string, number>;
  readonly fallbacks: ReadonlyMap<string, number>;
  readonly cache: ReadonlyMap<string, number>;
  readonly dropped: number;
}

export class QueryCounters {
  /** zone, qtype, rcode, transport */
  readonly queries = new CountMap();
  /** pool, target address */
  readonly answers = new CountMap();
  /** pool */
  readonly fallbacks = new CountMap();
  /** hit | miss of the answer cache */
  readonly cache = new CountMap();
  dropped = 0;

  query(zone: NameKey | undefined, qtype: number, rcode: number, tcp: boolean): void {
    const type = COMMON_TYPES.has(qtype) ? typeName(qtype) : 'OTHER';
    this.queries.add(`${zoneName(zone)}\t${type}\t${rcodeName(rcode)}\t${tcp ? 'tcp' : 'udp'}`);
  }

  /** The counts now (the maps themselves: copy or send them before counting goes on). */
  counts(): QueryCounts {
    return { queries: this.queries.counts, answers: this.answers.counts, fallbacks: this.fallbacks.counts, cache: this.cache.counts, dropped: this.dropped };
  }

  /** Adds `c` to these counters (workers' counts into the primary's sum). */
  merge(c: QueryCounts): void {
    this.queries.merge(c.queries);
    this.answers.merge(c.answers);
    this.fallbacks.merge(c.fallbacks);
    this.cache.merge(c.cache);
    this.dropped += c.dropped;
  }

  /** Each target handed out, and fallback answers. */
  pool(pool: NameKey, targets: readonly string[], fallback: boolean): void {
    const p = zoneName(pool);
    if (fallback) this.fallbacks.add(p);
    for (const t of targets) this.answers.add(`${p}\t${t}`);
  }
}
