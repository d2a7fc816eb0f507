// RecentKeys (0-base/name.ts), the question-name memory of the query path: whatever it remembers,
// the key it gives is the one keyOf makes from the same octets.

import { describe, expect, it } from 'vitest';
import { keyOf, parseName, RecentKeys } from '../../src/0-base/name.ts';

/** A message-like buffer: `before` octets, the wire name, then two more octets (as a QTYPE would follow). */
function inMessage(name: string, before = 12): { buf: Buffer; start: number; end: number } {
  const wire = parseName(name, null);
  const buf = Buffer.concat([Buffer.alloc(before, 0xab), wire, Buffer.from([0, 1])]);
  return { buf, start: before, end: before + wire.length };
}

describe('RecentKeys', () => {
  it('gives the key keyOf gives, folding ASCII capitals only', () => {
    const keys = new RecentKeys(16);
    for (const name of ['pool.bench.example.', 'WWW.Example.COM.', '.', 'a\\200B.example.', 'x.y.z.example.']) {
      const { buf, start, end } = inMessage(name);
      expect(keys.keyOf(buf, start, end)).toBe(keyOf(buf, start, end));
      // Asked again (now from memory), still the same.
      expect(keys.keyOf(buf, start, end)).toBe(keyOf(buf, start, end));
    }
  });

  it('answers a name asked again, in any case, with the very string it made the first time', () => {
    const keys = new RecentKeys(16);
    const a = inMessage('www.example.com.');
    const first = keys.keyOf(a.buf, a.start, a.end);
    const upper = inMessage('WWW.EXAMPLE.COM.', 40);
    // A fresh keyOf is an equal but distinct string; from memory, the same one.
    expect(Object.is(keys.keyOf(upper.buf, upper.start, upper.end), first)).toBe(true);
  });

  it('never answers a name with another that shares its slot', () => {
    // One slot: every name falls in it, so each must be told from the one remembered octet by octet.
    const keys = new RecentKeys(1);
    const names = [
      'www.a.example.',
      'www.b.example.',
      'www.a.example.',
      'wwx.a.example.',
      'www.a.exampla.',
      'www.a.example.',
    ];
    for (const name of names) {
      const { buf, start, end } = inMessage(name);
      expect(keys.keyOf(buf, start, end)).toBe(keyOf(parseName(name, null)));
    }
  });

  it('refuses a size that is not a power of two', () => {
    expect(() => new RecentKeys(1000)).toThrow(RangeError);
    expect(() => new RecentKeys(0)).toThrow(RangeError);
  });
});
