import { describe, it, expect } from 'vitest';
import { Packet } from 'dns2';
import { Type } from '../../src/0-base/constants.ts';
import { buildZone } from '../../src/2-zone/build.ts';
import { rdataTarget } from '../../src/2-zone/rdata.ts';
import { toWireName } from '../../src/2-zone/rdata-io.ts';
import { parseName, NameError } from '../../src/0-base/name.ts';
import { HEAD, ORIGIN, ORIGIN_KEY, key, parse, rdataError, rdataHex } from './helpers.ts';

const EXAMPLE_COM = '076578616d706c6503636f6d00';
const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');
const DIGEST32 = 'ddc6e2b224d0fd821669202258386936fc9ce2899e215eec6322b95f8dd96d6a';

describe('RDATA text → wire', () => {
  it('A: a strict dotted quad', async () => {
    expect(await rdataHex('a A 192.0.2.1')).toBe('c0000201');
    expect(await rdataHex('a A 0.0.0.0')).toBe('00000000');
    expect(await rdataHex('a A 255.255.255.255')).toBe('ffffffff');
    for (const bad of [
      '192.0.2',
      '192.0.2.1.5',
      '192.0.2.256',
      '192.0.2.01',
      '0x1.2.3.4',
      '1..2.3',
      '192.0.2.1/24',
      '::1',
    ]) {
      expect(await rdataError(`a A ${bad}`)).toBe(`test.zone:2: A: "${bad}" is not a dotted-quad IPv4 address`);
    }
  });

  it('AAAA: every RFC 4291 textual form, embedded IPv4 included', async () => {
    const cases: [string, string][] = [
      ['2001:db8::1', '20010db8000000000000000000000001'],
      ['::', '00000000000000000000000000000000'],
      ['::1', '00000000000000000000000000000001'],
      ['1::', '00010000000000000000000000000000'],
      ['2001:0DB8:0000:0000:0000:FF00:0042:8329', '20010db8000000000000ff0000428329'],
      ['2001:db8:0:0:1:0:0:1', '20010db8000000000001000000000001'],
      ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
      ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
      ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
      ['1:2:3:4:5:6:192.0.2.1', '000100020003000400050006c0000201'],
    ];
    for (const [text, wire] of cases) expect(await rdataHex(`a AAAA ${text}`), text).toBe(wire);
    for (const bad of [
      '2001:db8::1::2',
      '1:2:3:4:5:6:7:8:9',
      'fe80::1%eth0',
      '::ffff:1.2.3',
      '12345::',
      'g::1',
      '192.0.2.1',
      '1:2:3:4:5:6:7',
    ]) {
      expect(await rdataError(`a AAAA ${bad}`), bad).toBe(`test.zone:2: AAAA: "${bad}" is not an IPv6 address`);
    }
  });

  it('NS, CNAME, PTR, DNAME: one uncompressed name, case kept', async () => {
    expect(await rdataHex('a NS ns1')).toBe(`036e7331${EXAMPLE_COM}`);
    expect(await rdataHex('a CNAME WWW.Example.NET.')).toBe(hex('\x03WWW\x07Example\x03NET\x00'));
    expect(await rdataHex('a PTR .')).toBe('00');
    expect(await rdataHex('a DNAME @')).toBe(EXAMPLE_COM);
    expect(await rdataError('a NS')).toBe('test.zone:2: NS: missing name server');
    expect(await rdataError('a CNAME x y')).toBe('test.zone:2: CNAME: unexpected "y" after the last field');
    expect(await rdataError('a CNAME "x"')).toBe('test.zone:2: CNAME: target must not be quoted');
  });

  it('SOA: two names, a serial and four timers that accept units', async () => {
    expect(await rdataHex('@ SOA ns1 hostmaster.example.com. 4294967295 1h 15m 2w 5m')).toBe(
      `036e7331${EXAMPLE_COM}0a686f73746d6173746572${EXAMPLE_COM}ffffffff00000e100000038400127500` + '0000012c',
    );
    expect(await rdataError('@ SOA ns1 h 4294967296 1 2 3 4')).toBe(
      'test.zone:2: SOA: serial must be an integer 0..4294967295, not "4294967296"',
    );
    expect(await rdataError('@ SOA ns1 h 1 1 2 3')).toBe('test.zone:2: SOA: missing minimum');
  });

  it('MX and SRV: numbers then a name', async () => {
    expect(await rdataHex('@ MX 10 mail')).toBe(`000a046d61696c${EXAMPLE_COM}`);
    expect(await rdataHex('_sip._tcp SRV 10 60 5060 sip.example.com.')).toBe(`000a003c13c403736970${EXAMPLE_COM}`);
    expect(await rdataError('@ MX 65536 mail')).toBe(
      'test.zone:2: MX: preference must be an integer 0..65535, not "65536"',
    );
    expect(await rdataError('@ MX mail')).toBe('test.zone:2: MX: preference must be an integer 0..65535, not "mail"');
  });

  it('TXT: one or more character-strings with escapes, each at most 255 octets', async () => {
    expect(await rdataHex('a TXT "a" bc ""')).toBe('01610262630' + '0');
    expect(await rdataHex('a TXT "say \\"hi\\"" back\\\\slash \\065\\066C \\ x')).toBe(
      '08' + hex('say "hi"') + '0a' + hex('back\\slash') + '03414243' + '022078',
    );
    expect(await rdataHex(`a TXT "${'x'.repeat(255)}"`)).toBe('ff' + '78'.repeat(255));
    expect(await rdataError(`a TXT "${'x'.repeat(256)}"`)).toBe(
      'test.zone:2: TXT: character-string of 256 octets is longer than 255',
    );
    expect(await rdataError('a TXT')).toBe('test.zone:2: TXT: missing text');
    expect(await rdataError('a TXT "\\256"')).toBe('test.zone:2: TXT: escape \\256 is out of range');
    expect(await rdataError(`a TXT ${`"${'x'.repeat(255)}" `.repeat(257)}`)).toBe(
      'test.zone:2: TXT: RDATA longer than 65535 octets',
    );
  });

  it('TXT: passes the file octets (UTF-8 here) through unchanged', async () => {
    const utf8 = Buffer.from('é✓', 'utf8').toString('latin1');
    expect(await rdataHex(`a TXT "${utf8}"`)).toBe('05c3a9e29c93');
  });

  it('HINFO: two character-strings', async () => {
    expect(await rdataHex('a HINFO "PC" Linux')).toBe('025043054c696e7578');
    expect(await rdataError('a HINFO PC')).toBe('test.zone:2: HINFO: missing OS');
  });

  it('CAA: flags, tag and a value that is not length-prefixed nor limited to 255 (RFC 8659)', async () => {
    expect(await rdataHex('@ CAA 0 issue "ca.example.net"')).toBe('0005' + hex('issue') + hex('ca.example.net'));
    expect(await rdataHex('@ CAA 128 tbs ""')).toBe('8003' + hex('tbs'));
    expect(await rdataHex(`@ CAA 0 iodef "${'y'.repeat(300)}"`)).toBe('0005' + hex('iodef') + '79'.repeat(300));
    expect(await rdataError('@ CAA 0 is-sue "x"')).toBe('test.zone:2: CAA: CAA tag must be letters and digits');
    expect(await rdataError('@ CAA 0 issue "a" "b"')).toBe('test.zone:2: CAA: unexpected "b" after the last field');
    expect(await rdataError('@ CAA 256 issue "a"')).toBe(
      'test.zone:2: CAA: flags must be an integer 0..255, not "256"',
    );
  });

  it('NAPTR: order, preference, three character-strings and a replacement name', async () => {
    expect(await rdataHex('@ NAPTR 100 10 "S" "SIP+D2T" "" _sip._tcp')).toBe(
      '0064000a0153075349502b4432540004' + hex('_sip') + '04' + hex('_tcp') + EXAMPLE_COM,
    );
    expect(await rdataHex('@ NAPTR 100 10 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .')).toBe(
      '0064000a0175074532552b736970' + '1b' + hex('!^.*$!sip:info@example.com!') + '00',
    );
  });

  it('DS: hex digest that may be split by blanks, algorithm as number or mnemonic, digest length checked', async () => {
    const want = '30390d02' + DIGEST32;
    expect(await rdataHex(`sub DS 12345 13 2 ${DIGEST32}`)).toBe(want);
    expect(
      await rdataHex(
        `sub DS 12345 ECDSAP256SHA256 2 ( ${DIGEST32.slice(0, 20)}\n ${DIGEST32.slice(20).toUpperCase()} )`,
      ),
    ).toBe(want);
    expect(await rdataHex('sub DS 1 8 99 abcd')).toBe('0001086' + '3abcd');
    expect(await rdataError(`sub DS 12345 13 2 ${DIGEST32.slice(2)}`)).toBe(
      'test.zone:2: DS: digest type 2 needs 32 octets, not 31',
    );
    expect(await rdataError('sub DS 12345 13 1 abc')).toBe('test.zone:2: DS: digest is not hexadecimal octets');
    expect(await rdataError('sub DS 12345 NOPE 1 ab')).toBe('test.zone:2: DS: unknown algorithm "NOPE"');
  });

  it('TLSA and SSHFP: numbers then hex, lengths checked for the known digest types', async () => {
    expect(await rdataHex(`_443._tcp.www TLSA 3 1 1 ${DIGEST32}`)).toBe('030101' + DIGEST32);
    expect(await rdataHex('_443._tcp.www TLSA 3 0 0 30 82 01')).toBe('030000308201');
    expect(await rdataError('_443._tcp.www TLSA 3 1 2 abcd')).toBe(
      'test.zone:2: TLSA: matching type 2 needs 64 octets, not 2',
    );
    expect(await rdataHex(`www SSHFP 4 2 ${DIGEST32}`)).toBe('0402' + DIGEST32);
    expect(await rdataError('www SSHFP 4 1 abcd')).toBe(
      'test.zone:2: SSHFP: fingerprint type 1 needs 20 octets, not 2',
    );
    expect(await rdataError('www SSHFP 4 2')).toBe('test.zone:2: SSHFP: missing fingerprint');
  });

  it('DNSKEY: base64 key that may be split by blanks', async () => {
    const k = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
    const b64 = k.toString('base64');
    expect(await rdataHex(`@ DNSKEY 257 3 13 ${b64.slice(0, 10)} ${b64.slice(10)}`)).toBe(
      '0101030d' + k.toString('hex'),
    );
    expect(await rdataError('@ DNSKEY 257 3 13 not*base64')).toBe('test.zone:2: DNSKEY: public key is not base64');
  });
});

