// The generated catalog zone against RFC 9432: SOA, NS invalid. (§4.1), version TXT "2" (§4.2.1),
// one PTR per member at <unique-id>.zones (§4.3), nothing else; each member's id a single label
// that depends on its name only, so it stays the same as other members come and go (§5.1).

import { describe, expect, it } from 'vitest';
import { Type, typeName } from '../../src/0-base/constants.ts';
import { keyFromText, nameToText } from '../../src/0-base/name.ts';
import { catalogZone, memberId } from '../../src/2-zone/catalog.ts';
import type { Zone } from '../../src/2-zone/types.ts';

const CATZ = keyFromText('catalog.gslb.invalid.');
const names = (...t: string[]) => t.map((n) => keyFromText(n));

/** Every RR of the zone as `owner ttl TYPE rdata`, the RDATA read here from its wire form. */
function lines(zone: Zone): string[] {
  const out: string[] = [];
  for (const node of zone.nodes.values())
    for (const set of node.rrsets.values())
      for (const rdata of set.rdata)
        out.push(`${nameToText(node.name)} ${set.ttl} ${typeName(set.type)} ${text(set.type, rdata)}`);
  return out.sort();
}

function text(type: number, rdata: Buffer): string {
  if (type === Type.TXT) return JSON.stringify(rdata.subarray(1, 1 + rdata[0]!).toString());
  if (type !== Type.SOA) return nameToText(rdata);
  const mname = nameToText(rdata);
  const rname = nameToText(rdata.subarray(rdata.length - 20 - (rdata.length - 20) / 2));
  const nums = [0, 1, 2, 3, 4].map((i) => rdata.readUInt32BE(rdata.length - 20 + i * 4));
  return `${mname} ${rname} ${nums.join(' ')}`;
}

describe('catalogZone (RFC 9432)', () => {
  it('holds SOA, NS invalid., version "2" and one PTR per member, all TTL 0, and nothing else', () => {
    const zone = catalogZone(CATZ, 2026120701, names('example.com.', 'gslb.example.com.'), 'gslbd.yaml');
    expect(zone.serial).toBe(2026120701);
    expect(lines(zone)).toEqual(
      [
        'catalog.gslb.invalid. 0 SOA invalid. invalid. 2026120701 3600 600 2147483646 0',
        'catalog.gslb.invalid. 0 NS invalid.',
        'version.catalog.gslb.invalid. 0 TXT "2"',
        `${memberId(keyFromText('example.com.'))}.zones.catalog.gslb.invalid. 0 PTR example.com.`,
        `${memberId(keyFromText('gslb.example.com.'))}.zones.catalog.gslb.invalid. 0 PTR gslb.example.com.`,
      ].sort(),
    );
    // The zones. label exists as an empty non-terminal: a consumer walks the catalog as a zone.
    expect(zone.nodes.get(keyFromText('zones.catalog.gslb.invalid.'))?.rrsets.size).toBe(0);
  });

  it('with no member, is still a valid catalog: SOA, NS and version only', () => {
    expect(lines(catalogZone(CATZ, 1, [], 'gslbd.yaml'))).toEqual([
      'catalog.gslb.invalid. 0 NS invalid.',
      'catalog.gslb.invalid. 0 SOA invalid. invalid. 1 3600 600 2147483646 0',
      'version.catalog.gslb.invalid. 0 TXT "2"',
    ]);
  });

  it('gives each member one label as id, fixed by its name alone (case-insensitive), whatever the other members', () => {
    const id = memberId(keyFromText('example.com.'));
    // Pinned: a changed id would make every consumer reset the zone (RFC 9432 §5.1).
    expect(id).toBe('902e9c464fa43fca'); // printf '\x07example\x03com\x00' | sha256sum
    expect(memberId(keyFromText('Example.COM.'))).toBe(id);
    const ptrOwner = (members: string[]) =>
      lines(catalogZone(CATZ, 1, names(...members), 'x'))
        .find((l) => l.endsWith('PTR example.com.'))!
        .split(' ')[0];
    expect(ptrOwner(['example.com.'])).toBe(`${id}.zones.catalog.gslb.invalid.`);
    expect(ptrOwner(['a.test.', 'example.com.', 'z.test.'])).toBe(`${id}.zones.catalog.gslb.invalid.`);
    const ids = names('a.test.', 'b.test.', 'example.com.', 'example.net.').map(memberId);
    expect(new Set(ids).size).toBe(4);
    for (const i of ids) expect(i).toMatch(/^[0-9a-f]{16}$/);
  });
});
