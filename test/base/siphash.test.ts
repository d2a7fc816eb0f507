import { describe, expect, it } from 'vitest';
import { SipKey, sipHash24 } from '../../src/0-base/siphash.ts';

// The reference vectors (the SipHash authors' vectors.h, the paper's Appendix A): key 00..0f,
// message i = the octets 00..i-1; the output as the reference code writes it (little-endian).
const VECTORS = [
  '310e0edd47db6f72',
  'fd67dc93c539f874',
  '5a4fa9d909806c0d',
  '2d7efbd796666785',
  'b7877127e09427cf',
  '8da699cd64557618',
  'cee3fe586e46c9cb',
  '37d1018bf50002ab',
  '6224939a79f5f593',
  'b0e4a90bdf82009e',
  'f3b9dd94c5bb5d7a',
  'a7ad6b22462fb3f4',
  'fbe50e86bc8f1e75',
  '903d84c02756ea14',
  'eef27a8e90ca23f7',
  // The paper's worked example (Appendix A): 15 octets, a129ca6149be45e5 as a 64-bit number.
  'e545be4961ca29a1',
];

describe('SipHash-2-4', () => {
  const key = new SipKey(Uint8Array.from({ length: 16 }, (_, i) => i));
  const msg = Uint8Array.from({ length: 64 }, (_, i) => i);
  for (const [i, want] of VECTORS.entries()) {
    it(`gives the reference output for a message of ${i} octets`, () => {
      const out = Buffer.alloc(8);
      sipHash24(key, msg, 0, i, out, 0);
      expect(out.toString('hex')).toBe(want);
    });
  }

  it('hashes a slice in place: the offset of the message and of the output do not matter', () => {
    const shifted = Buffer.concat([Buffer.from([0xaa, 0xbb, 0xcc]), Buffer.from(msg.subarray(0, 15))]);
    const out = Buffer.alloc(12, 0xee);
    sipHash24(key, shifted, 3, 18, out, 2);
    expect(out.toString('hex')).toBe(`eeee${VECTORS[15]}eeee`);
  });

  it('refuses a key that is not 16 octets', () => {
    expect(() => new SipKey(new Uint8Array(15))).toThrow(/16 octets/);
  });
});
