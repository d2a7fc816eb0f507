// RDATA in presentation form, both ways: whatever the API prints reads back to the same bytes.

import { describe, expect, it } from 'vitest';
import { parseRdata, rdataToText } from '../../src/8-api/rdata-text.ts';
import { Type, typeFromName } from '../../src/0-base/constants.ts';
import { parseName } from '../../src/0-base/name.ts';
import { RdataError } from '../../src/2-zone/rdata-io.ts';

const ORIGIN = parseName('example.com.', null);

describe('presentation form', () => {
  it.each([
    ['A', '192.0.2.1', '192.0.2.1'],
    ['AAAA', '2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['NS', 'ns1', 'ns1.example.com.'],
    ['CNAME', 'Www.Example.Org.', 'Www.Example.Org.'],
    ['PTR', 'host\\.name.example.net.', 'host\\.name.example.net.'],
    ['SOA', 'ns1 hostmaster 1 1h 15m 2w 300', 'ns1.example.com. hostmaster.example.com. 1 3600 900 1209600 300'],
    ['MX', '10 @', '10 example.com.'],
    ['TXT', '"a \\"quoted\\" word" plain', '"a \\"quoted\\" word" "plain"'],
    ['TXT', '"tab\\009and\\255"', '"tab\\009and\\255"'],
    ['SRV', '0 5 5060 sip', '0 5 5060 sip.example.com.'],
    ['HINFO', '"PC" "Linux"', '"PC" "Linux"'],
    [
      'NAPTR',
      '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .',
      '100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .',
    ],
    ['CAA', '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"'],
    ['DS', '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118', '60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118'],
    ['SSHFP', '2 1 123456789ABCDEF67890123456789ABCDEF67890', '2 1 123456789ABCDEF67890123456789ABCDEF67890'],
    [
      'DNSKEY',
      '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
      '257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==',
    ],
    ['HTTPS', '1 . alpn="h2,h3"', '\\# 13 00010000010006026832026833'],
    ['TYPE65280', '\\# 2 abcd', '\\# 2 abcd'],
  ])('%s %s prints as %s and reads back to the same bytes', (typeText, text, printed) => {
    const type = typeFromName(typeText)!;
    const wire = parseRdata(type, text, ORIGIN);
    expect(rdataToText(type, wire)).toBe(printed);
    expect(parseRdata(type, printed, ORIGIN).equals(wire)).toBe(true);
  });

  it('shows data malformed for its type in the generic form', () => {
    expect(rdataToText(Type.MX, Buffer.from([0, 10, 5, 0x61]))).toBe('\\# 4 000a0561');
    expect(rdataToText(Type.A, Buffer.alloc(0))).toBe('\\# 0');
  });

  it('refuses empty text and more than one record in a string', () => {
    expect(() => parseRdata(Type.A, '  ', ORIGIN)).toThrow(RdataError);
    expect(() => parseRdata(Type.A, '192.0.2.1\n192.0.2.2', ORIGIN)).toThrow('one record per string');
    expect(() => parseRdata(Type.TXT, '"open', ORIGIN)).toThrow('quoted string is not closed on its line');
  });
});
