import { describe, it, expect } from 'vitest';
import { rdataError, rdataHex } from './helpers.ts';

// Test vectors of RFC 9460 Appendix D.
const FOO_COM = '03666f6f076578616d706c6503636f6d00';
const FOO_ORG = '03666f6f076578616d706c65036f726700';

describe('SVCB / HTTPS RDATA (RFC 9460)', () => {
  it('encodes AliasMode and the simplest ServiceMode form (D.1, D.2)', async () => {
    expect(await rdataHex('@ HTTPS 0 foo.example.com.')).toBe(`0000${FOO_COM}`);
    expect(await rdataHex('@ SVCB 1 .')).toBe('000100');
  });

  it('encodes port, generic keys with escapes and IPv6 hints (D.2)', async () => {
    expect(await rdataHex('@ SVCB 16 foo.example.com. port=53')).toBe(`0010${FOO_COM}000300020035`);
    expect(await rdataHex('@ SVCB 1 foo.example.com. key667=hello')).toBe(`0001${FOO_COM}029b000568656c6c6f`);
    expect(await rdataHex('@ SVCB 1 foo.example.com. key667="hello\\210qoo"')).toBe(
      `0001${FOO_COM}029b000968656c6c6fd2716f6f`,
    );
    expect(await rdataHex('@ SVCB 1 foo.example.com. ( ipv6hint="2001:db8::1,2001:db8::53:1" )')).toBe(
      `0001${FOO_COM}0006002020010db800000000000000000000000120010db8000000000000000000530001`,
    );
    expect(await rdataHex('@ SVCB 1 example.com. ( ipv6hint="2001:db8:122:344::192.0.2.33" )')).toBe(
      '0001076578616d706c6503636f6d000006001020010db80122034400000000c0000221',
    );
  });

  it('sorts parameters by key and encodes mandatory, alpn and ipv4hint (D.2)', async () => {
    expect(
      await rdataHex('@ SVCB 16 foo.example.org. ( alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 )'),
    ).toBe(`0010${FOO_ORG}00000004000100040001000902683205683` + '32d3139' + '00040004c0000201');
  });

  it('applies the two levels of alpn escaping (D.2)', async () => {
    const want = `0010${FOO_ORG}0001000c08665c6f6f2c6261720268` + '32';
    expect(await rdataHex('@ SVCB 16 foo.example.org. alpn="f\\\\\\\\oo\\\\,bar,h2"')).toBe(want);
    expect(await rdataHex('@ SVCB 16 foo.example.org. alpn=f\\\\\\092oo\\092,bar,h2')).toBe(want);
  });

  it('encodes no-default-alpn, ech and dohpath', async () => {
    expect(await rdataHex('@ HTTPS 1 . alpn=h2 no-default-alpn ech=AQID dohpath=/q{?dns}')).toBe(
      '000100' +
        '000100030268' +
        '32' +
        '00020000' +
        '00050003010203' +
        '00070008' +
        Buffer.from('/q{?dns}').toString('hex'),
    );
  });

  it('rejects the malformed examples of D.3 and other bad parameters', async () => {
    const bad: [string, string][] = [
      ['key123=abc key123=def', 'SvcParamKey key123 given twice'],
      ['mandatory', 'mandatory: needs a value'],
      ['alpn', 'alpn: needs a value'],
      ['port', 'port: needs a value'],
      ['ipv4hint', 'ipv4hint: needs a value'],
      ['ipv6hint', 'ipv6hint: needs a value'],
      ['no-default-alpn=abc', 'no-default-alpn: takes no value'],
      ['mandatory=key123', 'mandatory lists key123, which is not given'],
      ['mandatory=mandatory', 'mandatory: cannot list mandatory itself'],
      ['mandatory=key123,key123 key123=abc', 'mandatory: lists a key twice'],
      ['no-default-alpn', 'no-default-alpn needs alpn'],
      ['port=65536', 'port: "65536" is not a port number'],
      ['ipv4hint=192.0.2.1,2001:db8::1', 'ipv4hint: "2001:db8::1" is not an IPv4 address'],
      ['foo=bar', 'unknown SvcParamKey "foo"'],
      ['key65535=x', 'unknown SvcParamKey "key65535"'],
      ['"alpn=h2"', 'SvcParam "alpn=h2" must be written key=value'],
    ];
    for (const [params, reason] of bad) {
      expect(await rdataError(`@ SVCB 1 foo.example.com. ${params}`), params).toBe(`test.zone:2: SVCB: ${reason}`);
    }
  });

  it('checks SvcParams given in generic form', async () => {
    expect(await rdataHex('@ HTTPS \\# 9 0001 00 0003 0002 01bb')).toBe('000100000300' + '0201bb');
    expect(await rdataError('@ HTTPS \\# 13 0001 00 0003 0002 01bb 0001 0000')).toBe(
      'test.zone:2: HTTPS: generic RDATA is not valid: SvcParamKeys are not in strictly increasing order',
    );
    expect(await rdataError('@ HTTPS \\# 8 0001 00 0003 0001 01')).toBe(
      'test.zone:2: HTTPS: generic RDATA is not valid: SvcParam port has a bad length 1',
    );
    expect(await rdataError('@ HTTPS \\# 8 0001 00 0003 0002 01')).toBe(
      'test.zone:2: HTTPS: generic RDATA is not valid: SvcParam port value cut short',
    );
  });
});
