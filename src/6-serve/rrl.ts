// Response rate limiting (RRL), as Knot and NSD do it: each client prefix (IPv4 /24, IPv6 /56 by
// default) has a token bucket per class of response, refilled at `rate` per second. A response
// beyond the rate is dropped, except every `slip`-th, which goes out as a bare truncated reply so
// a real client behind a forged flood asks again over TCP (never limited). Only UDP responses are
// limited: that is what a reflection attack uses. The handler (handler.ts) asks `decide` once per
// UDP response; whitelisted prefixes and clients with a valid server cookie never reach a bucket.

import { addressToText, parseIPv6 } from '../0-base/address.ts';
import { inCidr, parseCidr, type Cidr } from '../0-base/cidr.ts';
import { Flag } from '../0-base/constants.ts';

export interface RrlOptions {
  /** Responses per second per client prefix and class, in this process (see README: workers). */
  readonly rate: number;
  /** Every slip-th limited response is sent truncated (TC=1) instead of dropped; 0: all dropped. */
  readonly slip: number;
  /** CIDRs never limited. */
  readonly whitelist: readonly string[];
  readonly ipv4Prefix: number;
  readonly ipv6Prefix: number;
  /** Count and log what would be limited, but send every response. */
  readonly logOnly: boolean;
  /** Buckets kept at most; the stalest goes to make room. */
  readonly tableSize: number;
}

export const RRL_DEFAULTS = { slip: 2, ipv4Prefix: 24, ipv6Prefix: 56, logOnly: false, tableSize: 100_000 } as const;

/** Classes of response, each with buckets of its own (an NXDOMAIN flood does not starve answers). */
export const RrlClass = { ANSWER: 0, NXDOMAIN: 1, ERROR: 2, REFERRAL: 3 } as const;
export const RRL_CLASS_NAMES = ['answer', 'nxdomain', 'error', 'referral'] as const;

/** What became of a UDP response while RRL is on. */
export const RrlAction = { SENT: 0, SLIPPED: 1, DROPPED: 2, EXEMPT: 3, LOGGED: 4 } as const;
/** sent: within the rate; exempt: whitelisted or a valid server cookie; logged: beyond the rate, sent in full (log-only). */
export const RRL_ACTION_NAMES = ['sent', 'slipped', 'dropped', 'exempt', 'logged'] as const;

/** A limited prefix, at most once per LOG_EVERY_MS per prefix. */
export interface RrlEvent {
  readonly prefix: string;
  readonly class: (typeof RRL_CLASS_NAMES)[number];
  /** Responses of this prefix beyond the rate since the last line about it. */
  readonly limited: number;
  readonly logOnly: boolean;
}

const LOG_EVERY_MS = 30_000;
/** A bucket used again after this long moves to the back of the eviction order. */
const TOUCH_MS = 1000;

interface Bucket {
  tokens: number;
  last: number;
  /** Limited responses since the last slipped one. */
  slipCount: number;
  /** When it last moved to the back of the table's order. */
  touched: number;
  readonly prefix: number | string;
}

/** The class of an encoded response, from its header alone (so cached answers need no more). */
export function classOf(response: Buffer): number {
  const flags = response.readUInt16BE(2);
  const rcode = flags & 0xf;
  if (rcode === 3) return RrlClass.NXDOMAIN;
  // Extended RCODEs (BADVERS, BADCOOKIE) have a non-zero low part in the header.
  if (rcode !== 0) return RrlClass.ERROR;
  if (response.readUInt16BE(6) === 0 && response.readUInt16BE(8) > 0 && !(flags & Flag.AA)) return RrlClass.REFERRAL;
  return RrlClass.ANSWER;
}

/**
 * The bare truncated reply a slipped response becomes: the header (TC=1, no records) and the
 * question of `response`, whose question ends at `questionEnd`.
 */
export function truncatedReply(response: Buffer, questionEnd: number): Buffer {
  const out = Buffer.allocUnsafe(Math.min(questionEnd, response.length));
  response.copy(out, 0, 0, out.length);
  out.writeUInt16BE(response.readUInt16BE(2) | Flag.TC, 2);
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(0, 10);
  return out;
}

/** The 32-bit value of a dotted quad, or -1; no allocation (the query path's source address). */
function ipv4Value(a: string): number {
  let value = 0;
  let part = 0;
  let parts = 0;
  for (let i = 0; i <= a.length; i++) {
    const c = i < a.length ? a.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      value = value * 256 + part;
      part = 0;
      parts++;
    } else if (c >= 0x30 && c <= 0x39) {
      part = part * 10 + c - 0x30;
    } else {
      return -1;
    }
  }
  return parts === 4 ? value : -1;
}

export class ResponseLimiter {
  readonly #rate: number;
  readonly #perMs: number;
  readonly #burst: number;
  readonly #slip: number;
  readonly #v4: number;
  readonly #v6: number;
  readonly #logOnly: boolean;
  readonly #tableSize: number;
  readonly #whitelist4: { net: number; mask: number }[] = [];
  readonly #whitelist6: Cidr[] = [];
  readonly #now: () => number;
  readonly #onLimit: (e: RrlEvent) => void;
  readonly #table = new Map<number | string, Bucket>();
  /** Per prefix: when it was last logged, and how many responses were limited since. */
  readonly #logged = new Map<number | string, { at: number; limited: number }>();

