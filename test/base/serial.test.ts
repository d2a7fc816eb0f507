import { describe, expect, it } from 'vitest';
import { nextSerialSoa, serialNewer, soaMinimum, soaSerial } from '../../src/0-base/serial.ts';
import { keyToWire, keyOf, parseName } from '../../src/0-base/name.ts';

/** SOA RDATA as a zone file would give it: ns1.example. hostmaster.example. SERIAL 7200 900 1209600 MIN. */
function soa(serial: number, minimum = 300): Buffer {
  const names = ['ns1.example.', 'hostmaster.example.'].map((n) => Buffer.from(keyToWire(keyOf(parseName(n, null)))));
  const nums = Buffer.alloc(20);
  [serial, 7200, 900, 1209600, minimum].forEach((v, i) => nums.writeUInt32BE(v, i * 4));
  return Buffer.concat([...names, nums]);
}

describe('RFC 1982 serial arithmetic', () => {
  it('orders serials that are less than 2^31 apart, across the wrap at 2^32', () => {
    expect(serialNewer(2, 1)).toBe(true);
    expect(serialNewer(1, 2)).toBe(false);
    expect(serialNewer(0, 0xffffffff)).toBe(true);
    expect(serialNewer(0xffffffff, 0)).toBe(false);
    expect(serialNewer(5, 0xfffffffb)).toBe(true);
    expect(serialNewer(0x7fffffff, 0)).toBe(true);
  });

  it('calls neither newer when they are equal or exactly 2^31 apart (the undefined case)', () => {
    expect(serialNewer(7, 7)).toBe(false);
    expect(serialNewer(0x80000000, 0)).toBe(false);
    expect(serialNewer(0, 0x80000000)).toBe(false);
    expect(serialNewer(0x80000005, 5)).toBe(false);
    expect(serialNewer(5, 0x80000005)).toBe(false);
  });
});

describe('SOA RDATA', () => {
  it('reads the serial after the two names, and MINIMUM at the end', () => {
    expect(soaSerial(soa(2026120701))).toBe(2026120701);
    expect(soaMinimum(soa(1, 3600))).toBe(3600);
  });

  it('bumps the serial by one in a copy, leaving the rest and the original as they were', () => {
    const before = soa(41);
    const after = nextSerialSoa(before);
    expect(soaSerial(after)).toBe(42);
    expect(soaSerial(before)).toBe(41);
    expect(after.subarray(0, after.length - 20)).toEqual(before.subarray(0, before.length - 20));
    expect(after.subarray(after.length - 16)).toEqual(before.subarray(before.length - 16));
  });

  it('wraps 2^32 - 1 to 0, which counts as newer (RFC 1982 §3.1)', () => {
    const after = nextSerialSoa(soa(0xffffffff));
    expect(soaSerial(after)).toBe(0);
    expect(serialNewer(soaSerial(after), 0xffffffff)).toBe(true);
  });
});
