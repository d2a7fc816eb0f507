import { describe, it, expect } from 'vitest';
import { nameToText, parseName } from '../../src/0-base/name.ts';
import { GslbError } from '../../src/0-base/errors.ts';
import { MAX_ERRORS, parseZone, type IncludeReader } from '../../src/2-zone/parser.ts';
import { errorsOf, parse } from './helpers.ts';

/** [owner, type, ttl] of each record. */
async function summary(text: string): Promise<[string, number, number][]> {
  const r = await parse(text);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return r.records.map((x) => [nameToText(x.owner), x.type, x.ttl]);
}

describe('parseZone: names', () => {
  it('completes relative names with the origin, and @ is the origin', async () => {
    expect(await summary('$TTL 1\n@ A 192.0.2.1\nwww A 192.0.2.1\nabs.example.net. A 192.0.2.1\n')).toEqual([
      ['example.com.', 1, 1],
      ['www.example.com.', 1, 1],
      ['abs.example.net.', 1, 1],
    ]);
  });

  it('changes the origin with $ORIGIN, absolute or relative to the current one', async () => {
    const text = '$TTL 1\n$ORIGIN sub.example.com.\na A 192.0.2.1\n$ORIGIN deeper\nb A 192.0.2.1\n@ A 192.0.2.1\n';
    expect((await summary(text)).map((r) => r[0])).toEqual([
      'a.sub.example.com.',
      'b.deeper.sub.example.com.',
      'deeper.sub.example.com.',
    ]);
  });

  it('completes names inside RDATA with the current origin, keeping their case', async () => {
    const r = await parse('$TTL 1\n$ORIGIN Example.NET.\nWWW CNAME Target\n');
    expect(nameToText(r.records[0]!.owner)).toBe('WWW.Example.NET.');
    expect(nameToText(r.records[0]!.rdata)).toBe('Target.Example.NET.');
  });

  it('repeats the previous owner for a line starting with a blank, across $ORIGIN', async () => {
    const text = '$TTL 1\nwww A 192.0.2.1\n  AAAA 2001:db8::1\n$ORIGIN example.net.\n\tTXT "x"\n';
    expect((await summary(text)).map((r) => r[0])).toEqual([
      'www.example.com.',
      'www.example.com.',
      'www.example.com.',
    ]);
  });

  it('decodes escapes in owner names', async () => {
    const r = await parse('$TTL 1\na\\.b A 192.0.2.1\n\\065bc A 192.0.2.1\n');
    expect(r.records.map((x) => x.owner.toString('latin1'))).toEqual([
      '\x03a.b\x07example\x03com\x00',
      '\x03Abc\x07example\x03com\x00',
    ]);
  });

  it('rejects a first record with no owner, and bad owner names, at their lines', async () => {
    expect(await errorsOf('$TTL 1\n  A 192.0.2.1\n')).toEqual([
      'test.zone:2: no owner name, and no earlier record to take it from',
    ]);
    expect(await errorsOf('$TTL 1\na..b A 192.0.2.1\n')).toEqual(['test.zone:2: owner name: empty label in "a..b"']);
    expect((await errorsOf(`$TTL 1\n${'x'.repeat(64)} A 192.0.2.1\n`))[0]).toMatch(
      /^test\.zone:2: owner name: label longer than 63/,
    );
  });
});

