// An UPDATE message (RFC 2136 §2) read into records: the zone section, then the prerequisite,
// update and additional sections (the header's AN, NS and AR counts). Owner names and the names
// inside RDATA are decompressed, so the rest of update/ sees zone-file wire forms only.

import { Type } from '../0-base/constants.ts';
import { keyOf, type NameKey } from '../0-base/name.ts';
import type { Edns } from '../1-codec/query.ts';
import { readName } from '../1-codec/tsig.ts';
import { readRecord, RecordFormatError } from '../1-codec/records.ts';

export interface UpdateRecord {
  readonly name: NameKey;
  readonly type: number;
  readonly klass: number;
  readonly ttl: number;
  /** RDATA with its names decompressed (case kept). */
  readonly rdata: Buffer;
  /** RDLENGTH as sent (RFC 2136 §3.2.5 tests it, not the decompressed length). */
  readonly rdlength: number;
}

export interface ZoneEntry {
  readonly name: NameKey;
  readonly type: number;
  readonly klass: number;
}

export interface UpdateMessage {
  /** The zone section as sent (RFC 2136 §2.3: exactly one entry is valid). */
  readonly zones: readonly ZoneEntry[];
  /** End of a one-entry zone section, echoed in the response; 12 otherwise. */
  readonly zoneEnd: number;
  readonly prerequisites: readonly UpdateRecord[];
  readonly updates: readonly UpdateRecord[];
  readonly edns: Edns | null;
}

export class UpdateFormatError extends Error {}

/**
 * Reads the sections of `msg`; `tsigStart` (the TSIG RR's offset, from verifyRequest) ends the
 * additional section there. Throws UpdateFormatError for anything malformed.
 */
export function parseUpdate(msg: Buffer, tsigStart: number | null): UpdateMessage {
  try {
    return read(msg, tsigStart);
  } catch (e) {
    if (e instanceof UpdateFormatError) throw e;
    // readName's and readRecord's errors, and reads past the end.
    if (e instanceof RecordFormatError) throw new UpdateFormatError(e.message);
    if (e instanceof Error) throw new UpdateFormatError(e.message);
    throw e;
  }
}

function read(msg: Buffer, tsigStart: number | null): UpdateMessage {
  const [zocount, prcount, upcount, adcount] = [4, 6, 8, 10].map((at) => msg.readUInt16BE(at)) as [
    number,
    number,
    number,
    number,
  ];
  let off = 12;
  const zones: ZoneEntry[] = [];
  for (let i = 0; i < zocount; i++) {
    const n = readName(msg, off);
    if (n.end + 4 > msg.length) throw new UpdateFormatError('zone section runs past the end');
    zones.push({ name: keyOf(n.wire), type: msg.readUInt16BE(n.end), klass: msg.readUInt16BE(n.end + 2) });
    off = n.end + 4;
  }
  const zoneEnd = zocount === 1 ? off : 12;
  const records = (count: number): UpdateRecord[] => {
    const out: UpdateRecord[] = [];
    for (let i = 0; i < count; i++) {
      const r = readRecord(msg, off);
      const { owner, ...rest } = r.record;
      out.push({ name: keyOf(owner), ...rest });
      off = r.end;
    }
    return out;
  };
  const prerequisites = records(prcount);
  const updates = records(upcount);
  const additional = records(tsigStart === null ? adcount : adcount - 1);
  if (tsigStart !== null && off !== tsigStart) throw new UpdateFormatError('records overlap the TSIG');
  let edns: Edns | null = null;
  for (const rr of additional) {
    if (rr.type !== Type.OPT) continue;
    // RFC 6891 §6.1.1: one OPT at most, owned by the root.
    if (edns) throw new UpdateFormatError('more than one OPT record');
    if (rr.name !== '\0') throw new UpdateFormatError('OPT owner is not the root');
    edns = {
      payload: Math.max(rr.klass, 512),
      version: (rr.ttl >>> 16) & 0xff,
      dnssecOk: (rr.ttl & 0x8000) !== 0,
      ecs: null,
    };
  }
  return { zones, zoneEnd, prerequisites, updates, edns };
}
