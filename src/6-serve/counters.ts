// Counters kept on the query path. Plain maps with string keys, incremented with no allocation
// beyond the first time a key is seen; prom-client reads them only when /metrics is scraped, so
// a query pays a few map operations, not a metrics library's label handling.

import { rcodeName, typeName } from '../0-base/constants.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { RRL_ACTION_NAMES, RRL_CLASS_NAMES } from './rrl.ts';

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

/** Query types worth their own label (IXFR and AXFR: zone transfers, by rcode); the rest are counted as OTHER (label cardinality). */
const COMMON_TYPES = [1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 43, 52, 64, 65, 251, 252, 255, 257];
const TYPE_LABELS = [...COMMON_TYPES.map(typeName), 'OTHER'];
/** qtype → position in TYPE_LABELS. */
const typeSlot = new Uint8Array(65536).fill(COMMON_TYPES.length);
COMMON_TYPES.forEach((t, i) => (typeSlot[t] = i));
/** RCODEs 0..16 (16: BADVERS) have a slot; others (never sent today) are counted by label. */
const RCODE_SLOTS = 17;
const SLOTS = TYPE_LABELS.length * RCODE_SLOTS * 2;

/** What QueryCounters holds, as plain data: a cluster worker sends it to its primary on scrape. */
export interface QueryCounts {
  readonly queries: ReadonlyMap<string, number>;
  readonly answers: ReadonlyMap<string, number>;
  readonly fallbacks: ReadonlyMap<string, number>;
  readonly cache: ReadonlyMap<string, number>;
  /** RRL: class, action (rrl.ts). */
  readonly rrl: ReadonlyMap<string, number>;
  /** DNS Cookies: result (client-only, valid, invalid, malformed, badcookie). */
  readonly cookies: ReadonlyMap<string, number>;
  /** DNSSEC signatures: made, and lookups of the signature cache (hit, miss). */
  readonly dnssec: ReadonlyMap<string, number>;
  readonly dropped: number;
}

/** Hand-outs of one pool family's targets since the last fold (see QueryCounters). */
interface PoolTally {
  readonly pool: string;
  readonly targets: readonly { readonly address: string }[];
  readonly counts: Float64Array;
  fallbacks: number;
}

/**
 * The query path counts into typed arrays indexed by numbers (zone → type × rcode × transport;
 * pool targets by position), so counting a query builds no label string and allocates nothing.
 * Reading the CountMaps (a scrape, a worker's report) first folds those arrays into them.
 */
export class QueryCounters {
  readonly #queries = new CountMap();
  readonly #answers = new CountMap();
  readonly #fallbacks = new CountMap();
  readonly #cache = new CountMap();
  readonly #rrl = new CountMap();
  readonly #cookies = new CountMap();
  readonly #dnssec = new CountMap();
  /** RRL actions by class × action, folded into #rrl. */
  readonly #rrlSlots = new Float64Array(RRL_CLASS_NAMES.length * RRL_ACTION_NAMES.length);
  /** Per zone (undefined: no zone of ours). */
  readonly #byZone = new Map<NameKey | undefined, Float64Array>();
  /** Keyed by a pool family's target list, which a pool keeps for its lifetime. */
  readonly #pools = new Map<readonly unknown[], PoolTally>();
  #hits = 0;
  #misses = 0;
  dropped = 0;

  /** zone, qtype, rcode, transport */
  get queries(): CountMap {
    this.#fold();
    return this.#queries;
  }

  /** pool, target address */
  get answers(): CountMap {
    this.#fold();
    return this.#answers;
  }

  /** pool */
  get fallbacks(): CountMap {
    this.#fold();
    return this.#fallbacks;
  }

  /** hit | miss of the answer cache */
  get cache(): CountMap {
    this.#fold();
    return this.#cache;
  }

  /** class, action of UDP responses while RRL is on */
  get rrl(): CountMap {
    this.#fold();
    return this.#rrl;
  }

  /** result of COOKIE options seen while cookies are on */
  get cookies(): CountMap {
    return this.#cookies;
  }

  /** DNSSEC signatures made, and signature cache lookups (hit, miss) */
  get dnssec(): CountMap {
    return this.#dnssec;
  }

  /** One UDP response through the limiter: `cls` an RrlClass, `action` an RrlAction. */
  rrlAction(cls: number, action: number): void {
    const i = cls * RRL_ACTION_NAMES.length + action;
    this.#rrlSlots[i] = this.#rrlSlots[i]! + 1;
  }

  /** One COOKIE option judged (a constant string: no allocation). */
  cookie(result: 'client-only' | 'valid' | 'invalid' | 'malformed' | 'badcookie'): void {
    this.#cookies.add(result);
  }