describe('parseZone: TTL', () => {
  it('uses $TTL for records without a TTL, and a record TTL when given', async () => {
    expect(await summary('$TTL 1h\na A 192.0.2.1\nb 60 A 192.0.2.1\nc A 192.0.2.1\n')).toEqual([
      ['a.example.com.', 1, 3600],
      ['b.example.com.', 1, 60],
      ['c.example.com.', 1, 3600],
    ]);
  });

  it('without $TTL takes the previous record TTL (RFC 1035 §5.1)', async () => {
    expect(
      (await summary('a 300 A 192.0.2.1\nb A 192.0.2.1\nc 5 A 192.0.2.1\nd A 192.0.2.1\n')).map((r) => r[2]),
    ).toEqual([300, 300, 5, 5]);
  });

  it('without any TTL gives the SOA its MINIMUM, which then serves as $TTL, with a warning', async () => {
    const r = await parse('@ SOA ns h 1 2 3 4 1h\na A 192.0.2.1\nb 10 A 192.0.2.1\nc A 192.0.2.1\n');
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.ttl)).toEqual([3600, 3600, 10, 3600]);
    expect(r.warnings.map((w) => w.message)).toEqual([
      'test.zone:1: no TTL given and no $TTL: using the SOA MINIMUM 3600',
    ]);
  });

  it('rejects a record other than SOA that has no TTL to take', async () => {
    expect(await errorsOf('a A 192.0.2.1\n')).toEqual(['test.zone:1: no TTL given and no $TTL or earlier TTL to use']);
  });

  it('reads TTL units in record TTLs and $TTL, case-insensitively', async () => {
    expect(
      (await summary('$TTL 1H30M\na A 192.0.2.1\nb 2w A 192.0.2.1\nc 1d IN A 192.0.2.1\n')).map((r) => r[2]),
    ).toEqual([5400, 1209600, 86400]);
  });

  it('rejects TTLs above 2^31-1 and malformed ones', async () => {
    expect(await errorsOf('a 2147483648 A 192.0.2.1\n')).toEqual([
      'test.zone:1: "2147483648" is not a TTL (seconds or units like 1h30m, at most 2147483647)',
    ]);
    expect(await errorsOf('$TTL 1h30\n')).toEqual([
      'test.zone:1: $TTL "1h30" is not a TTL (seconds or units like 1h30m, at most 2147483647)',
    ]);
    expect(await summary('a 2147483647 A 192.0.2.1\n')).toEqual([['a.example.com.', 1, 2147483647]]);
  });
});

describe('parseZone: class', () => {
  it('accepts IN or no class, and TTL and class in either order', async () => {
    expect(
      await summary(
        'a 60 IN A 192.0.2.1\nb IN 61 A 192.0.2.1\nc in 62 A 192.0.2.1\nd CLASS1 63 A 192.0.2.1\ne 64 A 192.0.2.1\n',
      ),
    ).toEqual([
      ['a.example.com.', 1, 60],
      ['b.example.com.', 1, 61],
      ['c.example.com.', 1, 62],
      ['d.example.com.', 1, 63],
      ['e.example.com.', 1, 64],
    ]);
  });

  it('rejects every class but IN', async () => {
    expect(
      await errorsOf('$TTL 1\na CH A 192.0.2.1\nb HS A 192.0.2.1\nc CLASS3 A 192.0.2.1\nd 60 CS A 192.0.2.1\n'),
    ).toEqual([
      'test.zone:2: class CH is not supported: only IN',
      'test.zone:3: class HS is not supported: only IN',
      'test.zone:4: class CLASS3 is not supported: only IN',
      'test.zone:5: class CS is not supported: only IN',
    ]);
  });

  it('rejects a class or TTL given twice', async () => {
    expect(await errorsOf('a IN IN A 192.0.2.1\nb 1 2 A 192.0.2.1\n')).toEqual([
      'test.zone:1: class given twice ("IN")',
      'test.zone:2: TTL given twice ("2")',
    ]);
  });
});