describe('RFC 3597 generic RDATA', () => {
  it('is accepted for any type, hex split across words', async () => {
    expect(await rdataHex('a TYPE65280 \\# 4 0a00 0001')).toBe('0a000001');
    expect(await rdataHex('a TYPE65280 \\# 0')).toBe('');
  });

  it('is used as wire data for known types once it fits the type', async () => {
    expect(await rdataHex('a A \\# 4 C0000201')).toBe('c0000201');
    expect(await rdataHex(`a MX \\# 20 000a 046d61696c ${EXAMPLE_COM}`)).toBe(`000a046d61696c${EXAMPLE_COM}`);
    expect(await rdataHex('a TXT \\# 3 026869')).toBe('026869');
  });

  it('is rejected when it does not fit the known type', async () => {
    expect(await rdataError('a A \\# 3 c00002')).toBe(
      'test.zone:2: A: generic RDATA is not valid: RDATA of 3 octets is too short',
    );
    expect(await rdataError('a A \\# 5 c000020101')).toBe(
      'test.zone:2: A: generic RDATA is not valid: 1 octet after the last field',
    );
    expect(await rdataError('a MX \\# 4 000ac00c')).toBe(
      'test.zone:2: MX: generic RDATA is not valid: a domain name is malformed or compressed',
    );
    expect(await rdataError('a NS \\# 3 016100ff')).toBe(
      'test.zone:2: NS: generic RDATA has 4 octets, its length says 3',
    );
    expect(await rdataError('a TXT \\# 0')).toBe('test.zone:2: TXT: generic RDATA is not valid: no character-string');
    expect(await rdataError('a TXT \\# 2 0561')).toBe(
      'test.zone:2: TXT: generic RDATA is not valid: RDATA of 2 octets is too short',
    );
    expect(await rdataError('a CAA \\# 4 00012161')).toBe(
      'test.zone:2: CAA: generic RDATA is not valid: CAA tag must be letters and digits',
    );
    expect(await rdataError('a DS \\# 5 0001080201')).toBe(
      'test.zone:2: DS: generic RDATA is not valid: digest type 2 needs 32 octets, not 1',
    );
  });

  it('rejects a bad length or bad hex', async () => {
    expect(await rdataError('a TYPE65280 \\# 2 0a')).toBe(
      'test.zone:2: TYPE65280: generic RDATA has 1 octet, its length says 2',
    );
    expect(await rdataError('a TYPE65280 \\# 1 0g')).toBe(
      'test.zone:2: TYPE65280: generic RDATA is not hexadecimal octets',
    );
    expect(await rdataError('a TYPE65280 \\# x')).toBe(
      'test.zone:2: TYPE65280: generic RDATA length must be an integer 0..65535, not "x"',
    );
    expect(await rdataError('a TYPE65280 \\# 1')).toBe('test.zone:2: TYPE65280: missing generic RDATA hex');
  });

  it('leaves a quoted "\\#" to TXT as text', async () => {
    expect(await rdataHex('a TXT "\\#" 1')).toBe('012301' + '31');
  });
});

