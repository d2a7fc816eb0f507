// rrsetSizeError: the one rule the loader, the API and UPDATE share for an RRset too large to send.
// test/e2e/check-zones.test.ts shows dig receiving the largest accepted RRset whole over TCP.

import { describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { keyOf, parseName } from '../../src/0-base/name.ts';
import { rrsetSizeError } from '../../src/2-zone/rrset-size.ts';

/** `n` RDATAs of `len` octets each. */
const rdata = (n: number, len: number) => Array.from({ length: n }, () => new Uint8Array(len));
const owner = parseName('big.example.com.', null); // 17 octets
// 12 header + 17 + 4 question + 35 OPT = 68; each RR is 12 octets and its RDATA.

describe('rrsetSizeError', () => {
  it('accepts a set whose response is exactly 65535 octets, as a key or a wire name', () => {
    const set = [...rdata(244, 256), new Uint8Array(63)]; // 68 + 244 * 268 + 75 = 65535
    expect(rrsetSizeError(owner, Type.TXT, set)).toBeNull();
    expect(rrsetSizeError(keyOf(owner), Type.TXT, set)).toBeNull();
  });

  it('refuses one octet more, saying the size', () => {
    const set = [...rdata(244, 256), new Uint8Array(64)];
    expect(rrsetSizeError(owner, Type.TXT, set)).toBe(
      'TXT RRset at big.example.com. is too large to serve: its 245 records ' +
        'need a 65536-octet response, and a DNS message holds at most 65535 (RFC 1035 §4.2.2)',
    );
  });

  it('measures a wildcard with a 255-octet question, whether given as a key or a wire name', () => {
    const wild = parseName('*.example.com.', null);
    const set = rdata(244, 256); // 65 392 + 15 + 51: fits the owner itself, not a 255-octet question
    expect(rrsetSizeError(keyOf(parseName('x.example.com.', null)), Type.TXT, set)).toBeNull();
    expect(rrsetSizeError(keyOf(wild), Type.TXT, set)).toMatch(/^TXT RRset at \*\.example\.com\. is too large/);
    expect(rrsetSizeError(wild, Type.TXT, set)).toMatch(/too large/);
  });
});