describe('parseZone: syntax', () => {
  it('reads a record spanning lines in parentheses, with comments, as one record at its first line', async () => {
    const r = await parse(
      '$TTL 1\n@ IN SOA ns1 hostmaster ( ; start\n  2024 ; serial\n  1h 15m\n  1w 5m )\nwww A 192.0.2.1\n',
    );
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => x.line)).toEqual([2, 6]);
    expect(r.records[0]!.rdata.subarray(-20).toString('hex')).toBe('000007e800000e100000038400093a800000012c');
  });

  it('reports an error in a later line of a multi-line record at that line', async () => {
    expect(await errorsOf('$TTL 1\n@ SOA ns1 hostmaster (\n  2024\n  1x 15m 1w 5m )\n')).toEqual([
      'test.zone:4: SOA: refresh "1x" is not a TTL value',
    ]);
  });

  it('does not treat ";" inside quotes or escaped as a comment', async () => {
    const r = await parse('$TTL 1\na TXT "x;y" a\\;b ; real comment\n');
    expect(r.records[0]!.rdata.toString('latin1')).toBe('\x03x;y\x03a;b');
  });

  it('collects every error of a file and keeps the good records', async () => {
    const r = await parse('$TTL 1\na A 192.0.2.1\nb A 300.1.1.1\nc A 192.0.2.3\nd FOO x\ne TXT "open\nf A 192.0.2.6\n');
    expect(r.records.map((x) => nameToText(x.owner))).toEqual(['a.example.com.', 'c.example.com.', 'f.example.com.']);
    expect(r.errors.map((e) => [e.code, e.line])).toEqual([
      ['ERR_ZONE_SYNTAX', 3],
      ['ERR_ZONE_SYNTAX', 5],
      ['ERR_ZONE_SYNTAX', 6],
    ]);
    expect(r.errors.map((e) => e.message)).toEqual([
      'test.zone:3: A: "300.1.1.1" is not a dotted-quad IPv4 address',
      'test.zone:5: unknown type "FOO" (use TYPEnnn for types without a mnemonic)',
      'test.zone:6: quoted string is not closed on its line',
    ]);
  });

  it('stops after MAX_ERRORS errors', async () => {
    const r = await parse('$TTL 1\n' + 'a A x\n'.repeat(MAX_ERRORS + 50));
    expect(r.errors).toHaveLength(MAX_ERRORS + 1);
    expect(r.errors.at(-1)!.message).toBe(
      `test.zone:${MAX_ERRORS + 2}: more than ${MAX_ERRORS} errors: stopped reading`,
    );
  });

  it('reports unbalanced parentheses', async () => {
    expect(await errorsOf('$TTL 1\na A 192.0.2.1 )\nb SOA ns h ( 1 2 3 4 5\nc A 192.0.2.1\n')).toEqual([
      'test.zone:2: unbalanced ")"',
      'test.zone:3: "(" is never closed',
    ]);
  });

  it('reports a missing type, unknown directives and directive arguments', async () => {
    expect(await errorsOf('$TTL 1\na 60 IN\n$GENERATE 1-2 a$ A 192.0.2.$\n$FOO\n$ORIGIN\n$TTL 1 2\n')).toEqual([
      'test.zone:2: missing type',
      'test.zone:3: $GENERATE is not supported',
      'test.zone:4: $FOO is not a directive (RFC 1035 §5.1: $ORIGIN, $INCLUDE, $TTL)',
      'test.zone:5: $ORIGIN needs an argument',
      'test.zone:6: unexpected "2" after $TTL 1',
    ]);
  });
});

describe('parseZone: types', () => {
  it('reads RFC 3597 TYPEnnn with generic RDATA, and known types by number', async () => {
    const r = await parse('$TTL 1\na TYPE65534 \\# 3 0a0B0c\nb TYPE1 192.0.2.1\nc type16 "x"\nd TYPE65534 \\# 0\n');
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [x.type, x.rdata.toString('hex')])).toEqual([
      [65534, '0a0b0c'],
      [1, 'c0000201'],
      [16, '0178'],
      [65534, ''],
    ]);
  });

  it('rejects unknown mnemonics, text RDATA for types it has no format for, and meta-types', async () => {
    expect(
      await errorsOf(
        '$TTL 1\na SPF "v=spf1"\nb TYPE65534 01\nc IN ANY \\# 0\nd TYPE252 \\# 0\ne OPT \\# 0\nf TSIG \\# 0\ng TYPE0 \\# 0\n',
      ),
    ).toEqual([
      'test.zone:2: unknown type "SPF" (use TYPEnnn for types without a mnemonic)',
      'test.zone:3: TYPE65534: this type can only be written in RFC 3597 form: \\# <length> <hex>',
      'test.zone:4: ANY is a reserved or meta-type and cannot be in a zone (RFC 6895 §3.1)',
      'test.zone:5: TYPE252 is a reserved or meta-type and cannot be in a zone (RFC 6895 §3.1)',
      'test.zone:6: OPT is a reserved or meta-type and cannot be in a zone (RFC 6895 §3.1)',
      'test.zone:7: TSIG is a reserved or meta-type and cannot be in a zone (RFC 6895 §3.1)',
      'test.zone:8: TYPE0 is a reserved or meta-type and cannot be in a zone (RFC 6895 §3.1)',
    ]);
  });
});

