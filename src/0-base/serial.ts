// The SOA serial: RFC 1982 arithmetic over it, and where it and MINIMUM sit in SOA RDATA
// (RFC 1035 §3.3.13: MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM, 32 bits each).
// Zone loading, run-time edits, the API and reloads all use these, so a serial means one thing.

import { nameEnd } from './name.ts';

/**
 * RFC 1982 §3.2: is serial `a` newer than `b`? False when they are equal, and in the case the RFC
 * leaves undefined (exactly 2^31 apart): neither is then newer than the other.
 */
export function serialNewer(a: number, b: number): boolean {
  return a !== b && (a - b) >>> 0 < 0x80000000;
}

/** Where SERIAL starts in SOA RDATA (names in RDATA are never compressed here). */
export function soaSerialOffset(soaRdata: Uint8Array): number {
  return nameEnd(soaRdata, nameEnd(soaRdata, 0));
}

export function soaSerial(soaRdata: Buffer): number {
  return soaRdata.readUInt32BE(soaSerialOffset(soaRdata));
}

/** MINIMUM, the last of the five numbers (RFC 2308 §4: the negative-caching TTL). */
export function soaMinimum(soaRdata: Buffer): number {
  return soaRdata.readUInt32BE(soaRdata.length - 4);
}

/** A copy of SOA RDATA with its serial one higher; RFC 1982 §3.1: 2^32 - 1 wraps to 0. */
export function nextSerialSoa(soaRdata: Uint8Array): Buffer {
  const out = Buffer.from(soaRdata);
  const at = soaSerialOffset(out);
  out.writeUInt32BE((out.readUInt32BE(at) + 1) >>> 0, at);
  return out;
}

/** REFRESH, RETRY and EXPIRE of SOA RDATA, in seconds (RFC 1035 §3.3.13): a secondary's timers. */
export function soaTimers(soaRdata: Buffer): { refresh: number; retry: number; expire: number } {
  const at = soaSerialOffset(soaRdata) + 4;
  return {
    refresh: soaRdata.readUInt32BE(at),
    retry: soaRdata.readUInt32BE(at + 4),
    expire: soaRdata.readUInt32BE(at + 8),
  };
}
