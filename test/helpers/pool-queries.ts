// Pool answers over raw UDP, for the end-to-end GSLB tests that need thousands of answers (dig per
// query is far too slow): the ECS option (RFC 7871 §6) to send, a reader for the parts of a reply
// those tests look at (addresses, TTLs, rcode, the ECS option echoed), and a socket that keeps a
// bounded number of queries in flight.

import dgram from 'node:dgram';
import net from 'node:net';
import path from 'node:path';
import { EdnsOption, Type } from '../../src/0-base/constants.ts';
import { skipName, type ClientSubnet } from '../../src/1-codec/query.ts';
import { ROOT } from './gslbd.ts';
import { buildQuery } from './raw.ts';

/** The zone directory of the end-to-end GSLB tests: gslb.example.net and its pools. */
export const GSLB_FIXTURE = path.join(ROOT, 'test/fixtures/gslb');

/** `subnet` ("198.51.100.0/24", "2001:db8::/56") as the query parser gives it: address cut to its prefix. */
export function clientSubnet(subnet: string): ClientSubnet {
  const [address, prefixText] = subnet.split('/') as [string, string];
  const sourcePrefix = Number(prefixText);
  const v4 = net.isIPv4(address);
  const bytes = v4 ? Buffer.from(address.split('.').map(Number)) : ipv6Bytes(address);
  for (let i = 0; i < bytes.length; i++)
    bytes[i]! &= (0xff00 >>> Math.max(0, Math.min(8, sourcePrefix - 8 * i))) & 0xff;
  return { family: v4 ? 1 : 2, sourcePrefix, address: bytes };
}

/** The ECS option (RFC 7871 §6) for `subnet`: as many address octets as the prefix needs. */
export function ecsOption(subnet: string): Buffer {
  const { family, sourcePrefix, address } = clientSubnet(subnet);
  const bytes = Math.ceil(sourcePrefix / 8);
  const opt = Buffer.alloc(8 + bytes);
  opt.writeUInt16BE(EdnsOption.ECS, 0);
  opt.writeUInt16BE(4 + bytes, 2);
  opt.writeUInt16BE(family, 4);
  opt[6] = sourcePrefix;
  address.copy(opt, 8, 0, bytes);
  return opt;
}

function ipv6Bytes(address: string): Buffer {
  const sock = new net.SocketAddress({ address, family: 'ipv6' });
  const [head, tail] = sock.address.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i));
  return out;
}

/** An A/AAAA query for `name`, with EDNS and, when `subnet` is given, an ECS option. */
export function poolQuery(name: string, qtype: number = Type.A, subnet?: string, id = 0): Buffer {
  return buildQuery(name, qtype, { id, edns: { options: subnet ? ecsOption(subnet) : Buffer.alloc(0) } });
}

export interface Ecs {
  readonly family: number;
  readonly sourcePrefix: number;
  readonly scopePrefix: number;
  /** The address octets as sent (source prefix bits only), hex. */
  readonly address: string;
}

export interface RecordData {
  readonly type: number;
  readonly ttl: number;
  /** A: dotted quad; AAAA: compressed IPv6 text; other types: RDATA hex. */
  readonly data: string;
}

export interface Reply {
  readonly rcode: number;
  readonly aa: boolean;
  readonly answer: RecordData[];
  readonly authority: RecordData[];
  /** The ECS option of the OPT record, if the reply has one. */
  readonly ecs: Ecs | null;
  /** True when the reply carries an OPT record. */
  readonly edns: boolean;
}

/** The parts of a reply the GSLB tests check. Throws on a message it cannot walk. */
export function readReply(msg: Buffer): Reply {
  const flags = msg.readUInt16BE(2);
  const counts = [msg.readUInt16BE(4), msg.readUInt16BE(6), msg.readUInt16BE(8), msg.readUInt16BE(10)] as const;
  let off = 12;
  for (let i = 0; i < counts[0]; i++) off = skipName(msg, off) + 4;
  const sections: RecordData[][] = [[], [], []];
  let ecs: Ecs | null = null;
  let edns = false;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      off = skipName(msg, off);
      const type = msg.readUInt16BE(off);
      const ttl = msg.readUInt32BE(off + 4);
      const rdlen = msg.readUInt16BE(off + 8);
      const rdata = msg.subarray(off + 10, off + 10 + rdlen);
      off += 10 + rdlen;
      if (type === Type.OPT) {
        edns = true;
        ecs = ecsIn(rdata);
        continue;
      }
      sections[s]!.push({ type, ttl, data: rdataText(type, rdata) });
    }
  }
  if (off !== msg.length) throw new Error(`${msg.length - off} octets after the last record`);
  return { rcode: flags & 0xf, aa: (flags & 0x0400) !== 0, answer: sections[0]!, authority: sections[1]!, ecs, edns };
}

