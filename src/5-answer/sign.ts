// Online DNSSEC signing of an Answer (RFC 4035 §3.1): an RRSIG beside every RRset of the answer and
// authority sections, DS or an NSEC proving there is none at a referral, and compact denial of
// existence (RFC 9824) for negative answers: one NSEC at the name asked for, whose next name is
// the name's immediate successor. Pool answers are signed as sent (the RRs picked, the TTL given).
// Signatures are cached by what they cover, so a pool with few distinct answers signs each once.

import { LRUCache } from 'lru-cache';
import { Rcode, Type } from '../0-base/constants.ts';
import { MAX_LABEL, MAX_NAME, isSubdomain, isWildcard, parentKey, wildcardOf, type NameKey } from '../0-base/name.ts';
import {
  dsRdata,
  NSEC_SELF,
  NXNAME,
  nsecRdata,
  rrsigLabels,
  rrsigRdata,
  type SigningKey,
  type Validity,
} from '../1-codec/dnssec.ts';
import { canonicalRdata } from '../1-codec/rdata-layout.ts';
import type { Answer, Entry } from '../1-codec/response.ts';
import { makeRRset, type RRset } from '../1-codec/rrset.ts';
import type { ZoneNode } from '../2-zone/types.ts';
import type { PooledZone } from '../4-gslb/pool.ts';
import { negativeSoa } from './resolve.ts';

/**
 * A key of a signed zone, a CSK (RFC 4033 §2's KSK and ZSK in one), with when it is in the DNSKEY
 * RRset (publish ≤ t < delete) and when it signs (active ≤ t < inactive), ms; absent: always.
 */
export interface ZoneKey {
  readonly key: SigningKey;
  readonly publish?: number;
  readonly active?: number;
  readonly inactive?: number;
  readonly delete?: number;
}

/** A signed zone: its apex and its keys (one, or two during a rollover). */
export interface SignedZone {
  readonly origin: NameKey;
  readonly keys: readonly ZoneKey[];
}

/** Where a key is in its life at some time (`gslbd status`, the rollover's log). */
export type KeyState = 'scheduled' | 'published' | 'active' | 'retired' | 'removed';

/** A key as `gslbd status` shows it. */
export interface KeyView extends Omit<ZoneKey, 'key'> {
  readonly tag: number;
  readonly algorithm: number;
  readonly state: KeyState;
}

export function keyState(k: Omit<ZoneKey, 'key'>, now: number): KeyState {
  if (now >= (k.delete ?? Infinity)) return 'removed';
  if (now < (k.publish ?? -Infinity)) return 'scheduled';
  if (now >= (k.inactive ?? Infinity)) return 'retired';
  return now >= (k.active ?? -Infinity) ? 'active' : 'published';
}

export interface SignerOptions {
  readonly zones: readonly SignedZone[];
  /** How long a signature is valid from the start of its window, ms (`signature-validity`). */
  readonly validityMs: number;
  /** Signatures kept (RRSIG RRsets); default 10,000. */
  readonly cacheSize?: number;
  /** Each signature made, and each lookup of the cache: for metrics. */
  readonly onSignature?: (result: 'made' | 'hit' | 'miss') => void;
}

/** The RRsets of the key at a signed zone's apex, made by the Signer. */
const KEY_TYPES: readonly number[] = [Type.DNSKEY, Type.CDS, Type.CDNSKEY];

/** RFC 4035 §5.3.1 allows for clock skew; signatures start an hour before they are made. */
const BACKDATE_S = 3600;
/**
 * Signatures are made for windows of a quarter of their validity: every one given out has at least
 * three quarters of its validity left, and is made again in the next window (re-signed well
 * before it expires), while within a window the same RRset keeps the same signature (cacheable).
 */
const WINDOWS_PER_VALIDITY = 4;

