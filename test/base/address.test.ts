import { describe, expect, it } from 'vitest';
import { addressFamily, addressRdata, addressToText, normalizeAddress } from '../../src/0-base/address.ts';

describe('addresses as A/AAAA RDATA', () => {
  it('turns a dotted quad into the 4 bytes of A RDATA and back', () => {
    const d = addressRdata('192.0.2.10')!;
    expect([...d]).toEqual([192, 0, 2, 10]);
    expect(addressToText(d)).toBe('192.0.2.10');
    expect(addressFamily('192.0.2.10')).toBe(4);
  });

  it('turns any IPv6 text into the 16 bytes of AAAA RDATA, and back to the RFC 5952 form', () => {
    const d = addressRdata('2001:DB8:0::1')!;
    expect(d.length).toBe(16);
    expect(d.toString('hex')).toBe('20010db8000000000000000000000001');
    expect(addressToText(d)).toBe('2001:db8::1');
    expect(addressFamily('2001:db8::1')).toBe(6);
    expect(addressToText(addressRdata('::ffff:192.0.2.1')!)).toBe('::ffff:192.0.2.1');
  });

  it('gives no RDATA for what is not an address', () => {
    for (const text of ['192.0.2', '192.0.2.256', '010.0.0.1', '2001:db8::1::2', 'fe80::1%eth0', 'example.com']) {
      expect(addressRdata(text)).toBeUndefined();
    }
  });

  it('writes one text form per address, so equal addresses are equal strings', () => {
    expect(normalizeAddress('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(normalizeAddress('192.0.2.1')).toBe('192.0.2.1');
    expect(normalizeAddress(addressToText(addressRdata('2001:db8::a')!))).toBe('2001:db8::a');
  });
});
