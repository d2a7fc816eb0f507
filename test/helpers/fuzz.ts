// Packet generators and response properties for the fuzz tests (test/e2e/fuzz.test.ts).
//
// Every packet comes from one seeded PRNG, so a failure replays from the printed seed. Each
// generator returns its kind with the bytes, so a run can report what it sent and a failure
// names the kind of packet that caused it.

import { mulberry32 } from '../policy/helpers.ts';
import { decodeMessage, type Decoded } from './message.ts';
import { buildQuery } from './raw.ts';

export interface Fuzzed {
  readonly kind: string;
  readonly msg: Buffer;
}

/** Integer, choice and byte helpers over one seeded stream. */
export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  /** Uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }
  /** Uniform in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.#next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

const OPT = 41;
const ECS = 8;

/** An ECS option (RFC 7871 §6) with whatever fields it is given, consistent or not. */
export function ecsOption(
  family: number,
  source: number,
  scope: number,
  address: Buffer,
  length = 4 + address.length,
): Buffer {
  const o = Buffer.alloc(8 + address.length);
  o.writeUInt16BE(ECS, 0);
  o.writeUInt16BE(length, 2);
  o.writeUInt16BE(family, 4);
  o[6] = source;
  o[7] = scope;
  address.copy(o, 8);
  return o;
}

/** An OPT RR: root owner, `payload`, EDNS version, options; `rdlen` may lie about their length. */
function optRecord(
  options: Buffer,
  payload = 1232,
  version = 0,
  rdlen = options.length,
  owner: Buffer = Buffer.from([0]),
): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(OPT, 0);
  fixed.writeUInt16BE(payload, 2);
  fixed[5] = version;
  fixed.writeUInt16BE(rdlen & 0xffff, 8);
  return Buffer.concat([owner, fixed, options]);
}

const wireName = (text: string): Buffer =>
  Buffer.concat([
    ...text
      .split('.')
      .filter(Boolean)
      .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
    Buffer.from([0]),
  ]);

/** An RR: owner, TYPE, CLASS, TTL, RDATA. */
function rr(owner: string, type: number, klass: number, ttl: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(klass, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([wireName(owner), fixed, rdata]);
}

/** A TSIG RR (RFC 8945 §4.2) with a MAC that cannot verify: enough to reach the TSIG parser. */
function tsig(id: number): Buffer {
  const fixed = Buffer.alloc(16);
  fixed.writeUIntBE(Math.floor(Date.now() / 1000), 0, 6);
  fixed.writeUInt16BE(300, 6);
  fixed.writeUInt16BE(32, 8);
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(id, 0);
  return rr(
    'fuzz-key',
    250,
    255,
    0,
    Buffer.concat([wireName('hmac-sha256'), fixed.subarray(0, 10), Buffer.alloc(32, 0xab), tail]),
  );
}

/** RFC 2136 §2 UPDATE: zone section, one prerequisite, updates (add, delete an RRset), maybe TSIG. */
function update(signed: boolean): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(0x4242, 0);
  header.writeUInt16BE(0x2800, 2); // opcode 5
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(1, 6);
  header.writeUInt16BE(2, 8);
  header.writeUInt16BE(signed ? 1 : 0, 10);
  return Buffer.concat([
    header,
    wireName('gslb.example.com'),
    Buffer.from([0, 6, 0, 1]),
    rr('gslb.example.com', 6, 255, 0, Buffer.alloc(0)), // the zone's SOA exists (§2.4.1)
    rr('fuzz.gslb.example.com', 1, 1, 60, Buffer.from([192, 0, 2, 99])),
    rr('old.gslb.example.com', 255, 255, 0, Buffer.alloc(0)), // delete all RRsets of a name (§2.5.3)
    ...(signed ? [tsig(0x4242)] : []),
  ]);
}

/** A query with a TSIG RR in its additional section (RFC 8945 §5.1). */
function signedQuery(): Buffer {
  const q = buildQuery('www.example.com', 1, { id: 0x5151 });
  q.writeUInt16BE(1, 10);
  return Buffer.concat([q, tsig(0x5151)]);
}

/**
 * Valid messages the mutators start from: static answers, pools, EDNS, ECS, case and types;
 * UPDATE messages and TSIG, which must fail cleanly without a key.
 */
