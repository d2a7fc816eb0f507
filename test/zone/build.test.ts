import { describe, it, expect } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import type { BuildResult } from '../../src/2-zone/build.ts';
import type { Zone } from '../../src/2-zone/types.ts';
import { build, HEAD, key, ORIGIN_KEY } from './helpers.ts';

function zoneOf(r: BuildResult): Zone {
  if (r.kind !== 'zone') throw new Error(`zone expected, got ${r.errors.map((e) => e.message).join('; ')}`);
  return r.zone;
}
const errors = (r: BuildResult) => (r.kind === 'invalid' ? r.errors.map((e) => e.message) : []);
const warnings = (r: BuildResult) => r.warnings.map((w) => w.message);
// HEAD takes lines 1-6; the records of each test start on line 7.

describe('buildZone: RRsets', () => {
  it('builds a zone with its serial, SOA and record count', async () => {
    const r = await build(HEAD);
    const z = zoneOf(r);
    expect(z.origin).toBe(ORIGIN_KEY);
    expect(z.serial).toBe(1);
    expect(z.soa.type).toBe(Type.SOA);
    expect(z.file).toBe('test.zone');
    expect(r.kind === 'zone' && r.records).toBe(5);
    expect([...z.nodes.keys()].sort()).toEqual([ORIGIN_KEY, key('ns1'), key('ns2')].sort());
  });

  it('pre-encodes each RR as TYPE CLASS TTL RDLENGTH RDATA', async () => {
    const z = zoneOf(await build(`${HEAD}www 300 A 192.0.2.10\nwww 300 A 192.0.2.11\n`));
    const set = z.nodes.get(key('www'))!.rrsets.get(Type.A)!;
    expect(set.owner).toBe(key('www'));
    expect(set.ttl).toBe(300);
    expect(set.rdata.map((b) => b.toString('hex'))).toEqual(['c000020a', 'c000020b']);
    expect(set.wire.map((b) => b.toString('hex'))).toEqual([
      '000100010000012c0004c000020a',
      '000100010000012c0004c000020b',
    ]);
    expect(set.targets).toEqual([]);
  });

  it('merges identical RRs silently, names in RDATA compared without case (RFC 2181 §5)', async () => {
    const r = await build(`${HEAD}www A 192.0.2.10\nwww A 192.0.2.10\n@ NS NS1.example.com.\nt TXT "A"\nt TXT "a"\n`);
    const z = zoneOf(r);
    expect(z.nodes.get(key('www'))!.rrsets.get(Type.A)!.rdata).toHaveLength(1);
    expect(z.nodes.get(ORIGIN_KEY)!.rrsets.get(Type.NS)!.rdata).toHaveLength(2);
    expect(z.nodes.get(key('t'))!.rrsets.get(Type.TXT)!.rdata).toHaveLength(2);
    expect(warnings(r)).toEqual([]);
  });

  it('merges duplicates in large RRsets too', async () => {
    const lines = Array.from({ length: 40 }, (_, i) => `big A 192.0.2.${i % 20}`).join('\n');
    const z = zoneOf(await build(`${HEAD}${lines}\n`));
    expect(z.nodes.get(key('big'))!.rrsets.get(Type.A)!.rdata).toHaveLength(20);
  });

  it('gives an RRset the TTL of its first RR and warns once about the others (RFC 2181 §5.2)', async () => {
    const r = await build(`${HEAD}www 300 A 192.0.2.10\nwww 60 A 192.0.2.11\nwww 30 A 192.0.2.12\n`);
    const set = zoneOf(r).nodes.get(key('www'))!.rrsets.get(Type.A)!;
    expect(set.ttl).toBe(300);
    expect(set.wire.every((w) => w.readUInt32BE(4) === 300)).toBe(true);
    expect(warnings(r)).toEqual([
      'test.zone:8: TTL 60 differs from 300, the TTL of the first record of this RRset; using 300 for all (RFC 2181 §5.2)',
    ]);
  });
});