function rdataText(type: number, rdata: Buffer): string {
  if (type === Type.A) return [...rdata].join('.');
  if (type === Type.AAAA) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(rdata.readUInt16BE(i).toString(16));
    return new net.SocketAddress({ address: groups.join(':'), family: 'ipv6' }).address;
  }
  return rdata.toString('hex');
}

function ecsIn(opt: Buffer): Ecs | null {
  for (let p = 0; p + 4 <= opt.length; p += 4 + opt.readUInt16BE(p + 2)) {
    if (opt.readUInt16BE(p) !== EdnsOption.ECS) continue;
    const len = opt.readUInt16BE(p + 2);
    return {
      family: opt.readUInt16BE(p + 4),
      sourcePrefix: opt[p + 6]!,
      scopePrefix: opt[p + 7]!,
      address: opt.subarray(p + 8, p + 4 + len).toString('hex'),
    };
  }
  return null;
}

/**
 * One UDP socket to a server, matching replies to queries by ID. A query without a reply within
 * `timeoutMs` is sent again (loopback should not lose any; `retries` counts those that did).
 */
export class UdpClient {
  readonly #sock = dgram.createSocket('udp4');
  readonly #pending = new Map<number, { timer: NodeJS.Timeout; resolve: (b: Buffer) => void }>();
  readonly #port: number;
  readonly #timeoutMs: number;
  #nextId = 1;
  retries = 0;

  constructor(port: number, timeoutMs = 2000) {
    this.#port = port;
    this.#timeoutMs = timeoutMs;
    this.#sock.on('message', (reply) => {
      const p = this.#pending.get(reply.readUInt16BE(0));
      if (!p) return;
      clearTimeout(p.timer);
      this.#pending.delete(reply.readUInt16BE(0));
      p.resolve(reply);
    });
  }

  /** Sends `query` (its ID is replaced) and resolves with the reply. */
  query(query: Buffer): Promise<Buffer> {
    let id = this.#nextId;
    while (this.#pending.has(id)) id = (id % 0xffff) + 1;
    this.#nextId = (id % 0xffff) + 1;
    const msg = Buffer.from(query);
    msg.writeUInt16BE(id, 0);
    return new Promise((resolve, reject) => {
      const send = (tries: number) => {
        const timer = setTimeout(() => {
          if (tries >= 3) {
            this.#pending.delete(id);
            reject(new Error(`no reply after ${tries} tries`));
            return;
          }
          this.retries++;
          send(tries + 1);
        }, this.#timeoutMs);
        this.#pending.set(id, { timer, resolve });
        this.#sock.send(msg, this.#port, '127.0.0.1');
      };
      send(1);
    });
  }

  /** `make(i)` for i in 0..n-1, at most `concurrency` in flight; replies in order of i. */
  async queryAll(n: number, make: (i: number) => Buffer, concurrency = 32): Promise<Reply[]> {
    const out: Reply[] = new Array(n);
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        out[i] = readReply(await this.query(make(i)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    return out;
  }

  close(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#sock.close();
  }
}

/** The first address of each reply (the one most clients use). */
export const leaders = (replies: readonly Reply[]): string[] => replies.map((r) => r.answer[0]?.data ?? '');

/** How often each of `keys` occurs in `values`, in the order of `keys`; throws on any other value. */
export function countOf(values: readonly string[], keys: readonly string[]): number[] {
  const counts = new Map(keys.map((k) => [k, 0]));
  for (const v of values) {
    const c = counts.get(v);
    if (c === undefined) throw new Error(`unexpected answer ${JSON.stringify(v)} (expected one of ${keys.join(', ')})`);
    counts.set(v, c + 1);
  }
  return keys.map((k) => counts.get(k)!);
}