describe('parseZone: $INCLUDE', () => {
  const files: Record<string, string> = {
    'hosts.inc': 'h1 A 192.0.2.1\n  AAAA 2001:db8::1\n$ORIGIN other.example.com.\nh2 A 192.0.2.2\n',
    'sub.inc': 'x A 192.0.2.9\n',
    'loop-a.inc': '$INCLUDE loop-b.inc\n',
    'loop-b.inc': 'ok A 192.0.2.1\n$INCLUDE loop-a.inc\n',
    'self.inc': '$INCLUDE self.inc\n',
  };
  const reader: IncludeReader = (target) => {
    const text = files[target];
    if (text === undefined) throw new GslbError('ERR_ZONE_IO', 'no such file');
    return { file: target, text };
  };
  const run = (text: string) => parseZone(text, 'main.zone', parseName('example.com.', null), { include: reader });

  it('reads the included records in place, with their own file and line', async () => {
    const r = await run('$TTL 1\nfirst A 192.0.2.1\n$INCLUDE hosts.inc\nlast A 192.0.2.1\n');
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => [nameToText(x.owner), x.file, x.line])).toEqual([
      ['first.example.com.', 'main.zone', 2],
      ['h1.example.com.', 'hosts.inc', 1],
      ['h1.example.com.', 'hosts.inc', 2],
      ['h2.other.example.com.', 'hosts.inc', 4],
      ['last.example.com.', 'main.zone', 4],
    ]);
  });

  it('uses the origin given on the $INCLUDE line, and restores origin and owner afterwards', async () => {
    const r = await run('$TTL 1\nown A 192.0.2.1\n$INCLUDE sub.inc sub\n  TXT "same owner"\nrel A 192.0.2.1\n');
    expect(r.errors).toEqual([]);
    expect(r.records.map((x) => nameToText(x.owner))).toEqual([
      'own.example.com.',
      'x.sub.example.com.',
      'own.example.com.',
      'rel.example.com.',
    ]);
  });

  it('rejects include loops at the $INCLUDE line that closes them', async () => {
    const r = await run('$TTL 1\n$INCLUDE loop-a.inc\n$INCLUDE self.inc\n');
    expect(r.errors.map((e) => e.message)).toEqual([
      'loop-b.inc:2: $INCLUDE loop: main.zone → loop-a.inc → loop-b.inc → loop-a.inc',
      'self.inc:1: $INCLUDE loop: main.zone → self.inc → self.inc',
    ]);
    expect(r.records).toHaveLength(1);
  });

  it('reports a file the reader refuses at the $INCLUDE line, with the reader error code', async () => {
    const r = await run('$TTL 1\n\n$INCLUDE missing.inc\n');
    expect(r.errors.map((e) => [e.code, e.message])).toEqual([
      ['ERR_ZONE_IO', 'main.zone:3: $INCLUDE missing.inc: no such file'],
    ]);
  });

  it('is an error without an include reader', async () => {
    expect(await errorsOf('$INCLUDE x.inc\n')).toEqual(['test.zone:1: $INCLUDE is not allowed here']);
  });

  it('rejects $INCLUDE with no file or too many arguments', async () => {
    const r = await run('$INCLUDE\n$INCLUDE sub.inc sub extra\n');
    expect(r.errors.map((e) => e.message)).toEqual([
      'main.zone:1: $INCLUDE needs a file name',
      'main.zone:2: unexpected "extra" after $INCLUDE sub.inc sub',
    ]);
  });
});