describe('buildZone: names', () => {
  it('adds every empty non-terminal between a name and the origin', async () => {
    const z = zoneOf(await build(`${HEAD}a.b.c TXT "x"\n*.wild A 192.0.2.9\n`));
    for (const ent of ['b.c', 'c', 'wild']) {
      expect(z.nodes.get(key(ent)), ent).toEqual({ name: key(ent), rrsets: new Map() });
    }
    expect(z.nodes.get(key('a.b.c'))!.rrsets.size).toBe(1);
    expect(z.nodes.has(key('*.wild'))).toBe(true);
    expect(z.nodes.has(key('com.'))).toBe(false);
    expect(z.nodes.size).toBe(3 + 1 + 3 + 1);
  });

  it('rejects data outside the zone', async () => {
    expect(errors(await build(`${HEAD}other.net. A 192.0.2.1\nexample.com.evil. A 192.0.2.1\n`))).toEqual([
      'test.zone:7: other.net. is outside the zone example.com.',
      'test.zone:8: example.com.evil. is outside the zone example.com.',
    ]);
  });
});

describe('buildZone: SOA and apex NS', () => {
  it('requires an SOA at the apex', async () => {
    expect(errors(await build('$TTL 1\n@ NS ns1\nns1 A 192.0.2.1\n'))).toEqual([
      'test.zone: no SOA record at the zone apex example.com.',
    ]);
  });

  it('rejects an SOA below the apex and a second SOA', async () => {
    expect(errors(await build(`${HEAD}sub SOA ns1 h 1 2 3 4 5\n@ SOA ns1 h 2 2 3 4 5\n`))).toEqual([
      'test.zone:7: SOA at sub.example.com.: only the zone apex example.com. may have one',
      'test.zone:8: a second SOA record at the apex: a zone has exactly one',
    ]);
  });

  it('merges an SOA written twice identically', async () => {
    expect(errors(await build(`${HEAD}@ SOA ns1 hostmaster 1 7200 900 1209600 300\n`))).toEqual([]);
  });

  it('requires NS records at the apex', async () => {
    expect(errors(await build('$TTL 1\n@ SOA ns1 h 1 2 3 4 5\nns1 A 192.0.2.1\n'))).toEqual([
      'test.zone: no NS records at the zone apex example.com.',
    ]);
  });
});

describe('buildZone: CNAME and DNAME', () => {
  it('rejects a CNAME beside other data, at the line of whichever came second', async () => {
    expect(errors(await build(`${HEAD}a CNAME www\na A 192.0.2.1\nb A 192.0.2.1\nb CNAME www\n`))).toEqual([
      'test.zone:8: a.example.com. has a CNAME and other data (CNAME at test.zone:7); RFC 2181 §10.1 allows nothing beside a CNAME',
      'test.zone:10: b.example.com. has a CNAME and other data (A at test.zone:9); RFC 2181 §10.1 allows nothing beside a CNAME',
    ]);
  });

  it('allows DNSSEC records beside a CNAME (RFC 4035 §2.5)', async () => {
    expect(errors(await build(`${HEAD}a CNAME www\na RRSIG \\# 0\na NSEC \\# 0\n`))).toEqual([]);
  });

  it('rejects two CNAMEs at one name and a CNAME at the apex', async () => {
    expect(errors(await build(`${HEAD}a CNAME www\na CNAME mail\n@ CNAME www\n`))).toEqual([
      'test.zone:8: more than one CNAME at a.example.com. (RFC 1034 §3.6.2)',
      'test.zone:9: CNAME at the zone apex, which has SOA and NS records (RFC 1034 §3.6.2)',
    ]);
  });

  it('lists DNAME owners, warns about data below them, and rejects two DNAMEs at one name', async () => {
    const r = await build(`${HEAD}old DNAME example.net.\nx.old A 192.0.2.1\n`);
    expect(zoneOf(r).dnames).toEqual(new Set([key('old')]));
    expect(warnings(r)).toEqual([
      'test.zone:8: A at x.old.example.com. is not served: it is below the DNAME at old.example.com. (RFC 6672 §2.3)',
    ]);
    expect(errors(await build(`${HEAD}old DNAME example.net.\nold DNAME example.org.\n`))).toEqual([
      'test.zone:8: more than one DNAME at old.example.com. (RFC 6672 §2.4)',
    ]);
  });

  it('warns about an MX or SRV target that is an alias (RFC 2181 §10.3)', async () => {
    const r = await build(`${HEAD}@ MX 10 mail\nmail CNAME www\n_x._tcp SRV 0 0 1 mail\n`);
    expect(warnings(r)).toEqual([
      'test.zone:7: MX target mail.example.com. is an alias (CNAME); RFC 2181 §10.3 forbids that',
      'test.zone:9: SRV target mail.example.com. is an alias (CNAME); RFC 2181 §10.3 forbids that',
    ]);
  });
});

