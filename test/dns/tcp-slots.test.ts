// Whose share a TCP connection counts against (RFC 7766 §10 per-client limits): addresses of the
// same IPv6 /64 are one client, an IPv4-mapped address is its IPv4 address. The limits themselves
// are tested end to end in test/e2e/tcp-limits.test.ts.

import { describe, expect, it } from 'vitest';
import { clientOf } from '../../src/6-serve/tcp-slots.ts';

describe('clientOf', () => {
  it('counts every address of one IPv6 /64 as one client, and another /64 as another', () => {
    expect(clientOf('2001:db8:1:2::1')).toBe(clientOf('2001:db8:1:2:aaaa:bbbb:cccc:dddd'));
    expect(clientOf('2001:db8:1:3::1')).not.toBe(clientOf('2001:db8:1:2::1'));
    expect(clientOf('::1')).toBe(clientOf('::2'));
  });

  it('counts IPv4 per address, an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(clientOf('192.0.2.1')).not.toBe(clientOf('192.0.2.2'));
    expect(clientOf('::ffff:192.0.2.1')).toBe(clientOf('192.0.2.1'));
  });
});
