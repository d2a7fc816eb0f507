// Server cookies against RFC 9018 Appendix A, and the COOKIE option's lengths in parseQuery (RFC 7873 §5.2.2).

import { describe, expect, it } from 'vitest';
import { CookieSecrets } from '../../src/1-codec/cookie.ts';
import { parseQuery } from '../../src/1-codec/query.ts';
import { addressRdata } from '../../src/0-base/address.ts';
import { buildQuery, ednsOption } from '../helpers/raw.ts';

const SECRET = 'e5e973e5a6b2a43f48e7dc849e37bfcf';

/** The verdict and the option data answered with, for `opt` (hex) from `ip` at `now`. */
function judge(secrets: CookieSecrets, opt: string, ip: string, now: number) {
  const reply = Buffer.alloc(24);
  // In the middle of a larger buffer, as in a message.
  const msg = Buffer.concat([Buffer.from('ffff', 'hex'), Buffer.from(opt, 'hex'), Buffer.from('ffff', 'hex')]);
  const verdict = secrets.check(msg, 2, opt.length / 2, addressRdata(ip)!, now, reply);
  return { verdict, reply: reply.toString('hex') };
}

describe('server cookies (RFC 9018 Appendix A)', () => {
  const secrets = CookieSecrets.of({ secret: SECRET });

  it('A.1: a client cookie alone gets a new server cookie', () => {
    expect(judge(secrets, '2464c4abcf10c957', '198.51.100.100', 1559731985)).toEqual({
      verdict: 'client-only',
      reply: '2464c4abcf10c957010000005cf79f111f8130c3eee29480',
    });
  });

  it('A.2: a valid cookie 40 minutes old is renewed', () => {
    expect(judge(secrets, '2464c4abcf10c957010000005cf79f111f8130c3eee29480', '198.51.100.100', 1559734385)).toEqual({
      verdict: 'valid',
      reply: '2464c4abcf10c957010000005cf7a871d4a564a1442aca77',
    });
  });

  it('a valid cookie less than half an hour old is sent back as it came', () => {
    const cookie = '2464c4abcf10c957010000005cf79f111f8130c3eee29480';
    expect(judge(secrets, cookie, '198.51.100.100', 1559731985 + 1799)).toEqual({ verdict: 'valid', reply: cookie });
  });

  it('A.3: the reserved octets a client sends are hashed as received; past an hour the cookie is invalid', () => {
    const cookie = 'fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5';
    const issued = 0x5cf78f71;
    expect(judge(secrets, cookie, '203.0.113.203', issued).verdict).toBe('valid');
    expect(judge(secrets, cookie, '203.0.113.203', issued + 3600).verdict).toBe('valid');
    // The appendix's reply comes 1h52m later: outside the hour §4.3 allows, so a fresh cookie (its value).
    expect(judge(secrets, cookie, '203.0.113.203', 1559734700)).toEqual({
      verdict: 'invalid',
      reply: 'fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e',
    });
  });

  it('A.4: an IPv6 client with a cookie of the previous secret is valid and gets one of the new secret', () => {
    const rolled = CookieSecrets.of({
      secret: '445536bcd2513298075a5d379663c962',
      previousSecret: 'dd3bdf9344b678b185a6f5cb60fca715',
    });
    const cookie = '22681ab97d52c298010000005cf7c57926556bd0934c72f8';
    const ip = '2001:db8:220:1:59de:d0f4:8769:82b8';
    expect(judge(rolled, cookie, ip, 1559741961)).toEqual({
      verdict: 'valid',
      reply: '22681ab97d52c298010000005cf7c609a6bb79d16625507a',
    });
    // Without the previous secret, the same cookie is not ours.
    expect(
      judge(CookieSecrets.of({ secret: '445536bcd2513298075a5d379663c962' }), cookie, ip, 1559741961).verdict,
    ).toBe('invalid');
  });

  it('refuses a cookie from another address, from the future beyond 5 minutes, or of another version', () => {
    const cookie = '2464c4abcf10c957010000005cf79f111f8130c3eee29480';
    expect(judge(secrets, cookie, '198.51.100.101', 1559731985).verdict).toBe('invalid');
    expect(judge(secrets, cookie, '198.51.100.100', 1559731985 - 300).verdict).toBe('valid');
    expect(judge(secrets, cookie, '198.51.100.100', 1559731985 - 301).verdict).toBe('invalid');
    expect(
      judge(secrets, `2464c4abcf10c957020000005cf79f111f8130c3eee29480`, '198.51.100.100', 1559731985).verdict,
    ).toBe('invalid');
    // A server cookie of another length (8..32 octets is well-formed) is not one of ours.
    expect(judge(secrets, '2464c4abcf10c9570102030405060708', '198.51.100.100', 1559731985).verdict).toBe('invalid');
  });
});

describe('the COOKIE option in parseQuery', () => {
  const withCookie = (octets: number) =>
    buildQuery('example.com', 1, { edns: { options: ednsOption(10, Buffer.alloc(octets, 0xab)) } });

  for (const n of [8, 16, 24, 40])
    it(`reads a COOKIE of ${n} octets`, () => {
      const p = parseQuery(withCookie(n));
      expect(p.kind).toBe('query');
      if (p.kind === 'query') {
        expect(p.query.edns?.cookieLength).toBe(n);
        expect(p.query.message[p.query.edns!.cookieAt! - 3]).toBe(10);
      }
    });

  for (const n of [0, 7, 9, 15, 41])
    it(`answers a COOKIE of ${n} octets FORMERR, with an OPT`, () => {
      const p = parseQuery(withCookie(n));
      expect(p.kind).toBe('error');
      if (p.kind === 'error') {
        expect(p.rcode).toBe(1);
        expect(p.reason).toMatch(/^COOKIE option/);
        expect(p.edns).not.toBeNull();
      }
    });

  it('keeps the first of two COOKIE options', () => {
    const opts = Buffer.concat([ednsOption(10, Buffer.alloc(8, 1)), ednsOption(10, Buffer.alloc(8, 2))]);
    const p = parseQuery(buildQuery('example.com', 1, { edns: { options: opts } }));
    if (p.kind !== 'query') throw new Error(p.kind);
    const { cookieAt, cookieLength } = p.query.edns!;
    expect(p.query.message.toString('hex', cookieAt, cookieAt! + cookieLength!)).toBe('0101010101010101');
  });
});