describe('buildZone: delegations and glue', () => {
  it('lists delegation points and keeps glue without warnings', async () => {
    const r = await build(
      `${HEAD}sub NS ns1.sub\nsub NS ns.example.net.\nsub DS 1 13 2 ${'00'.repeat(32)}\nns1.sub A 192.0.2.53\n`,
    );
    expect(zoneOf(r).cuts).toEqual(new Set([key('sub')]));
    expect(warnings(r)).toEqual([]);
  });

  it('warns about data below a cut or at it that will never be served, and ignores nested cuts', async () => {
    const r = await build(
      `${HEAD}sub NS ns.example.net.\nsub MX 1 mail\nx.sub TXT "hidden"\ndeep.sub NS ns.example.net.\nns.x.sub AAAA 2001:db8::1\n`,
    );
    expect(zoneOf(r).cuts).toEqual(new Set([key('sub')]));
    expect(warnings(r)).toEqual([
      'test.zone:8: MX at sub.example.com. is not served: the name is a delegation point',
      'test.zone:9: TXT at x.sub.example.com. is not served: it is below the delegation point sub.example.com.',
      'test.zone:10: NS at deep.sub.example.com. is not served: it is below the delegation point sub.example.com.',
    ]);
  });

  it('requires glue for a name server at or below the cut it serves, or below another cut', async () => {
    const r = await build(`${HEAD}sub NS ns1.sub\nsub NS sub\nother NS ns.sub\nok NS ns.ok\nns.ok AAAA 2001:db8::53\n`);
    expect(errors(r)).toEqual([
      'test.zone:7: missing glue: name server ns1.sub.example.com. is at or below the delegation point sub.example.com. and has no A or AAAA record',
      'test.zone:8: missing glue: name server sub.example.com. is at or below the delegation point sub.example.com. and has no A or AAAA record',
      'test.zone:9: missing glue: name server ns.sub.example.com. is at or below the delegation point sub.example.com. and has no A or AAAA record',
    ]);
  });

  it('requires an address for in-zone name servers outside cuts, and no alias', async () => {
    expect(errors(await build(`${HEAD}@ NS ns3\n@ NS ns4\nns4 CNAME ns1\nsub NS ns5\n@ NS ns.example.net.\n`))).toEqual(
      [
        'test.zone:7: name server ns3.example.com. has no A or AAAA record in the zone',
        'test.zone:8: name server ns4.example.com. is an alias (CNAME); RFC 2181 §10.3 forbids that',
        'test.zone:10: name server ns5.example.com. has no A or AAAA record in the zone',
      ],
    );
  });

  it('accepts an in-zone name server whose address comes from a wildcard', async () => {
    expect(errors(await build(`${HEAD}@ NS ns.dyn\n*.dyn A 192.0.2.99\n`))).toEqual([]);
  });

  it('warns about DS records away from a delegation point', async () => {
    const ds = `DS 1 13 2 ${'00'.repeat(32)}`;
    expect(warnings(await build(`${HEAD}@ ${ds}\nhost ${ds}\n`))).toEqual([
      'test.zone:7: DS at the zone apex belongs in the parent zone',
      'test.zone:8: DS at host.example.com., which is not a delegation point',
    ]);
  });
});

it('reports every content error of a zone, in line order', async () => {
  const r = await build('$TTL 1\n@ NS ns1\nwww CNAME a\nwww TXT "x"\nout.example.org. A 192.0.2.1\n');
  expect(errors(r)).toEqual([
    'test.zone: no SOA record at the zone apex example.com.',
    'test.zone:2: name server ns1.example.com. has no A or AAAA record in the zone',
    'test.zone:4: www.example.com. has a CNAME and other data (CNAME at test.zone:3); RFC 2181 §10.1 allows nothing beside a CNAME',
    'test.zone:5: out.example.org. is outside the zone example.com.',
  ]);
});