  /** `now`: milliseconds (the service's clock); `onLimit`: the log line of a limited prefix. */
  constructor(opts: RrlOptions, now: () => number, onLimit: (e: RrlEvent) => void = () => {}) {
    this.#rate = opts.rate;
    this.#perMs = opts.rate / 1000;
    // A second's worth, and at least one response (a worker's share of a small rate may be below 1).
    this.#burst = Math.max(1, opts.rate);
    this.#slip = opts.slip;
    this.#v4 = opts.ipv4Prefix;
    this.#v6 = opts.ipv6Prefix;
    this.#logOnly = opts.logOnly;
    this.#tableSize = opts.tableSize;
    this.#now = now;
    this.#onLimit = onLimit;
    for (const text of opts.whitelist) {
      const c = parseCidr(text);
      if (typeof c === 'string') throw new RangeError(`rrl whitelist: ${c}`);
      if (c.bytes.length === 4) {
        const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
        this.#whitelist4.push({ net: c.bytes.readUInt32BE(0), mask });
      } else {
        this.#whitelist6.push(c);
      }
    }
  }

  /** Buckets held now. */
  get size(): number {
    return this.#table.size;
  }

  /** The per-second rate this limiter enforces. */
  get rate(): number {
    return this.#rate;
  }

  /** What to do with a UDP response of class `cls` to `address`: an RrlAction. */
  decide(address: string, cls: number): number {
    let prefix: number | string;
    const v4 = ipv4Value(address);
    if (v4 >= 0) {
      for (const w of this.#whitelist4) if ((v4 & w.mask) >>> 0 === w.net) return RrlAction.EXEMPT;
      prefix = this.#v4 === 0 ? 0 : Math.floor(v4 / 2 ** (32 - this.#v4));
    } else {
      const bytes = parseIPv6(address);
      if (!bytes) return RrlAction.SENT;
      for (const w of this.#whitelist6) if (inCidr(w, bytes)) return RrlAction.EXEMPT;
      prefix = prefix6(bytes, this.#v6);
    }
    const key = typeof prefix === 'number' ? prefix * 4 + cls : `${prefix}/${cls}`;
    const now = this.#now();
    let b = this.#table.get(key);
    if (b === undefined) {
      if (this.#table.size >= this.#tableSize) this.#table.delete(this.#table.keys().next().value!);
      b = { tokens: this.#burst, last: now, slipCount: 0, touched: now, prefix };
      this.#table.set(key, b);
    } else if (now - b.touched >= TOUCH_MS) {
      // Map order is insertion order: moving a bucket in use to the back leaves the stalest first.
      this.#table.delete(key);
      this.#table.set(key, b);
      b.touched = now;
    }
    const tokens = Math.min(this.#burst, b.tokens + (now - b.last) * this.#perMs);
    b.last = now;
    if (tokens >= 1) {
      b.tokens = tokens - 1;
      return RrlAction.SENT;
    }
    b.tokens = tokens;
    this.#limited(prefix, cls, now);
    if (this.#logOnly) return RrlAction.LOGGED;
    if (this.#slip > 0 && ++b.slipCount >= this.#slip) {
      b.slipCount = 0;
      return RrlAction.SLIPPED;
    }
    return RrlAction.DROPPED;
  }

  /** Counts a limited response of `prefix`; logs it when its last line is LOG_EVERY_MS old. */
  #limited(prefix: number | string, cls: number, now: number): void {
    let l = this.#logged.get(prefix);
    if (l === undefined) {
      if (this.#logged.size >= this.#tableSize) this.#logged.delete(this.#logged.keys().next().value!);
      l = { at: -Infinity, limited: 0 };
      this.#logged.set(prefix, l);
    }
    l.limited++;
    if (now - l.at < LOG_EVERY_MS) return;
    this.#onLimit({
      prefix: this.#prefixText(prefix),
      class: RRL_CLASS_NAMES[cls]!,
      limited: l.limited,
      logOnly: this.#logOnly,
    });
    l.at = now;
    l.limited = 0;
  }

  #prefixText(prefix: number | string): string {
    if (typeof prefix === 'string') {
      const bytes = Buffer.alloc(16);
      Buffer.from(prefix, 'hex').copy(bytes);
      return `${addressToText(bytes)}/${this.#v6}`;
    }
    const bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(this.#v4 === 0 ? 0 : prefix * 2 ** (32 - this.#v4));
    return `${addressToText(bytes)}/${this.#v4}`;
  }
}

/** The first `bits` of an IPv6 address as hex (whole octets, the last one masked): a bucket's prefix. */
function prefix6(bytes: Buffer, bits: number): string {
  const whole = bits >> 3;
  const rest = bits & 7;
  if (rest === 0) return bytes.toString('hex', 0, whole);
  bytes[whole] = bytes[whole]! & ((0xff00 >> rest) & 0xff);
  return bytes.toString('hex', 0, whole + 1);
}
