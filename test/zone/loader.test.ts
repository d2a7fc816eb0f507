import { describe, it, expect } from 'vitest';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nameToText } from '../../src/0-base/name.ts';
import { GslbError } from '../../src/0-base/errors.ts';
import { originOfFile } from '../../src/2-zone/loader.ts';
import { loadZone, loadZones } from '../../src/4-gslb/load.ts';
import { key, tempDir } from './helpers.ts';

const zoneText = (extra = '') => `$TTL 1h\n@ SOA ns1 hostmaster 7 2h 15m 2w 5m\n  NS ns1\nns1 A 192.0.2.1\n${extra}`;

describe('loadZones', () => {
  it('loads every <origin>.zone file, the origin taken from the file name', async () => {
    const dir = await tempDir({
      'example.com.zone': zoneText(),
      '2.0.192.in-addr.arpa.zone':
        '$TTL 1h\n@ SOA ns1.example.com. h 3 2h 15m 2w 5m\n  NS ns1.example.com.\n1 PTR ns1.example.com.\n',
      'Example.NET.zone': zoneText(),
      'hosts.inc': 'not a zone',
      'notes.txt': 'not a zone',
      'example.org.zone~': 'editor backup',
      '.hidden.zone': 'ignored',
    });
    await mkdir(path.join(dir, 'dir.zone'));
    const r = await loadZones(dir);
    expect(r.failures).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.zones.map((z) => [nameToText(z.origin), z.serial, z.file])).toEqual([
      ['2.0.192.in-addr.arpa.', 3, path.join(dir, '2.0.192.in-addr.arpa.zone')],
      ['example.net.', 7, path.join(dir, 'Example.NET.zone')],
      ['example.com.', 7, path.join(dir, 'example.com.zone')],
    ]);
  });

  it('loads each zone on its own: a broken file fails alone, with all its errors', async () => {
    const dir = await tempDir({
      'good.example.zone': zoneText(),
      'bad.example.zone': zoneText('a A 1.2.3\nb FOO x\n'),
      'worse.example.zone': zoneText('www CNAME a\nwww A 192.0.2.1\n'),
    });
    const r = await loadZones(dir);
    expect(r.zones.map((z) => nameToText(z.origin))).toEqual(['good.example.']);
    expect(r.failures.map((f) => [nameToText(f.origin), f.errors.map((e) => e.message)])).toEqual([
      [
        'bad.example.',
        [
          `${path.join(dir, 'bad.example.zone')}:5: A: "1.2.3" is not a dotted-quad IPv4 address`,
          `${path.join(dir, 'bad.example.zone')}:6: unknown type "FOO" (use TYPEnnn for types without a mnemonic)`,
        ],
      ],
      [
        'worse.example.',
        [
          `${path.join(dir, 'worse.example.zone')}:6: www.worse.example. has a CNAME and other data (CNAME at ${path.join(dir, 'worse.example.zone')}:5); RFC 2181 §10.1 allows nothing beside a CNAME`,
        ],
      ],
    ]);
  });

  it('reports file names that name no zone, or a zone another file already has', async () => {
    const dir = await tempDir({
      'a..b.zone': zoneText(),
      'example.com.zone': zoneText(),
      'EXAMPLE.com.zone': zoneText(),
    });
    const r = await loadZones(dir);
    expect(r.errors.map((e) => e.message)).toEqual([
      `${path.join(dir, 'a..b.zone')}: the file name does not name a zone: empty label in "a..b."`,
      `${path.join(dir, 'example.com.zone')}: ${path.join(dir, 'EXAMPLE.com.zone')} already holds the zone example.com.`,
    ]);
    expect(r.zones).toHaveLength(1);
  });

  it('returns the warnings of loaded zones', async () => {
    const dir = await tempDir({ 'example.com.zone': zoneText('www 60 A 192.0.2.1\nwww 30 A 192.0.2.2\n') });
    const r = await loadZones(dir);
    expect(r.zones).toHaveLength(1);
    expect(r.warnings.map((w) => w.line)).toEqual([6]);
  });

  // More than fit in the arguments of one call: push(...warnings) would throw RangeError.
  it('returns every warning, also of a zone with 150,000 of them', async () => {
    const below = Array.from({ length: 150_000 }, (_, i) => `h${i}.sub TXT x\n`).join('');
    const dir = await tempDir({ 'example.com.zone': zoneText(`sub NS ns.example.net.\n${below}`) });
    const r = await loadZones(dir);
    expect(r.zones).toHaveLength(1);
    expect(r.warnings).toHaveLength(150_000);
  }, 30_000);

  it('adds pool names and their empty non-terminals, and reads a pools file again once it changes', async () => {
    const pool = (name: string, address: string) =>
      `${name}:\n  policy: round-robin\n  targets:\n    - { address: ${address} }\n`;
    const dir = await tempDir({
      'example.com.zone': zoneText(),
      'example.com.pools.yaml': pool('www.gslb', '192.0.2.10'),
    });
    const first = (await loadZones(dir)).zones[0]!;
    expect([...first.pools!.keys()]).toEqual([key('www.gslb')]);
    expect(first.nodes.get(key('gslb'))).toEqual({ name: key('gslb'), rrsets: new Map() });
    expect((await loadZones(dir)).zones[0]!.pools!.get(key('www.gslb'))!.def.targets.map((t) => t.address)).toEqual([
      '192.0.2.10',
    ]);
    await writeFile(path.join(dir, 'example.com.pools.yaml'), pool('www.gslb', '192.0.2.20'));
    expect((await loadZones(dir)).zones[0]!.pools!.get(key('www.gslb'))!.def.targets.map((t) => t.address)).toEqual([
      '192.0.2.20',
    ]);
    await writeFile(path.join(dir, 'example.com.pools.yaml'), pool('ns1', '192.0.2.30'));
    expect((await loadZones(dir)).failures[0]!.errors.map((e) => e.message)).toEqual([
      `${path.join(dir, 'example.com.pools.yaml')}:1: pool ns1: ns1.example.com. also has static A data in ${path.join(dir, 'example.com.zone')}: ` +
        'a name is either a pool or static data',
    ]);
  });

  it('throws ERR_ZONE_IO when the directory cannot be read', async () => {
    const err = await loadZones('/nonexistent/gslbd-zones').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GslbError);
    expect((err as GslbError).code).toBe('ERR_ZONE_IO');
    expect((err as GslbError).message).toMatch(/^\/nonexistent\/gslbd-zones: cannot read the zones directory: ENOENT/);
  });
});