export class Signer {
  #zones: ReadonlyMap<NameKey, SignedZone>;
  #origins: readonly NameKey[] = [];
  /** The name covers() was last asked about, and its answer. */
  #coveredName: NameKey | null = null;
  #covered = false;
  /**
   * Per signed zone, who signs it and from when until when that holds (the key times around the
   * last query's): a query finds its key by comparing two numbers while no key time passes.
   */
  readonly #signing = new Map<NameKey, Signing>();
  /** The validity of the window last asked for (most queries fall in the one before them). */
  #validityNow: Validity = { inception: 0, expiration: 0 };
  #windowStart = NaN;
  /** window()'s last string, and the times (ms) between which it holds. */
  #window = '';
  #windowFrom = Infinity;
  #windowUntil = -Infinity;
  /** Every key time of every zone, sorted: the key epoch of a time is how many it has passed. */
  #changes: readonly number[] = [];
  /**
   * RRSIG RRsets (with the owner written), by what they cover: the bounded store of signatures.
   * Each is held in a Held that its variants point at, emptied when the cache drops it.
   */
  readonly #cache: LRUCache<string, Held>;
  readonly #validityS: number;
  readonly #stepS: number;
  readonly #onSignature: (result: 'made' | 'hit' | 'miss') => void;
  readonly #keyRRsets = new Map<string, RRset>();
  /** NSEC RRsets with their RRSIG, by what they say: compact denial answers the same name alike. */
  readonly #denials: LRUCache<string, Entry[]>;
  /**
   * A number for each distinct RRset content (owner, type, every RDATA), never reused: signatures
   * are cached under it and a few small numbers, so a lookup hashes a short key. The content string
   * is made once per RRset object (zones and pools are immutable), and hashes once.
   */
  readonly #contents = new WeakMap<RRset, string>();
  /**
   * The signatures lately given for an RRset object (zones and pools are immutable: a change is a
   * new object), each with its cache key and its Held: a repeated answer finds its signature by
   * comparing a few numbers, not by making a string, hashing it and looking it up. The Held is
   * emptied when the cache drops the signature: the LRU cache stays the one bounded store of
   * signatures, and what it dropped is looked up (and made) again.
   */
  readonly #variants = new WeakMap<RRset, Variant[]>();
  readonly #keyIds = new WeakMap<SigningKey, number>();
  readonly #keyNumbers = new Map<string, number>();
  #contentIds = new Map<string, number>();
  #nextContentId = 0;

