import { describe, it, expect } from 'vitest';
import { MAX_TTL, parseTtl } from '../../src/2-zone/ttl.ts';

describe('parseTtl', () => {
  it('reads bare seconds', () => {
    expect(parseTtl('0')).toBe(0);
    expect(parseTtl('3600')).toBe(3600);
  });

  it('reads unit components in any case and adds them up', () => {
    expect(parseTtl('1h30m')).toBe(5400);
    expect(parseTtl('2w')).toBe(1209600);
    expect(parseTtl('1d')).toBe(86400);
    expect(parseTtl('1D2H3M4S')).toBe(86400 + 7200 + 180 + 4);
    expect(parseTtl('1w1d')).toBe(8 * 86400);
  });

  it('accepts 2^31-1 and rejects anything larger (RFC 2181 §8)', () => {
    expect(parseTtl(String(MAX_TTL))).toBe(2147483647);
    expect(parseTtl('2147483648')).toBeUndefined();
    expect(parseTtl('3551w')).toBeUndefined();
  });

  it('rejects a trailing number without a unit, unknown units and junk, as BIND does', () => {
    for (const bad of ['1h30', 'h', '1x', '', '-1', '1.5h', ' 1', '1h 2m']) expect(parseTtl(bad), bad).toBeUndefined();
  });
});