export const SEEDS: readonly Buffer[] = [
  update(false),
  update(true),
  signedQuery(),
  buildQuery('www.example.com', 1),
  buildQuery('WwW.ExAmPlE.CoM', 28, { flags: 0x0100 }),
  buildQuery('example.com', 15, { edns: {} }),
  buildQuery('example.com', 255, { edns: { do: true } }),
  buildQuery('nothing.example.com', 1, { edns: { payload: 4096 } }),
  buildQuery('alias.example.com', 1),
  buildQuery('x.wild.example.com', 1, { edns: { payload: 512 } }),
  buildQuery('_sip._tcp.example.com', 33, { edns: {} }),
  buildQuery('mail.example.com', 16),
  buildQuery('www.sub.example.com', 1),
  buildQuery('sub.example.com', 43, { edns: {} }),
  buildQuery('b.c.example.com', 16),
  buildQuery('www.gslb.example.com', 1, { edns: { options: ecsOption(1, 24, 0, Buffer.from([198, 51, 100])) } }),
  buildQuery('near.gslb.example.com', 1, {
    edns: { options: ecsOption(2, 48, 0, Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0, 1])) },
  }),
  buildQuery('rr.gslb.example.com', 1, { edns: { options: ecsOption(1, 0, 0, Buffer.alloc(0)) } }),
  buildQuery('api.gslb.example.com', 28),
  buildQuery('sticky.gslb.example.com', 1, { edns: { options: ecsOption(1, 32, 0, Buffer.from([203, 0, 113, 7])) } }),
  buildQuery('regional.gslb.example.com', 1),
  buildQuery('1.2.0.192.in-addr.arpa', 12),
  buildQuery('example.org', 1),
];

/** End of the (uncompressed) question name that starts at 12 in a SEEDS message. */
function qnameEnd(msg: Buffer): number {
  let off = 12;
  while (off < msg.length && msg[off] !== 0) off += msg[off]! + 1;
  return off + 1;
}