describe('rdataTarget', () => {
  it('gives the followed name of CNAME, DNAME, NS, MX and SRV as a lower-case key', async () => {
    const r = await parse(
      '$TTL 1\na CNAME WWW\nb DNAME Other.NET.\nc NS ns1\nd MX 1 Mail\ne SRV 1 2 3 Sip\nf PTR x\ng A 192.0.2.1\n',
    );
    expect(r.records.map((x) => rdataTarget(x.type, x.rdata))).toEqual([
      key('www'),
      key('other.net.'),
      key('ns1'),
      key('mail'),
      key('sip'),
      undefined,
      undefined,
    ]);
  });

  it('fills RRset.targets in RR order', async () => {
    const r = await parse(`${HEAD}@ MX 10 b\n@ MX 20 a\nb A 192.0.2.3\na A 192.0.2.4\n`);
    const built = buildZone(ORIGIN_KEY, 'test.zone', r.records);
    if (built.kind !== 'zone') throw new Error('zone expected');
    expect(built.zone.nodes.get(ORIGIN_KEY)!.rrsets.get(Type.MX)!.targets).toEqual([key('b'), key('a')]);
    expect(built.zone.nodes.get(ORIGIN_KEY)!.rrsets.get(Type.NS)!.targets).toEqual([key('ns1'), key('ns2')]);
  });
});

