// One message in, one response out (or nothing): parse → resolve → encode.
// Never throws: an unexpected error becomes SERVFAIL, is counted and logged once per kind.

import type { PooledZone } from '../4-gslb/pool.ts';
import { Rcode, Class, UDP_PAYLOAD_CLASSIC, UDP_PAYLOAD_MAX, typeName } from '../0-base/constants.ts';
import { parseQuery, type ClientSubnet, type Edns, type Parsed } from '../1-codec/query.ts';
import { bodyOf, encodeAnswer, encodeError, reuseBody, roomFor } from '../1-codec/response.ts';
import { AnswerCache } from './cache.ts';
import { resolve } from '../5-answer/resolve.ts';
import type { ZoneSource } from '../2-zone/store.ts';
import { makeClient } from '../4-gslb/client.ts';
import { allUp, type HealthView } from '../4-gslb/health-view.ts';
import type { GeoDatabase } from '../3-geo/types.ts';
import type { Client, PolicyContext } from '../3-policy/types.ts';
import type { Pool, PoolAnswer } from '../4-gslb/pool.ts';
import { rcodeName } from '../0-base/constants.ts';
import type { QueryCounters } from './counters.ts';
import { nameToText, type NameKey } from '../0-base/name.ts';
import { FUDGE, tsigAnswer, tsigSize, verifyRequest, type TsigSettings } from '../1-codec/tsig.ts';
import { REPLY_COOKIE_SIZE, type CookieSecrets, type CookieVerdict } from '../1-codec/cookie.ts';
import { addressRdata } from '../0-base/address.ts';
import { classOf, RrlAction, truncatedReply, type ResponseLimiter } from './rrl.ts';
import { isTransferType, type MessageStream, type TransferHandler } from './transfer.ts';
import type { Signer } from '../5-answer/sign.ts';

export interface Transport {
  readonly tcp: boolean;
  /** The query's source address. */
  readonly address: string;
}

/** What answering pool names needs besides the zones. */
export interface GslbInputs {
  readonly health: HealthView;
  readonly geo: GeoDatabase | null;
  readonly random: () => number;
  readonly now: () => number;
}

const defaultInputs: GslbInputs = { health: allUp, geo: null, random: Math.random, now: Date.now };

export interface HandlerStats {
  queries: number;
  dropped: number;
  errors: number;
}

/** One line of the query log. */
export interface QueryLogEntry {
  readonly qname: string;
  readonly qtype: string;
  readonly client: string;
  readonly rcode: string;
  readonly transport: 'udp' | 'tcp';
}

/** The sampled query log (`--query-log-sample N`): every `sample`-th query answered is written. */
export interface QueryLog {
  readonly sample: number;
  write(entry: QueryLogEntry): void;
}

/** RFC 2136 UPDATE messages go here (they need the journal, so the answer comes later). */
export type UpdateHandler = (msg: Buffer, via: Transport) => Promise<Buffer | null>;

export interface Handler {
  /** A MessageStream (a zone transfer, several messages) only over TCP. */
  (msg: Buffer, via: Transport): Buffer | null | Promise<Buffer | null> | MessageStream;
  readonly stats: HandlerStats;
  /** Set once the update machinery is ready; until then UPDATE gets NOTIMP. */
  onUpdate: UpdateHandler | null;
  /** Keys signed queries are checked against; until set, none (a signed query gets BADKEY). */
  tsig: TsigSettings;
  /** DNS Cookies' secrets (HandlerOptions.cookies at first; a reload may replace them); null: off. */
  cookies: CookieSecrets | null;
  /** AXFR and IXFR go here once set (6-serve/transfer.ts); until then resolve() REFUSES them. */
  onTransfer?: TransferHandler | null;
  /** NOTIFY requests go here once set (secondary zones, 6-serve/notify.ts answerNotify); until then NOTIMP. */
  onNotify?: ((msg: Buffer, via: Transport) => Buffer | null) | null;
}

/** The policy context of one query; the client (and its geo lookup) is made only if a pool asks. */
class QueryContext implements PolicyContext {
  /** Its address is read only for the client: a batched datagram's is made text when read. */
  readonly #via: Transport;
  readonly #ecs: ClientSubnet | null;
  readonly #geo: GeoDatabase | null;
  #client: Client | undefined;
  readonly random: () => number;
  readonly #clock: () => number;
  /** The query's time, ms: the clock is read at most once per query (NaN until then). */
  #now: number;

  /** `now`: the clock as already read for this query (the signed answer cache's key), or NaN. */
  constructor(via: Transport, ecs: ClientSubnet | null, gi: GslbInputs, now: number) {
    this.#via = via;
    this.#ecs = ecs;
    this.#geo = gi.geo;
    this.random = gi.random;
    this.#clock = gi.now;
    this.#now = now;
  }