/** A name of exactly `total` wire octets (labels of up to 63), for the 255-octet limit. */
function nameOfLength(rng: Rng, total: number): Buffer {
  const parts: Buffer[] = [];
  let left = total - 1;
  while (left > 0) {
    const len = Math.min(63, left - 1) || 1;
    const label = Buffer.alloc(len + 1, 0x61 + rng.int(26));
    label[0] = len;
    parts.push(label);
    left -= len + 1;
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function withArcount(msg: Buffer, n: number): Buffer {
  const out = Buffer.from(msg);
  out.writeUInt16BE(n & 0xffff, 10);
  return out;
}

/** The seed's message up to the end of its question (no OPT). */
function questionOnly(msg: Buffer): Buffer {
  const out = Buffer.from(msg.subarray(0, qnameEnd(msg) + 4));
  out.writeUInt32BE(0, 6);
  out.writeUInt16BE(0, 10);
  return out;
}

type Mutator = (rng: Rng, msg: Buffer) => Buffer;

const MUTATORS: Readonly<Record<string, Mutator>> = {
  'bit-flip': (rng, msg) => {
    const out = Buffer.from(msg);
    for (let n = rng.range(1, 8); n > 0; n--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  'byte-replace': (rng, msg) => {
    const out = Buffer.from(msg);
    for (let n = rng.range(1, 8); n > 0; n--) out[rng.int(out.length)] = rng.int(256);
    return out;
  },
  truncate: (rng, msg) => msg.subarray(0, rng.int(msg.length)),
  extend: (rng, msg) => Buffer.concat([msg, rng.bytes(rng.range(1, 300))]),
  counts: (rng, msg) => {
    if (msg.length < 12) return msg;
    const out = Buffer.from(msg);
    const values = [0, 1, 2, 3, 0x7fff, 0xffff, rng.int(0x10000)];
    for (let field = 4; field <= 10; field += 2) if (rng.chance(0.5)) out.writeUInt16BE(rng.pick(values), field);
    return out;
  },
  'question-pointer': (rng, msg) => {
    // RFC 1035 §4.1.4 pointers are meaningless in a question: nothing precedes it to point at.
    const rest = msg.subarray(qnameEnd(msg));
    const target = rng.pick([12, 12, rng.int(msg.length + 8), 0x3fff]);
    const prefix = rng.chance(0.5) ? Buffer.from([3, 0x77, 0x77, 0x77]) : Buffer.alloc(0);
    return Buffer.concat([msg.subarray(0, 12), prefix, Buffer.from([0xc0 | (target >> 8), target & 0xff]), rest]);
  },
  'pointer-loop': (rng, msg) => {
    // An additional record whose owner points at itself, or two owners pointing at each other.
    const base = questionOnly(msg);
    const at = base.length;
    const fixed = Buffer.from([0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    const self = Buffer.from([0xc0 | (at >> 8), at & 0xff]);
    if (rng.chance(0.5)) return Buffer.concat([withArcount(base, 1), self, fixed]);
    const second = at + 12;
    const a = Buffer.from([0xc0 | (second >> 8), second & 0xff]);
    return Buffer.concat([withArcount(base, 2), a, fixed, self, fixed]);
  },
  'long-label': (rng, msg) => {
    const out = Buffer.from(msg);
    const starts: number[] = [];
    for (let off = 12; off < out.length && out[off] !== 0; off += out[off]! + 1) starts.push(off);
    // 64..255: the reserved 01 and 10 label types (RFC 6891 §5) and pointers (11).
    out[starts.length ? rng.pick(starts) : 12] = rng.range(64, 255);
    return out;
  },
  'long-name': (rng, msg) => {
    const total = rng.pick([254, 255, 256, 257, rng.range(200, 600)]);
    return Buffer.concat([msg.subarray(0, 12), nameOfLength(rng, total), msg.subarray(qnameEnd(msg))]);
  },
  'bad-opt': (rng, msg) => {
    const base = questionOnly(msg);
    const options = rng.chance(0.5) ? ecsOption(1, 24, 0, Buffer.from([192, 0, 2])) : rng.bytes(rng.int(20));
    const opt = rng.pick([
      () => optRecord(options, 1232, 0, options.length + rng.range(1, 400)),
      () => optRecord(options, 1232, 0, Math.max(0, options.length - rng.range(1, 6))),
      () => optRecord(Buffer.from([0, 8, 0xff, 0xff, 0, 1]), rng.int(0x10000)),
      () => optRecord(Buffer.from([0, 3]), 1232),
      () => optRecord(options, 1232, rng.range(1, 255)),
      () => optRecord(options, 1232, 0, options.length, Buffer.from([3, 0x63, 0x6f, 0x6d, 0])),
      () => optRecord(options, 1232, 0, options.length, Buffer.from([0xc0, 12])),
      () => optRecord(options).subarray(0, rng.range(1, 10 + options.length)),
    ])();
    return Buffer.concat([withArcount(base, 1), opt]);
  },
  'many-opts': (rng, msg) => {
    const n = rng.range(2, 40);
    const opts = Array.from({ length: n }, () =>
      optRecord(rng.chance(0.3) ? ecsOption(1, 8, 0, Buffer.from([10])) : Buffer.alloc(0), rng.int(0x10000)),
    );
    return Buffer.concat([withArcount(questionOnly(msg), n), ...opts]);
  },
  'bad-ecs': (rng, msg) => {
    const family = rng.pick([0, 1, 2, 3, 0xffff]);
    const source = rng.pick([0, 8, 24, 32, 33, 56, 128, 129, 255]);
    const scope = rng.pick([0, 0, 1, 24, 255]);
    const address = rng.bytes(rng.pick([0, 1, 3, 4, 5, 16, 17, rng.int(40)]));
    const length = rng.chance(0.7) ? 4 + address.length : rng.int(0x10000);
    let options = ecsOption(family, source, scope, address, length);
    if (rng.chance(0.2)) options = Buffer.concat([options, ecsOption(1, 24, 0, Buffer.from([192, 0, 2]))]);
    return Buffer.concat([
      withArcount(questionOnly(msg), 1),
      optRecord(options, rng.pick([0, 512, 1232, 4096, 65535])),
    ]);
  },
  flags: (rng, msg) => {
    if (msg.length < 12) return msg;
    const out = Buffer.from(msg);
    let flags = rng.int(0x10000);
    if (rng.chance(0.8)) flags &= 0x7fff; // mostly queries: QR=1 is only ever dropped
    out.writeUInt16BE(flags, 2);
    return out;
  },
};

const MUTATOR_NAMES = Object.keys(MUTATORS);
/** Mutators that work on any bytes, so they can follow another one (the others need a seed's layout). */
const STACKABLE = ['bit-flip', 'byte-replace', 'truncate', 'extend', 'counts', 'flags'];

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789-_*';
const SUFFIXES = [
  'example.com',
  'gslb.example.com',
  'wild.example.com',
  'cdn.example.com',
  'sub.example.com',
  '2.0.192.in-addr.arpa',
  'c.example.com',
  'example.net',
  '',
];
const HOSTS = [
  'www',
  'mail',
  'alias',
  'web',
  'app',
  'ns1',
  'ns2',
  'sip',
  'opaque',
  'a.b',
  'b',
  'rr',
  'near',
  'regional',
  'primary',
  'sticky',
  'api',
  '@',
];
const TYPES = [1, 2, 5, 6, 12, 15, 16, 28, 33, 35, 39, 41, 43, 44, 46, 52, 64, 65, 250, 251, 252, 255, 257, 65534];

/** A well-formed query for a random name, type, class and EDNS: exercises the answer path. */
function structured(rng: Rng): Buffer {
  const suffix = rng.pick(SUFFIXES);
  let host = rng.pick(HOSTS);
  if (host === '@') host = '';
  if (rng.chance(0.3))
    host =
      Array.from({ length: rng.range(1, 12) }, () => ALPHABET[rng.int(ALPHABET.length)]).join('') +
      (host ? `.${host}` : '');
  let name = [host, suffix].filter(Boolean).join('.');
  if (rng.chance(0.2)) name = name.replace(/[a-z]/g, (c) => (rng.chance(0.5) ? c.toUpperCase() : c));
  const qtype = rng.chance(0.85) ? rng.pick(TYPES) : rng.int(0x10000);
  const msg = buildQuery(name || '.', qtype, {
    id: rng.int(0x10000),
    flags: rng.pick([0, 0x0100, 0x0010, 0x0020]),
    ...(rng.chance(0.6) && {
      edns: {
        payload: rng.pick([0, 1, 512, 1220, 1232, 1500, 4096, 65535]),
        do: rng.chance(0.3),
        ...(rng.chance(0.4) && {
          options: ecsOption(1, 24, 0, Buffer.from([rng.int(224), rng.int(256), rng.int(256)])),
        }),
      },
    }),
  });
  if (rng.chance(0.1)) msg.writeUInt16BE(rng.pick([3, 4, 254, 255, rng.int(0x10000)]), qnameEnd(msg) + 2);
  return msg;
}

/** One fuzz packet: 20% pure random bytes, 20% structured queries, 60% mutated seeds. */
export function nextPacket(rng: Rng): Fuzzed {
  const r = rng.int(10);
  if (r < 2) return { kind: 'random', msg: rng.bytes(rng.int(601)) };
  if (r < 4) return { kind: 'structured', msg: structured(rng) };
  const names = [rng.pick(MUTATOR_NAMES)];
  let msg = MUTATORS[names[0]!]!(rng, rng.pick(SEEDS));
  for (let more = rng.chance(0.7) ? 0 : rng.range(1, 2); more > 0; more--) {
    const name = rng.pick(STACKABLE);
    names.push(name);
    msg = MUTATORS[name]!(rng, msg);
  }
  return { kind: names.join('+'), msg };
}

/** Seed for a run: FUZZ_SEED from the environment to replay one, else a fresh one. */
export function fuzzSeed(): number {
  const fromEnv = process.env.FUZZ_SEED;
  return fromEnv !== undefined ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
}

/**
 * The properties every response must have, whatever was sent: a full header, QR=1, the query's
 * ID, never SERVFAIL (gslbd answers it only when the query path threw), at most one question,
 * echoed byte for byte, sections that decode to exactly the message's end (decodeMessage), and on
 * UDP the size limit of RFC 1035 §4.2.1 (512) or RFC 6891 (our 1232 when it carries an OPT).
 * Throws with the reason.
 */
export function checkReply(query: Buffer, reply: Buffer, udp: boolean): Decoded {
  if (reply.length < 12) throw new Error(`reply of ${reply.length} bytes`);
  const r = decodeMessage(reply);
  if (!(r.flags & 0x8000)) throw new Error('reply has QR=0');
  if (query.length < 2 || r.id !== query.readUInt16BE(0)) throw new Error('reply ID differs from the query ID');
  if ((r.flags & 0xf) === 2) throw new Error('SERVFAIL: the query path threw');
  if (reply.readUInt16BE(4) > 1) throw new Error(`QDCOUNT ${reply.readUInt16BE(4)}`);
  if (r.question !== query.subarray(12, 12 + r.question.length / 2).toString('hex'))
    throw new Error('question not echoed byte for byte');
  if (udp && reply.length > (r.opt ? 1232 : 512))
    throw new Error(`UDP reply of ${reply.length} bytes (${r.opt ? 'with' : 'without'} OPT)`);
  return r;
}

/** True if `reply` is an authoritative NOERROR whose answer has an A record among `addresses`. */
export function answersA(reply: Buffer, addresses: readonly string[]): boolean {
  const r = decodeMessage(reply);
  if ((r.flags & 0x840f) !== 0x8400) return false;
  return r.answer.some((line) => {
    const [, , , type, data] = line.split(' ');
    return type === 'A' && addresses.includes(data!);
  });
}

/** One to three of the mutators that work on any bytes, applied to `msg` (a copy). */
export function mutateBytes(rng: Rng, msg: Buffer): Fuzzed {
  const names: string[] = [];
  let out = msg;
  for (let n = rng.range(1, 3); n > 0; n--) {
    const name = rng.pick(STACKABLE);
    names.push(name);
    out = MUTATORS[name]!(rng, out);
  }
  return { kind: names.join('+'), msg: out };
}