  /** One signature made, or one lookup of the signature cache (5-answer/sign.ts). */
  signature(result: 'made' | 'hit' | 'miss'): void {
    this.#dnssec.add(result);
  }

  query(zone: NameKey | undefined, qtype: number, rcode: number, tcp: boolean): void {
    const t = typeSlot[qtype]!;
    if (rcode >= RCODE_SLOTS) {
      this.#queries.add(`${zoneName(zone)}\t${TYPE_LABELS[t]}\t${rcodeName(rcode)}\t${tcp ? 'tcp' : 'udp'}`);
      return;
    }
    let a = this.#byZone.get(zone);
    if (a === undefined) this.#byZone.set(zone, (a = new Float64Array(SLOTS)));
    const i = (t * RCODE_SLOTS + rcode) * 2 + (tcp ? 1 : 0);
    a[i] = a[i]! + 1;
  }

  /** One lookup of the answer cache. */
  cacheLookup(hit: boolean): void {
    if (hit) this.#hits++;
    else this.#misses++;
  }

  /**
   * One pool answer: `pick` (positions in `targets`) was handed out, or every target when absent
   * (fallback `all`); `fallback` when no target was usable.
   */
  pool(
    pool: NameKey,
    targets: readonly { readonly address: string }[],
    pick: readonly number[] | undefined,
    fallback: boolean,
  ): void {
    let tally = this.#pools.get(targets);
    if (tally === undefined) {
      // Pools rebuilt by updates bring new lists: fold now and then so old ones are let go.
      if (this.#pools.size >= 1000) this.#fold();
      tally = { pool: zoneName(pool), targets, counts: new Float64Array(targets.length), fallbacks: 0 };
      this.#pools.set(targets, tally);
    }
    if (fallback) tally.fallbacks++;
    const c = tally.counts;
    if (pick) for (let i = 0; i < pick.length; i++) c[pick[i]!] = c[pick[i]!]! + 1;
    else for (let i = 0; i < c.length; i++) c[i] = c[i]! + 1;
  }

  /** The counts now (the maps themselves: copy or send them before counting goes on). */
  counts(): QueryCounts {
    this.#fold();
    return {
      queries: this.#queries.counts,
      answers: this.#answers.counts,
      fallbacks: this.#fallbacks.counts,
      cache: this.#cache.counts,
      rrl: this.#rrl.counts,
      cookies: this.#cookies.counts,
      dnssec: this.#dnssec.counts,
      dropped: this.dropped,
    };
  }

  /** Adds `c` to these counters (workers' counts into the primary's sum). */
  merge(c: QueryCounts): void {
    this.#queries.merge(c.queries);
    this.#answers.merge(c.answers);
    this.#fallbacks.merge(c.fallbacks);
    this.#cache.merge(c.cache);
    this.#rrl.merge(c.rrl);
    this.#cookies.merge(c.cookies);
    this.#dnssec.merge(c.dnssec);
    this.dropped += c.dropped;
  }

  /** Moves what the typed arrays counted into the CountMaps. */
  #fold(): void {
    for (const [zone, a] of this.#byZone) {
      for (let i = 0; i < a.length; i++) {
        const n = a[i]!;
        if (n === 0) continue;
        const tcp = i & 1;
        const rcode = (i >> 1) % RCODE_SLOTS;
        const type = Math.floor((i >> 1) / RCODE_SLOTS);
        this.#queries.add(`${zoneName(zone)}\t${TYPE_LABELS[type]}\t${rcodeName(rcode)}\t${tcp ? 'tcp' : 'udp'}`, n);
      }
    }
    this.#byZone.clear();
    for (const t of this.#pools.values()) {
      if (t.fallbacks) this.#fallbacks.add(t.pool, t.fallbacks);
      t.targets.forEach((x, i) => {
        if (t.counts[i]) this.#answers.add(`${t.pool}\t${x.address}`, t.counts[i]);
      });
    }
    this.#pools.clear();
    if (this.#hits) this.#cache.add('hit', this.#hits);
    if (this.#misses) this.#cache.add('miss', this.#misses);
    this.#hits = this.#misses = 0;
    const slots = this.#rrlSlots;
    for (let i = 0; i < slots.length; i++) {
      if (slots[i] === 0) continue;
      const cls = RRL_CLASS_NAMES[Math.floor(i / RRL_ACTION_NAMES.length)]!;
      this.#rrl.add(`${cls}\t${RRL_ACTION_NAMES[i % RRL_ACTION_NAMES.length]!}`, slots[i]);
      slots[i] = 0;
    }
  }
}