describe('loadZone', () => {
  it('loads the one zone with that origin', async () => {
    const dir = await tempDir({ 'example.com.zone': zoneText(), 'example.net.zone': 'broken' });
    const r = await loadZone(dir, key('@'));
    expect(r?.kind).toBe('zone');
    expect(await loadZone(dir, key('example.org.'))).toBeUndefined();
  });
});

describe('$INCLUDE in the zones directory', () => {
  it('reads files relative to the directory, in subfolders, or by an absolute path inside it', async () => {
    const dir = await tempDir({
      'example.com.zone': zoneText('$INCLUDE hosts.inc\n$INCLUDE inc/more.inc sub\n'),
      'hosts.inc': 'www A 192.0.2.10\n',
      'inc/more.inc': 'x A 192.0.2.11\n',
    });
    await writeFile(path.join(dir, 'example.net.zone'), zoneText(`$INCLUDE ${path.join(dir, 'hosts.inc')}\n`));
    const r = await loadZones(dir);
    expect(r.failures).toEqual([]);
    const com = r.zones.find((z) => z.origin === key('@'))!;
    expect(com.nodes.has(key('www'))).toBe(true);
    expect(com.nodes.has(key('x.sub'))).toBe(true);
    expect(r.zones.find((z) => z.origin === key('example.net.'))!.nodes.has(key('www.example.net.'))).toBe(true);
  });

  it('reports errors in an included file at its own path and line', async () => {
    const dir = await tempDir({
      'example.com.zone': zoneText('$INCLUDE hosts.inc\n'),
      'hosts.inc': 'ok A 192.0.2.1\nbad A 192.0.2\n',
    });
    const r = await loadZones(dir);
    expect(r.failures[0]!.errors.map((e) => e.message)).toEqual([
      `${path.join(dir, 'hosts.inc')}:2: A: "192.0.2" is not a dotted-quad IPv4 address`,
    ]);
  });

  it('rejects paths that leave the directory, by .., absolute path or symbolic link', async () => {
    const outside = await tempDir({ 'secret.inc': 'leak A 192.0.2.66\n' });
    const dir = await tempDir({
      'example.com.zone': zoneText(
        `$INCLUDE ../${path.basename(outside)}/secret.inc\n$INCLUDE ${path.join(outside, 'secret.inc')}\n$INCLUDE link.inc\n$INCLUDE inc/../../x.inc\n`,
      ),
    });
    await symlink(path.join(outside, 'secret.inc'), path.join(dir, 'link.inc'));
    const zone = path.join(dir, 'example.com.zone');
    const r = await loadZones(dir);
    expect(r.failures[0]!.errors.map((e) => [e.code, e.message])).toEqual([
      [
        'ERR_ZONE_SYNTAX',
        `${zone}:5: $INCLUDE ../${path.basename(outside)}/secret.inc: the file is outside the zones directory ${dir}`,
      ],
      [
        'ERR_ZONE_SYNTAX',
        `${zone}:6: $INCLUDE ${path.join(outside, 'secret.inc')}: the file is outside the zones directory ${dir}`,
      ],
      ['ERR_ZONE_SYNTAX', `${zone}:7: $INCLUDE link.inc: a symbolic link leads outside the zones directory ${dir}`],
      ['ERR_ZONE_SYNTAX', `${zone}:8: $INCLUDE inc/../../x.inc: the file is outside the zones directory ${dir}`],
    ]);
  });

  it('rejects include loops, also through a symbolic link', async () => {
    const dir = await tempDir({
      'example.com.zone': zoneText('$INCLUDE a.inc\n'),
      'a.inc': '$INCLUDE b.inc\n',
      'b.inc': '$INCLUDE alias.inc\n',
    });
    await symlink(path.join(dir, 'a.inc'), path.join(dir, 'alias.inc'));
    const r = await loadZones(dir);
    const [a, b] = [path.join(dir, 'a.inc'), path.join(dir, 'b.inc')];
    expect(r.failures[0]!.errors.map((e) => e.message)).toEqual([
      `${b}:1: $INCLUDE loop: ${path.join(dir, 'example.com.zone')} → ${a} → ${b} → ${a}`,
    ]);
  });

  it('reports a missing include file as ERR_ZONE_IO at the $INCLUDE line', async () => {
    const dir = await tempDir({ 'example.com.zone': zoneText('$INCLUDE nope.inc\n') });
    const e = (await loadZones(dir)).failures[0]!.errors[0]!;
    expect(e.code).toBe('ERR_ZONE_IO');
    expect(e.line).toBe(5);
    expect(e.reason).toMatch(/^\$INCLUDE nope\.inc: cannot read: ENOENT/);
  });
});

describe('originOfFile', () => {
  it('maps file names to origins', () => {
    expect(originOfFile('example.com.zone')).toEqual({ origin: key('example.com.') });
    expect(originOfFile('2.0.192.in-addr.arpa.zone')).toEqual({ origin: key('2.0.192.in-addr.arpa.') });
    expect(originOfFile('x..zone')).toEqual({ reason: 'the file name does not name a zone: empty label in "x.."' });
  });
});