  /** The query's time: a pool, the signer and the signed cache key all see one reading. */
  now(): number {
    const now = this.#now;
    return now === now ? now : (this.#now = this.#clock());
  }

  get client(): Client {
    return (this.#client ??= makeClient(this.#via.address, this.#ecs, this.#geo));
  }
}

/** What parseQuery returns for a message that gets an answer. */
type Answerable = Exclude<Parsed, { kind: 'drop' }>;

/** What a query handler answers from, and where it reports. Only `zones` is required. */
export interface HandlerOptions {
  /** The zones in service. */
  readonly zones: ZoneSource<PooledZone>;
  /** An unexpected error while answering (the query got SERVFAIL); default: ignored. */
  readonly onError?: (err: unknown) => void;
  /** Health, geo, clock and randomness, read once per query; default: every target up, no geo. */
  readonly inputs?: () => GslbInputs;
  /** Queries by zone, type and rcode, and pool answers by target; default: not counted. */
  readonly counters?: QueryCounters | null;
  /** The sampled query log; default: none. */
  readonly queryLog?: QueryLog | null;
  /** Encoded answers to questions no pool decides; default: no cache. */
  readonly cache?: AnswerCache | null;
  /** Response rate limiting of UDP answers (`rrl:`); default: none. */
  readonly rrl?: ResponseLimiter | null;
  /** DNS Cookies (`cookies:`): server cookies made and checked with these; default: COOKIE options ignored. */
  readonly cookies?: CookieSecrets | null;
  /**
   * DNSSEC (`dnssec:`): the signed zones' DNSKEY at their apex, and answers to DO=1 queries in them
   * signed (5-answer/sign.ts), cached apart from unsigned ones. Default: none.
   */
  readonly signer?: Signer | null;
}

/**
 * The query handler: `handleMessage` takes one message and routes it (UPDATE, signed, plain);
 * `answerQuery` answers a parsed query from the cache or by resolving it; `answerSigned` verifies
 * a TSIG-signed one first and signs its answer.
 */
export function createHandler(opts: HandlerOptions): Handler {
  const {
    zones,
    onError = () => {},
    inputs = () => defaultInputs,
    counters = null,
    queryLog = null,
    cache = null,
    rrl = null,
    signer = null,
  } = opts;
  const stats: HandlerStats = { queries: 0, dropped: 0, errors: 0 };
  // The COOKIE verdict of the message being answered (null: none, or cookies off), and the option
  // data answered with. One message is answered at a time, synchronously: no object per query.
  let cookieVerdict: CookieVerdict | null = null;
  const replyCookie = Buffer.alloc(REPLY_COOKIE_SIZE);
  /**
   * RFC 7873 §5.2.3 - §5.2.5: judges the query's COOKIE option (when cookies are on) and fills
   * replyCookie; returns it to put in the answer, or null.
   */
  function takeCookie(msg: Buffer, edns: Edns, via: Transport): Buffer | null {
    const cookies = self.cookies;
    if (!cookies) return null;
    const client = addressRdata(via.address);
    if (!client) return null;
    const now = Math.floor(inputs().now() / 1000);
    cookieVerdict = cookies.check(msg, edns.cookieAt!, edns.cookieLength!, client, now, replyCookie);
    counters?.cookie(cookieVerdict);
    return replyCookie;
  }
  // Every N-th rather than at random: as representative at DNS query rates, and no random() per query.
  let unlogged = 0;
  const logQuery = (qname: NameKey, qtype: number, rcode: number, via: Transport): void => {
    if (!queryLog || ++unlogged < queryLog.sample) return;
    unlogged = 0;
    queryLog.write({
      qname: nameToText(qname),
      qtype: typeName(qtype),
      client: via.address,
      rcode: rcodeName(rcode),
      transport: via.tcp ? 'tcp' : 'udp',
    });
  };
  const onPool = counters
    ? (pool: Pool, d: PoolAnswer) => counters.pool(pool.def.name, d.targets, d.pick, d.fallback)
    : undefined;
  /**
   * The answer to a parsed message, `tsigRoom` octets short of the size limit so its TSIG fits;
   * signed answers (tsigRoom > 0) neither come from nor go into the answer cache, whose bodies are
   * sized for unsigned answers.
   */
  function answerQuery(msg: Buffer, parsed: Answerable, via: Transport, tsigRoom: number): Buffer {
    if (parsed.kind === 'error') {
      if (parsed.rcode === Rcode.FORMERR && self.cookies && parsed.reason.startsWith('COOKIE'))
        counters?.cookie('malformed');
      // RFC 7873 §5.4: a query with no question and a COOKIE asks for a server cookie.
      const cookie = parsed.edns?.cookieAt && msg.readUInt16BE(4) === 0 ? takeCookie(msg, parsed.edns, via) : null;
      if (cookie && (parsed.flags & 0x7800) === 0) {
        const rcode = cookieVerdict === 'invalid' && !via.tcp ? Rcode.BADCOOKIE : Rcode.NOERROR;
        counters?.query(undefined, 0, rcode, via.tcp);
        return encodeError(msg, parsed.id, parsed.flags, rcode, 12, parsed.edns, cookie);
      }
      counters?.query(undefined, 0, parsed.rcode, via.tcp);
      return encodeError(msg, parsed.id, parsed.flags, parsed.rcode, parsed.questionEnd, parsed.edns);
    }
    const q = parsed.query;
    const cookie = q.edns?.cookieAt ? takeCookie(msg, q.edns, via) : null;
    // RFC 7873 §5.2.4: a server cookie that is not ours (another secret, too old) over UDP gets
    // BADCOOKIE with a fresh one, which the client sends again; over TCP the answer is given.
    if (cookieVerdict === 'invalid' && !via.tcp) {
      counters?.cookie('badcookie');
      counters?.query(undefined, q.qtype, Rcode.BADCOOKIE, via.tcp);
      return encodeError(msg, q.id, q.flags, Rcode.BADCOOKIE, q.questionEnd, q.edns, cookie);
    }
    // Zones are class IN; other classes (CH "version.bind" included) are not ours to answer.
    // QCLASS ANY matches every class (RFC 1035 §3.2.5), IN among them: answered as IN.
    if (q.qclass !== Class.IN && q.qclass !== Class.ANY) {
      counters?.query(undefined, q.qtype, Rcode.REFUSED, via.tcp);
      logQuery(q.qname, q.qtype, Rcode.REFUSED, via);
      return encodeError(msg, q.id, q.flags, Rcode.REFUSED, q.questionEnd, q.edns, cookie);
    }
    // RFC 6891 §6.2.5: the smaller of the requestor's size and ours; 512 without EDNS.
    const limit =
      (via.tcp ? 65535 : q.edns ? Math.min(q.edns.payload, UDP_PAYLOAD_MAX) : UDP_PAYLOAD_CLASSIC) - tsigRoom;
    // Signed when the zone that answers is signed (so the name is in it: no covers() per query).
    const signing = signer !== null && q.edns?.dnssecOk === true;
    // A signed answer is cached under a key of its own, with the signatures' window (a new window
    // signs anew) and the CO flag: a query without DO never gets it, nor one with DO an unsigned one.
    const compact = signing && q.edns!.compactOk === true;
    let key: string | undefined;
    /** The clock as read for this query so far (NaN: not yet); QueryContext reads it at most once. */
    let now = NaN;
    if (cache && tsigRoom === 0 && zones.version !== undefined && cache.serves(zones.version, q.qname)) {
      key = AnswerCache.key(q.qname, q.qtype, q.qclass, roomFor(q, limit, cookie));
      if (signing && signer.covers(q.qname)) key += `/do${signer.window((now = inputs().now()))}${compact ? 'co' : ''}`;
      const hit = cache.get(key);
      counters?.cacheLookup(hit !== undefined);
      if (hit) {
        counters?.query(hit.zone, q.qtype, hit.rcode, via.tcp);
        logQuery(q.qname, q.qtype, hit.rcode, via);
        return reuseBody(q, hit.body, hit.rcode >> 4, cookie, hit.compact === true);
      }
    }
    const gi = inputs();
    const ctx = new QueryContext(via, q.edns?.ecs ?? null, gi, now);
    let answer = resolve(zones, { qname: q.qname, qtype: q.qtype, gslb: { ctx, health: gi.health }, onPool });
    const zone =
      signer !== null && answer.zone !== undefined && signer.signs(answer.zone) ? zones.get(answer.zone) : undefined;
    // The apex's DNSKEY, CDS and CDNSKEY change with a rollover's times, which empty no cache.
    let keyed = false;
    if (zone) {
      keyed = q.qname === zone.origin && signer!.isKeyType(q.qtype);
      // The clock only when it is needed: none for a query without DO in a signed zone (a pool answer),
      // and for a pool's answer the time it was picked at (one reading per query).
      const at = keyed || signing ? ctx.now() : 0;
      if (keyed) answer = signer!.withKeys(zone, q.qname, q.qtype, answer, at);
      if (signing) answer = signer!.sign(zone, q.qname, q.qtype, answer, at, compact);
    }
    counters?.query(answer.zone, q.qtype, answer.rcode, via.tcp);
    logQuery(q.qname, q.qtype, answer.rcode, via);
    const out = encodeAnswer(q, answer, limit, cookie);
    if (key !== undefined) {
      if (answer.dynamic) cache!.markDynamic(q.qname);
      else if (!keyed)
        cache!.set(key, {
          body: bodyOf(q, out, cookie),
          zone: answer.zone,
          rcode: answer.rcode,
          ...(answer.compact && { compact: true }),
        });
    }
    return out;
  }
  /**
   * RFC 8945 §5.2: a signed request is verified before anything else is done with it. A request
   * that fails gets only the error (NOTAUTH with BADKEY, BADSIG or BADTIME; FORMERR for a TSIG RR
   * out of place); one that verifies gets its answer signed with the same key (§5.3).
   */
  function answerSigned(msg: Buffer, parsed: Answerable, via: Transport): Buffer {
    const now = inputs().now();
    const verdict = verifyRequest(msg, self.tsig.keys, now, self.tsig.maxFudge);
    if (verdict.kind === 'error') {
      const p = parsed.kind === 'error' ? parsed : parsed.query;
      counters?.query(undefined, parsed.kind === 'error' ? 0 : parsed.query.qtype, verdict.rcode, via.tcp);
      return tsigAnswer(encodeError(msg, p.id, p.flags, verdict.rcode, p.questionEnd, p.edns), verdict, now);
    }
    return tsigAnswer(answerQuery(msg, parsed, via, verdict.kind === 'ok' ? tsigSize(verdict.key) : 0), verdict, now);
  }
  /**
   * `out`, the answer to a UDP query from `address`, through the rate limiter: sent, dropped
   * (null), or slipped: a bare TC=1 reply, header and question only, whatever the query carried
   * (a limited answer must not be worth forging a source for: no OPT, no cookie). A real client
   * asks again over TCP, which is never limited and gives it a server cookie; a valid server cookie
   * proves the address is not forged, so with it the client is never limited over UDP either.
   */
  function limit(parsed: Answerable, out: Buffer, address: string): Buffer | null {
    const cls = classOf(out);
    const action = cookieVerdict === 'valid' ? RrlAction.EXEMPT : rrl!.decide(address, cls);
    counters?.rrlAction(cls, action);
    if (action === RrlAction.DROPPED) return null;
    if (action !== RrlAction.SLIPPED) return out;
    return truncatedReply(out, (parsed.kind === 'error' ? parsed : parsed.query).questionEnd);
  }
  function handleMessage(msg: Buffer, via: Transport): Buffer | null | Promise<Buffer | null> | MessageStream {
    stats.queries++;
    // UPDATE (opcode 5) with QR clear: only the opcode is looked at here; update/ parses the rest.
    if (msg.length >= 12 && (msg[2]! & 0xf8) === 0x28 && self.onUpdate) {
      return self.onUpdate(msg, via).catch((err: unknown) => {
        stats.errors++;
        onError(err);
        return encodeError(msg, msg.readUInt16BE(0), msg.readUInt16BE(2), Rcode.SERVFAIL, 12, null);
      });
    }
    // NOTIFY (opcode 4) with QR clear, once some zone here is a secondary.
    if (msg.length >= 12 && (msg[2]! & 0xf8) === 0x20 && self.onNotify) {
      try {
        return self.onNotify(msg, via);
      } catch (err) {
        stats.errors++;
        onError(err);
        return null;
      }
    }
    try {
      const parsed = parseQuery(msg);
      if (parsed.kind === 'drop') {
        stats.dropped++;
        return null;
      }
      cookieVerdict = null;
      // Zone transfers take their own path (ACL, TSIG, many messages); one comparison for the rest.
      if (parsed.kind === 'query' && self.onTransfer && isTransferType(parsed.query.qtype)) {
        const t = self.onTransfer(msg, parsed.query, via);
        // Over UDP it is one message (REFUSED, or IXFR's SOA): limited like any other answer.
        return rrl === null || via.tcp || !Buffer.isBuffer(t) ? t : limit(parsed, t, via.address);
      }
      // Only a message with a TSIG RR (parseQuery saw one in the additional section) pays for this.
      const out = (parsed.kind === 'error' ? parsed.signed : parsed.query.signed)
        ? answerSigned(msg, parsed, via)
        : answerQuery(msg, parsed, via, 0);
      // RRL limits UDP only: TCP proves the source address, and is where a slipped client goes.
      return rrl === null || via.tcp ? out : limit(parsed, out, via.address);
    } catch (err) {
      stats.errors++;
      onError(err);
      if (msg.length < 12) return null;
      return encodeError(msg, msg.readUInt16BE(0), msg.readUInt16BE(2), Rcode.SERVFAIL, 12, null);
    }
  }
  const self: Handler = Object.assign(handleMessage, {
    stats,
    onUpdate: null as UpdateHandler | null,
    tsig: { keys: [], maxFudge: FUDGE },
    cookies: opts.cookies ?? null,
    onTransfer: null as TransferHandler | null,
    onNotify: null,
  });
  return self;
}
