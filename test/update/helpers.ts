// Hand-built RFC 2136 UPDATE messages for the update tests: records are written from zone-file
// text (RDATA encoded by the zone parser), names uncompressed, classes and TTLs as each kind of
// prerequisite or update needs them (RFC 2136 §2.4, §2.5).

import { randomBytes } from 'node:crypto';
import { Class, Type } from '../../src/0-base/constants.ts';
import { parseName } from '../../src/0-base/name.ts';
import { tsigKeyFromConfig, type TsigAlgorithm, type TsigKey } from '../../src/1-codec/tsig.ts';
import { parseZone } from '../../src/2-zone/parser.ts';

export interface WireRecord {
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  readonly rdata: Buffer;
}

/** Wire form of an absolute name (case kept). */
export const wireName = (name: string): Buffer => parseName(name.endsWith('.') ? name : `${name}.`, null);

/** One record from zone-file text with absolute names, e.g. `a.example. 300 IN A 192.0.2.1`. */
export async function record(text: string): Promise<WireRecord> {
  const r = await parseZone(`${text}\n`, 'test', parseName('.', null));
  if (r.errors.length || r.records.length !== 1)
    throw new Error(`bad test record "${text}": ${r.errors.map((e) => e.message).join('; ')}`);
  const rec = r.records[0]!;
  const owner = text.split(/\s+/)[0]!;
  return { name: owner, type: rec.type, klass: Class.IN, ttl: rec.ttl, rdata: rec.rdata };
}

const none = Buffer.alloc(0);

// RFC 2136 §2.5: the four kinds of update.
export const add = (text: string) => record(text);
export const deleteRRset = (name: string, type: number): WireRecord => ({
  name,
  type,
  klass: Class.ANY,
  ttl: 0,
  rdata: none,
});
export const deleteName = (name: string): WireRecord => ({
  name,
  type: Type.ANY,
  klass: Class.ANY,
  ttl: 0,
  rdata: none,
});
export async function deleteRR(text: string): Promise<WireRecord> {
  return { ...(await record(text)), klass: Class.NONE, ttl: 0 };
}

// RFC 2136 §2.4: the five kinds of prerequisite.
export const rrsetExists = (name: string, type: number): WireRecord => ({
  name,
  type,
  klass: Class.ANY,
  ttl: 0,
  rdata: none,
});
export async function rrsetEquals(text: string): Promise<WireRecord> {
  return { ...(await record(text)), ttl: 0 };
}
export const rrsetAbsent = (name: string, type: number): WireRecord => ({
  name,
  type,
  klass: Class.NONE,
  ttl: 0,
  rdata: none,
});
export const nameInUse = (name: string): WireRecord => ({
  name,
  type: Type.ANY,
  klass: Class.ANY,
  ttl: 0,
  rdata: none,
});
export const nameNotInUse = (name: string): WireRecord => ({
  name,
  type: Type.ANY,
  klass: Class.NONE,
  ttl: 0,
  rdata: none,
});

export function encodeRecord(r: WireRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(r.klass, 2);
  fixed.writeUInt32BE(r.ttl, 4);
  fixed.writeUInt16BE(r.rdata.length, 8);
  return Buffer.concat([wireName(r.name), fixed, r.rdata]);
}

export interface UpdateSpec {
  readonly id?: number;
  /** Zone section entries; default one: `zone` SOA IN. */
  readonly zones?: readonly { name: string; type?: number; klass?: number }[];
  readonly prereq?: readonly WireRecord[];
  readonly update?: readonly WireRecord[];
  readonly additional?: readonly Buffer[];
}

/** An unsigned UPDATE message for `zone`. */
export function updateMessage(zone: string, spec: UpdateSpec = {}): Buffer {
  const zones = spec.zones ?? [{ name: zone }];
  const header = Buffer.alloc(12);
  header.writeUInt16BE(spec.id ?? 0x4242, 0);
  header.writeUInt16BE(5 << 11, 2);
  header.writeUInt16BE(zones.length, 4);
  header.writeUInt16BE(spec.prereq?.length ?? 0, 6);
  header.writeUInt16BE(spec.update?.length ?? 0, 8);
  header.writeUInt16BE(spec.additional?.length ?? 0, 10);
  const zoneSection = zones.map((z) => {
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(z.type ?? Type.SOA, 0);
    tail.writeUInt16BE(z.klass ?? Class.IN, 2);
    return Buffer.concat([wireName(z.name), tail]);
  });
  return Buffer.concat([
    header,
    ...zoneSection,
    ...(spec.prereq ?? []).map(encodeRecord),
    ...(spec.update ?? []).map(encodeRecord),
    ...(spec.additional ?? []),
  ]);
}

/** A fresh random key (never a fixed secret in the repository). */
export function makeKey(
  name: string,
  algorithm: TsigAlgorithm = 'hmac-sha256',
  zones?: string[],
): TsigKey & { readonly base64: string } {
  const base64 = randomBytes(32).toString('base64');
  return { ...tsigKeyFromConfig({ name, algorithm, secret: base64, ...(zones && { zones }) }), base64 };
}

/** The header fields an UPDATE response is checked on. */
export function responseHeader(msg: Buffer) {
  const flags = msg.readUInt16BE(2);
  return {
    id: msg.readUInt16BE(0),
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    zocount: msg.readUInt16BE(4),
    prcount: msg.readUInt16BE(6),
    upcount: msg.readUInt16BE(8),
    adcount: msg.readUInt16BE(10),
  };
}