describe('toWireName', () => {
  it('gives the same bytes and errors as parseName', () => {
    const names = [
      'a',
      'ab',
      'www',
      'www.',
      'a.b.c',
      'A.B.C.',
      '@',
      '.',
      '*.wild',
      'x\\.y',
      '\\065b',
      'é',
      'a..b',
      '.a',
      'a.',
      `${'x'.repeat(63)}`,
      `${'x'.repeat(64)}`,
      `${'a.'.repeat(120)}`,
      `${'a.'.repeat(130)}`,
      `${'abc.'.repeat(60)}b`,
    ];
    for (const n of names) {
      const outcome = (f: () => Buffer) => {
        try {
          return f().toString('hex');
        } catch (e) {
          return `${(e as NameError).constructor.name}: ${(e as Error).message}`;
        }
      };
      expect(
        outcome(() => toWireName(n, ORIGIN)),
        n,
      ).toBe(outcome(() => parseName(n, ORIGIN)));
    }
  });
});

describe('wire cross-check with dns2', () => {
  it('decodes our RRs to the values written in the zone', async () => {
    const r = await parse(`$TTL 300
a A 192.0.2.1
a AAAA 2001:db8::1
a MX 10 mail.example.com.
a NS ns1.example.com.
a CNAME www.example.com.
a PTR host.example.net.
a TXT "hello" "world"
a SRV 1 2 5060 sip.example.com.
a CAA 0 issue "ca.example.net"
@ SOA ns1 hostmaster 2024 7200 900 1209600 300
`);
    expect(r.errors).toEqual([]);
    const decoded = r.records.map((rec) => {
      // One answer RR: header (ANCOUNT 1), owner, then TYPE CLASS TTL RDLENGTH RDATA.
      const rr = Buffer.alloc(10 + rec.rdata.length);
      rr.writeUInt16BE(rec.type, 0);
      rr.writeUInt16BE(1, 2);
      rr.writeUInt32BE(rec.ttl, 4);
      rr.writeUInt16BE(rec.rdata.length, 8);
      rec.rdata.copy(rr, 10);
      const header = Buffer.from([0, 1, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0]);
      const answer = Packet.parse(Buffer.concat([header, rec.owner, rr])).answers[0] as unknown as Record<
        string,
        unknown
      >;
      expect(answer.name).toBe(rec.type === Type.SOA ? 'example.com' : 'a.example.com');
      expect(answer.ttl).toBe(300);
      return answer;
    });
    expect(decoded[0]).toMatchObject({ type: 1, address: '192.0.2.1' });
    expect(decoded[1]).toMatchObject({ type: 28, address: '2001:db8::1' });
    expect(decoded[2]).toMatchObject({ type: 15, priority: 10, exchange: 'mail.example.com' });
    expect(decoded[3]).toMatchObject({ type: 2, ns: 'ns1.example.com' });
    expect(decoded[4]).toMatchObject({ type: 5, domain: 'www.example.com' });
    expect(decoded[5]).toMatchObject({ type: 12, domain: 'host.example.net' });
    expect(decoded[6]).toMatchObject({ type: 16 });
    expect(String(decoded[6]!.data)).toContain('hello');
    expect(decoded[7]).toMatchObject({ type: 33, priority: 1, weight: 2, port: 5060, target: 'sip.example.com' });
    expect(decoded[8]).toMatchObject({ type: 257, flags: 0, tag: 'issue', value: 'ca.example.net' });
    expect(decoded[9]).toMatchObject({
      type: 6,
      primary: 'ns1.example.com',
      admin: 'hostmaster.example.com',
      serial: 2024,
      refresh: 7200,
      retry: 900,
      expiration: 1209600,
      minimum: 300,
    });
  });
});
