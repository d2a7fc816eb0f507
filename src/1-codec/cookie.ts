// DNS Cookies (RFC 7873), server side, with the interoperable server cookie of RFC 9018: every
// node holding the same secret makes and accepts the same cookies, so anycast and several nodes
// work. The COOKIE option's length is checked by parseQuery (query.ts: FORMERR, RFC 7873 §5.2.2);
// this file decides what a well-formed one is worth and writes the one to send back.
//
// Server cookie (RFC 9018 §4.2), 16 octets: version 1 | 3 reserved | 32-bit timestamp (seconds) |
// SipHash-2-4 over Client Cookie | Version | Reserved | Timestamp | Client IP, with a 16-octet secret.

import { SipKey, sipHash24 } from '../0-base/siphash.ts';

/** The COOKIE option data we send: the client's 8 octets and our 16. */
export const REPLY_COOKIE_SIZE = 24;
const CLIENT_COOKIE_SIZE = 8;
const SERVER_COOKIE_SIZE = 16;
const VERSION = 1;
/** RFC 9018 §4.3: a cookie is good for an hour, and may come from up to 5 minutes in the future (clock skew). */
const MAX_AGE_S = 3600;
const MAX_AHEAD_S = 300;
/** RFC 9018 §4.3: a cookie older than half an hour is replaced by a fresh one in the answer. */
const RENEW_AFTER_S = 1800;

/** `cookies:` in gslbd.yaml: 32 hex digits each (16 octets, the SipHash key). */
export interface CookieOptions {
  readonly secret: string;
  /** The secret before `secret`, still accepted while clients' cookies made with it age out (an hour). */
  readonly previousSecret?: string;
}

/** What a query's COOKIE option is worth (RFC 7873 §5.2.3 - §5.2.5). */
export type CookieVerdict = 'client-only' | 'valid' | 'invalid';

/**
 * The secret every node of a cluster shares, and the one before it while it rotates: cookies made
 * with `previous` are accepted (and replaced by ones made with `secret`) until it is removed.
 */
export class CookieSecrets {
  readonly #current: SipKey;
  readonly #previous: SipKey | null;

  constructor(secret: Uint8Array, previous: Uint8Array | null = null) {
    this.#current = new SipKey(secret);
    this.#previous = previous ? new SipKey(previous) : null;
  }

  /** From gslbd.yaml's `cookies:` (32 hex digits each, checked by 7-config). */
  static of(opts: CookieOptions): CookieSecrets {
    const prev = opts.previousSecret;
    return new CookieSecrets(Buffer.from(opts.secret, 'hex'), prev ? Buffer.from(prev, 'hex') : null);
  }

  /**
   * Judges `opt`, a COOKIE option's data of a valid length (8, or 16..40 octets) at msg[at, at + length), from the address
   * `client` (4 or 16 octets) at `now` (Unix seconds), and writes the option data to answer with
   * into reply[0, 24): the client cookie and our server cookie, the one received when it is valid,
   * ours by the current secret and less than half an hour old (RFC 9018 §4.3), else a fresh one.
   */
  check(
    msg: Uint8Array,
    at: number,
    length: number,
    client: Uint8Array,
    now: number,
    reply: Uint8Array,
  ): CookieVerdict {
    let verdict: CookieVerdict = 'client-only';
    let renew = true;
    if (length > CLIENT_COOKIE_SIZE) {
      verdict = 'invalid';
      if (length === CLIENT_COOKIE_SIZE + SERVER_COOKIE_SIZE && msg[at + 8] === VERSION) {
        const ts = ((msg[at + 12]! << 24) | (msg[at + 13]! << 16) | (msg[at + 14]! << 8) | msg[at + 15]!) >>> 0;
        // Serial arithmetic (RFC 1982): the timestamp wraps in 2106.
        const age = (now - ts) | 0;
        if (age >= -MAX_AHEAD_S && age <= MAX_AGE_S) {
          if (this.#verifies(this.#current, msg, at, client)) {
            verdict = 'valid';
            renew = age > RENEW_AFTER_S;
          } else if (this.#previous && this.#verifies(this.#previous, msg, at, client)) {
            verdict = 'valid';
          }
        }
      }
    }
    if (renew) makeServerCookie(this.#current, msg, at, client, now, reply);
    else for (let i = 0; i < REPLY_COOKIE_SIZE; i++) reply[i] = msg[at + i]!;
    return verdict;
  }

  #verifies(key: SipKey, msg: Uint8Array, at: number, client: Uint8Array): boolean {
    // The hash covers version, reserved and timestamp as received (RFC 9018 §4.4).
    const n = hashInput(msg, at, client);
    sipHash24(key, input, 0, n, hash, 0);
    for (let i = 0; i < 8; i++) if (hash[i] !== msg[at + 16 + i]) return false;
    return true;
  }
}

const input = new Uint8Array(CLIENT_COOKIE_SIZE + 8 + 16);
const hash = new Uint8Array(8);

/**
 * Lays out Client Cookie | Version | Reserved | Timestamp | Client IP in `input`, the first 16
 * octets from cookie[at, at + 16); returns its length.
 */
function hashInput(cookie: Uint8Array, at: number, client: Uint8Array): number {
  for (let i = 0; i < 16; i++) input[i] = cookie[at + i]!;
  input.set(client, 16);
  return 16 + client.length;
}

/** Writes the client cookie at msg[at, at + 8) and a new server cookie (version 1, reserved 0, `now`) at out[0, 24). */
function makeServerCookie(
  key: SipKey,
  msg: Uint8Array,
  at: number,
  client: Uint8Array,
  now: number,
  out: Uint8Array,
): void {
  for (let i = 0; i < CLIENT_COOKIE_SIZE; i++) out[i] = msg[at + i]!;
  out[8] = VERSION;
  out[9] = out[10] = out[11] = 0;
  out[12] = now >>> 24;
  out[13] = now >>> 16;
  out[14] = now >>> 8;
  out[15] = now;
  const n = hashInput(out, 0, client);
  sipHash24(key, input, 0, n, out, 16);
}

/** RFC 7873 §5.2.2: 8 octets (a client cookie alone) or 16..40 (with a server cookie of 8..32); anything else is FORMERR. */
export function cookieLengthOk(len: number): boolean {
  return len === CLIENT_COOKIE_SIZE || (len >= CLIENT_COOKIE_SIZE + 8 && len <= CLIENT_COOKIE_SIZE + 32);
}