  constructor(opts: SignerOptions) {
    this.#zones = new Map();
    this.setZones(opts.zones);
    this.#cache = new LRUCache<string, Held>({
      max: opts.cacheSize ?? 10_000,
      dispose: (held) => {
        held.sig = null;
      },
    });
    this.#denials = new LRUCache({ max: opts.cacheSize ?? 10_000 });
    this.#validityS = Math.max(2, Math.floor(opts.validityMs / 1000));
    this.#stepS = Math.max(1, Math.floor(this.#validityS / WINDOWS_PER_VALIDITY));
    this.#onSignature = opts.onSignature ?? (() => {});
  }

  /** The signed zones and their keys from now on (a reload, a rollover put in service). */
  setZones(zones: readonly SignedZone[]): void {
    this.#zones = new Map(zones.map((z) => [z.origin, z]));
    this.#origins = zones.map((z) => z.origin);
    this.#coveredName = null;
    this.#signing.clear();
    this.#windowFrom = Infinity;
    this.#windowUntil = -Infinity;
    this.#changes = zones
      .flatMap((z) => z.keys.flatMap((k) => [k.publish, k.active, k.inactive, k.delete]))
      .filter((t): t is number => t !== undefined)
      .sort((a, b) => a - b);
    this.#keyRRsets.clear();
  }

  /** How many key times have passed at `now`: answers signed in one epoch (and window) are alike. */
  epoch(now: number): number {
    let n = 0;
    while (n < this.#changes.length && this.#changes[n]! <= now) n++;
    return n;
  }

  /** Each signed zone's keys and their state at `now`, for `gslbd status`. */
  describe(now: number): { zone: NameKey; keys: KeyView[] }[] {
    return [...this.#zones.values()].map((z) => ({
      zone: z.origin,
      keys: z.keys.map(({ key, ...times }) => ({
        tag: key.tag,
        algorithm: key.algorithm,
        state: keyState(times, now),
        ...times,
      })),
    }));
  }

  /** Whether answers for `qname` may be signed: it is in, or at the apex of, a signed zone. */
  covers(qname: NameKey): boolean {
    // The name asked before is most often asked again: comparing it costs less than the suffix test.
    if (qname === this.#coveredName) return this.#covered;
    let covered = false;
    for (const origin of this.#origins)
      if (isSubdomain(qname, origin)) {
        covered = true;
        break;
      }
    this.#coveredName = qname;
    this.#covered = covered;
    return covered;
  }

  /** The validity window and key epoch `now` (ms) falls in: answers signed in one are alike. */
  window(now: number): string {
    if (now < this.#windowFrom || now >= this.#windowUntil) {
      const expiration = this.#validity(now).expiration;
      const epoch = this.epoch(now);
      this.#window = `${expiration}.${epoch}`;
      // Until the window ends or the next key time, whichever comes first, it stays this string.
      const startMs = (expiration - this.#validityS) * 1000;
      this.#windowFrom = Math.max(startMs, epoch > 0 ? this.#changes[epoch - 1]! : -Infinity);
      this.#windowUntil = Math.min(startMs + this.#stepS * 1000, this.#changes[epoch] ?? Infinity);
    }
    return this.#window;
  }

  /** Whether `type` is one the Signer answers at a signed apex (DNSKEY, CDS, CDNSKEY). */
  isKeyType(type: number): boolean {
    return KEY_TYPES.includes(type);
  }

  /** Whether the zone with this origin is signed. */
  signs(origin: NameKey): boolean {
    return this.#zones.has(origin);
  }

  /**
   * The apex RRsets of a signed zone's key (TTL: the SOA's), made once per zone, type and TTL:
   * DNSKEY, and CDS and CDNSKEY (RFC 7344 §4: what the parent should have, so one that polls them
   * can follow, RFC 8078), a SHA-256 DS of the key and the key itself.
   */
  keyRRset(zone: PooledZone, type: number, now: number): RRset | undefined {
    const signed = this.#zones.get(zone.origin);
    if (!signed || !KEY_TYPES.includes(type)) return undefined;
    // DNSKEY: every key published now. CDS, CDNSKEY: those the parent should point at, the
    // published keys not yet retired (RFC 7344 §4; RFC 7583 §3.3.1: both while one is pre-published).
    const keys = published(signed, now).filter((k) => type === Type.DNSKEY || now < (k.inactive ?? Infinity));
    const ttl = zone.soa.ttl;
    const id = `${zone.origin}/${type}/${ttl}/${keys.map((k) => k.key.tag).join(',')}`;
    let rrset = this.#keyRRsets.get(id);
    if (!rrset) {
      const rdata = keys.map((k) => (type === Type.CDS ? dsRdata(zone.origin, k.key) : k.key.dnskey));
      rrset = makeRRset(zone.origin, type, ttl, rdata);
      if (this.#keyRRsets.size > 100) this.#keyRRsets.clear();
      this.#keyRRsets.set(id, rrset);
    }
    return rrset;
  }

  /**
   * `answer` with the apex DNSKEY, CDS or CDNSKEY RRset when that is what was asked (RFC 4035 §3.1:
   * zone data, given with or without DO; the zone files do not hold it).
   */
  withKeys(zone: PooledZone, qname: NameKey, qtype: number, answer: Answer, now: number): Answer {
    if (qname !== zone.origin || answer.answer.length || !KEY_TYPES.includes(qtype)) return answer;
    const rrset = this.keyRRset(zone, qtype, now);
    if (!rrset) return answer;
    return { ...answer, rcode: Rcode.NOERROR, answer: [{ owner: zone.origin, rrset }], authority: [] };
  }

  /**
   * `answer` to (qname, qtype) from `zone`, for a query with DO=1 (RFC 3225 §3): signed, with
   * compact denial. `compactOk`: the query set CO (RFC 9824 §5), so a name that does not exist
   * keeps NXDOMAIN. An answer from an unsigned zone is returned as it is.
   */
  sign(zone: PooledZone, qname: NameKey, qtype: number, answer: Answer, now: number, compactOk = false): Answer {
    let signing = this.#signing.get(zone.origin);
    if (signing === undefined || now < signing.from || now >= signing.until) {
      signing = this.#signingAt(zone.origin, now);
      if (signing === undefined) return answer;
      this.#signing.set(zone.origin, signing);
    }
    const { signed, by } = signing;
    if (!by) return answer;
    const validity = this.#validity(now);
    const window = validity.expiration;
    const only = answer.answer.length === 1 && answer.authority.length === 0 ? answer.answer[0]! : undefined;
    if (only && only.owner === only.rrset.owner && only.rrset.type !== Type.DNSKEY) {
      // One RRset at its own name, nothing to deny (a pool's answer, most often): its RRSIG beside it.
      // Every field of Answer written out (the type check fails if one is added and left out): a
      // spread of it and of the CO flag cost more than the rest of this path together.
      return {
        rcode: answer.rcode,
        aa: answer.aa,
        answer: [only, this.#rrsig(only, by, validity, window)],
        authority: answer.authority,
        additional: answer.additional,
        ecsScope: answer.ecsScope,
        zone: answer.zone,
        dynamic: answer.dynamic,
        compact: compactOk || answer.compact,
      } satisfies Answer & Record<keyof Answer, unknown>;
    }
    const sign = (e: Entry, labels?: number): Entry => this.#rrsig(e, by, validity, window, labels);
    const answerOut: Entry[] = [];
    const authority: Entry[] = [];
    /** NSEC RRsets (with their RRSIGs) go after the SOA (RFC 4035 §3.1.3). */
    const denial: Entry[] = [];
    let name = qname;
    for (const e of answer.answer) {
      answerOut.push(e);
      const wildcard = isWildcard(e.rrset.owner) && e.owner !== e.rrset.owner;
      const cover = wildcard ? coveringNsec(e.owner, e.rrset.owner) : null;
      if (cover) {
        // RFC 4035 §3.1.3.3: a wildcard expansion, signed with the wildcard's labels, comes with an
        // NSEC proving no closer name exists; here one minimally covering it (RFC 4470 §3).
        answerOut.push(sign(e, rrsigLabels(e.rrset.owner)));
        denial.push(...this.#nsec(zone, cover.owner, cover.next, NSEC_SELF, by, validity, window));
      } else if (e.rrset.type === Type.DNSKEY && e.owner === zone.origin) {
        // The DNSKEY RRset is signed by every key in it: during a rollover a validator holding
        // either key's DS gets from it to the key that signs the rest (RFC 7583 §3.3.1).
        for (const k of published(signed, now)) answerOut.push(this.#rrsig(e, { ...by, key: k.key }, validity, window));
      } else {
        answerOut.push(sign(e));
      }
      if (e.owner === name && e.rrset.type === Type.CNAME) name = e.rrset.targets[0]!;
    }
    let rcode = answer.rcode;
    for (const e of answer.authority) {
      authority.push(e);
      if (e.rrset.type === Type.SOA) {
        authority.push(sign(e));
        const ttl = e.ttl ?? e.rrset.ttl;
        if (rcode === Rcode.NXDOMAIN) {
          // RFC 9824 §3.2: the name is said to exist with no data but NSEC, RRSIG and NXNAME;
          // NOERROR unless the query set CO (§5), when the NXDOMAIN is kept.
          if (!compactOk) rcode = Rcode.NOERROR;
          denial.push(...this.#nsec(zone, name, successor(name), [...NSEC_SELF, NXNAME], by, validity, window, ttl));
        } else if (answer.answer.every((a) => a.owner !== name || a.rrset.type !== qtype)) {
          // RFC 9824 §3.1: NODATA, the types at the name less the one asked for.
          const types = typesAt(zone, name).filter((t) => t !== qtype);
          denial.push(...this.#nsec(zone, name, successor(name), [...types, ...NSEC_SELF], by, validity, window, ttl));
        }
      } else if (e.rrset.type === Type.NS && e.owner !== zone.origin) {
        // A referral (RFC 4035 §3.1.4): the NS are the child's, unsigned; the DS signed, or an NSEC
        // at the cut proving there is none (an insecure delegation).
        const node = zone.nodes.get(e.owner);
        const ds = node?.rrsets.get(Type.DS);
        if (ds) {
          const dsEntry: Entry = { owner: e.owner, rrset: ds };
          authority.push(dsEntry, sign(dsEntry));
        } else {
          const types = node ? [...node.rrsets.keys()] : [Type.NS];
          denial.push(...this.#nsec(zone, e.owner, successor(e.owner), [...types, ...NSEC_SELF], by, validity, window));
        }
      } else {
        authority.push(sign(e));
      }
    }
    authority.push(...denial);
    return { ...answer, rcode, answer: answerOut, authority, ...(compactOk && { compact: true }) };
  }

  /** The number of `rrset`'s content: its owner, type and every RDATA (each after its length). */
  #contentId(rrset: RRset): number {
    let c = this.#contents.get(rrset);
    if (c === undefined) {
      c = `${rrset.owner}/${rrset.type}`;
      for (const d of rrset.rdata) c += `/${d.length}:${d.toString('latin1')}`;
      this.#contents.set(rrset, c);
    }
    let id = this.#contentIds.get(c);
    if (id === undefined) {
      // Bounded: forgetting a content only means its next signature is looked up under a new number.
      if (this.#contentIds.size >= 100_000) this.#contentIds = new Map();
      this.#contentIds.set(c, (id = this.#nextContentId++));
    }
    return id;
  }

  /** The validity window `now` (ms) falls in: inception backdated, expiration a validity later. */
  #validity(now: number): Validity {
    const s = Math.floor(now / 1000);
    const start = s - (s % this.#stepS);
    if (start !== this.#windowStart) {
      this.#validityNow = { inception: start - BACKDATE_S, expiration: start + this.#validityS };
      this.#windowStart = start;
    }
    return this.#validityNow;
  }

  /** Who signs the zone `origin` at `now`, and the key times on either side; undefined: not signed. */
  #signingAt(origin: NameKey, now: number): Signing | undefined {
    const signed = this.#zones.get(origin);
    if (!signed) return undefined;
    const active = signed.keys.findLast((k) => keyState(k, now) === 'active');
    let from = -Infinity;
    let until = Infinity;
    for (const k of signed.keys) {
      for (const t of [k.publish, k.active, k.inactive, k.delete]) {
        if (t === undefined) continue;
        if (t <= now) from = Math.max(from, t);
        else until = Math.min(until, t);
      }
    }
    return { signed, by: active && { origin, key: active.key }, from, until };
  }

  /** NSEC at `owner` with `types`, TTL the negative TTL (RFC 9077 §3), and its RRSIG; both cached with the signature. */
  #nsec(
    zone: PooledZone,
    owner: NameKey,
    next: NameKey,
    types: readonly number[],
    by: By,
    validity: Validity,
    window: number,
    ttl = negativeSoa(zone).ttl!,
  ): Entry[] {
    const key = `${by.key.tag}/${window}/${ttl}/${owner}/${next}/${types.join(',')}`;
    const hit = this.#denials.get(key);
    if (hit) {
      this.#onSignature('hit');
      return hit;
    }
    const e: Entry = { owner, rrset: makeRRset(owner, Type.NSEC, ttl, [nsecRdata(next, types)]) };
    const pair = [e, this.#rrsig(e, by, validity, window)];
    this.#denials.set(key, pair);
    return pair;
  }

  /**
   * The RRSIG over `e` as it is written (owner, TTL, picked RRs), from the cache when made in this
   * window. The cache key is found through the RRset object's variants when this one was asked
   * before, and made (a string to hash) only when it was not.
   */
  #rrsig(e: Entry, by: By, validity: Validity, window: number, labels?: number): Entry {
    const rrset = e.rrset;
    const ttl = e.ttl ?? rrset.ttl;
    const picked = pickMask(e.pick);
    let variants = this.#variants.get(rrset);
    let v: Variant | undefined;
    if (variants) {
      for (const x of variants) {
        if (
          x.picked === picked &&
          x.ttl === ttl &&
          x.window === window &&
          x.key === by.key &&
          x.owner === e.owner &&
          x.labels === labels
        ) {
          v = x;
          break;
        }
      }
    }
    if (v) {
      // Still in the cache (a Held is emptied when the cache drops it): a hit without the lookup.
      // It does not make the signature recent in the cache, so a hot one may be dropped for being
      // old and made once more then; the answers are the same.
      const sig = v.held.sig;
      if (sig !== null) {
        this.#onSignature('hit');
        return sig;
      }
    }
    const key = v ? v.cacheKey : this.#cacheKey(e, ttl, labels, window, by.key);
    let held = this.#cache.get(key);
    this.#onSignature(held ? 'hit' : 'miss');
    if (!held) {
      const pick = e.pick;
      const rdata = (pick ? pick.map((i) => rrset.rdata[i]!) : rrset.rdata).map((d) => canonicalRdata(rrset.type, d));
      const n = labels ?? rrsigLabels(e.owner);
      const r = rrsigRdata({ owner: e.owner, type: rrset.type, ttl, rdata, labels: n }, by.origin, by.key, validity);
      held = { sig: { owner: e.owner, rrset: makeRRset(e.owner, Type.RRSIG, ttl, [r]) } };
      this.#cache.set(key, held);
      this.#onSignature('made');
    }
    if (v) v.held = held;
    else if (picked !== UNLISTED) {
      if (!variants) this.#variants.set(rrset, (variants = []));
      const remembered = { picked, ttl, window, key: by.key, owner: e.owner, labels, cacheKey: key, held };
      // A few per RRset (a pool's distinct answers, a TTL counting down), the oldest replaced.
      if (variants.length >= VARIANTS_PER_RRSET) variants.shift();
      variants.push(remembered);
    }
    return held.sig!;
  }

  /**
   * The signature cache's key for `e` as written: its content's number, the picked RRs sorted (the
   * same set in another order is the same RRset), TTL, labels, window, key, and the owner written
   * when it is not the RRset's (a wildcard's expansion).
   */
  #cacheKey(e: Entry, ttl: number, labels: number | undefined, window: number, key: SigningKey): string {
    const pick = e.pick;
    const picked = pick === undefined ? '*' : pick.length === 1 ? String(pick[0]) : [...pick].sort().join(',');
    const owner = e.owner === e.rrset.owner ? '' : e.owner;
    const n = labels ?? rrsigLabels(e.owner);
    return `${this.#contentId(e.rrset)}/${picked}/${ttl}/${n}/${window}/${this.#keyId(key)}/${owner}`;
  }

  /**
   * A number per key, by its DNSKEY RDATA: two keys with one tag (RFC 4034 App. B allows it) never
   * share a signature, and a key read again (a rollover's new times) keeps its signatures.
   */
  #keyId(key: SigningKey): number {
    let id = this.#keyIds.get(key);
    if (id === undefined) {
      const dnskey = key.dnskey.toString('latin1');
      id = this.#keyNumbers.get(dnskey);
      if (id === undefined) this.#keyNumbers.set(dnskey, (id = this.#keyNumbers.size));
      this.#keyIds.set(key, id);
    }
    return id;
  }
}

/** A signature given for an RRset object before: what it covered, and its key in the cache. */
interface Variant {
  /** pickMask of the RRs picked. */
  readonly picked: number;
  readonly ttl: number;
  readonly window: number;
  readonly key: SigningKey;
  readonly owner: NameKey;
  /** As the caller gave them (undefined: those of the owner). */
  readonly labels: number | undefined;
  readonly cacheKey: string;
  /** The signature as the cache holds it (emptied when the cache drops it). */
  held: Held;
}

/** A signature in the cache; null once the cache dropped it (evicted: made again when asked). */
interface Held {
  sig: Entry | null;
}

/** Variants remembered per RRset object: more than a pool has answers to give, and few to scan. */
const VARIANTS_PER_RRSET = 8;
/** pickMask of every RR (no pick). */
const ALL = -1;
/** pickMask of a pick it cannot write as bits (an index past 30): not remembered. */
const UNLISTED = -2;

/**
 * The set of RRs picked as bits (RR i: bit i), whatever their order; a set, as the RRSIG sees it
 * (RFC 4034 §6.3: duplicate RRs are one). ALL with no pick; UNLISTED past bit 30.
 */
function pickMask(pick: readonly number[] | undefined): number {
  if (pick === undefined) return ALL;
  let mask = 0;
  for (let j = 0; j < pick.length; j++) {
    const i = pick[j]!;
    if (i > 30) return UNLISTED;
    mask |= 1 << i;
  }
  return mask;
}

/** Who signs: the zone (the RRSIG's signer name) and the key. */
interface By {
  readonly origin: NameKey;
  readonly key: SigningKey;
}

/** A signed zone's signer while no key time passes: from ≤ t < until (ms). */
interface Signing {
  readonly signed: SignedZone;
  /** Undefined: no key is active (the zone's answers go unsigned). */
  readonly by: By | undefined;
  readonly from: number;
  readonly until: number;
}

/** The keys of `signed` in its DNSKEY RRset at `now`. */
function published(signed: SignedZone, now: number): ZoneKey[] {
  return signed.keys.filter((k) => {
    const state = keyState(k, now);
    return state === 'published' || state === 'active' || state === 'retired';
  });
}

/** The node answering for `name` in `zone`: its own, or the wildcard that synthesizes it (RFC 4592). */
function nodeAt(zone: PooledZone, name: NameKey): ZoneNode | undefined {
  const node = zone.nodes.get(name);
  if (node || !isSubdomain(name, zone.origin)) return node;
  let encloser = parentKey(name);
  while (encloser !== null && !zone.nodes.has(encloser)) encloser = parentKey(encloser);
  return encloser === null ? undefined : zone.nodes.get(wildcardOf(encloser));
}

/**
 * The types an NSEC at `name` lists (RFC 4034 §4.1.2): its RRsets, what its pool can answer, the
 * apex's DNSKEY, CDS and CDNSKEY; none for an empty non-terminal (RFC 9824 §3.3).
 */
function typesAt(zone: PooledZone, name: NameKey): number[] {
  const node = nodeAt(zone, name);
  const types = node ? [...node.rrsets.keys()] : [];
  const pool = zone.pools?.get(name);
  if (pool) {
    if (pool.targetsFor(Type.A).length) types.push(Type.A);
    if (pool.targetsFor(Type.AAAA).length) types.push(Type.AAAA);
  }
  if (name === zone.origin) types.push(...KEY_TYPES);
  return types;
}

/** RFC 4470 §3 / RFC 9824 §3: the name right after `name` in canonical order, `\000.name`. */
function successor(name: NameKey): NameKey {
  return name.length + 2 <= MAX_NAME ? '\x01\x00' + name : name;
}

/**
 * An NSEC minimally covering `qname`, expanded from `wildcard` (RFC 4470 §3): from just before the
 * next closer name to just after it and everything below it, both siblings of it, so a validator
 * finds the wildcard's parent as the closest encloser. Null when the label cannot be so shifted
 * (an empty-sorting or 63-octet label): the expansion is then signed as the name's own RRset.
 */
function coveringNsec(qname: NameKey, wildcard: NameKey): { owner: NameKey; next: NameKey } | null {
  const encloser = wildcard.slice(2);
  let closer = qname;
  while (parentKey(closer) !== encloser) closer = parentKey(closer)!;
  const len = closer.charCodeAt(0);
  const label = closer.slice(1, len + 1);
  const last = label.charCodeAt(len - 1);
  if (len >= MAX_LABEL || last === 0 || closer.length + 1 > MAX_NAME) return null;
  // The label with its last octet one less, then 0xff: sorts before the label and after what
  // begins with the lessened one.
  const before = label.slice(0, -1) + String.fromCharCode(last - 1) + '\xff';
  const after = label + '\x00';
  return {
    owner: String.fromCharCode(len + 1) + before + encloser,
    next: String.fromCharCode(len + 1) + after + encloser,
  };
}
