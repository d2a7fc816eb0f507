// zoneDiff (5-answer/zone-diff.ts), the difference an IXFR step carries: over two builds of a zone
// file (a reload: every name compared) and over an update laid on a zone (only the overlay's names
// compared), which must give the same RRs.

import { describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { Type } from '../../src/0-base/constants.ts';
import { makeRRset } from '../../src/1-codec/rrset.ts';
import type { Entry } from '../../src/1-codec/response.ts';
import { applyEdits } from '../../src/2-zone/overlay.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { zoneDiff, type ZoneDiff } from '../../src/5-answer/zone-diff.ts';
import { build, HEAD, key } from './helpers.ts';

async function zone(text: string, serial = 1): Promise<PooledZone> {
  const r = await build(HEAD.replace('hostmaster 1 ', `hostmaster ${serial} `) + text);
  if (r.kind !== 'zone') throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.zone as PooledZone;
}

/** Each RR of a diff as `owner ttl type rdata-hex`, sorted. */
const rrs = (entries: readonly Entry[]) =>
  entries
    .flatMap((e) =>
      (e.pick ?? e.rrset.rdata.map((_, i) => i)).map(
        (i) => `${nameToText(e.owner)} ${e.rrset.ttl} ${e.rrset.type} ${e.rrset.rdata[i]!.toString('hex')}`,
      ),
    )
    .sort();
const shown = (d: ZoneDiff) => ({ deleted: rrs(d.deleted), added: rrs(d.added) });

const BEFORE = [
  'www A 192.0.2.10',
  'www A 192.0.2.11',
  'mail 300 A 192.0.2.25',
  'old TXT "gone"',
  'same MX 10 mail',
  '',
].join('\n');
const AFTER = [
  'www A 192.0.2.10',
  'www A 192.0.2.12',
  'mail 60 A 192.0.2.25',
  'new TXT "here"',
  'same MX 10 mail',
  '',
].join('\n');
const EXPECTED = {
  deleted: [
    'mail.example.com. 300 1 c0000219',
    'old.example.com. 3600 16 04676f6e65',
    'www.example.com. 3600 1 c000020b',
  ],
  added: ['mail.example.com. 60 1 c0000219', 'new.example.com. 3600 16 0468657265', 'www.example.com. 3600 1 c000020c'],
};

describe('zoneDiff', () => {
  it('gives the RRs deleted and added between two builds, a TTL change as both, the SOA left out', async () => {
    const d = zoneDiff(await zone(BEFORE), [], await zone(AFTER, 2), []);
    expect(shown(d)).toEqual(EXPECTED);
    expect(d.bytes).toBeGreaterThan(0);
  });

  it('gives the same RRs for an update laid over the zone as for the zone rebuilt', async () => {
    const base = await zone(BEFORE);
    const edits = new Map(
      [
        { name: 'www.example.com.', type: Type.A, ttl: 3600, rdata: ['c000020a', 'c000020c'] },
        { name: 'mail.example.com.', type: Type.A, ttl: 60, rdata: ['c0000219'] },
        { name: 'old.example.com.', type: Type.TXT, ttl: 3600, rdata: [] },
        { name: 'new.example.com.', type: Type.TXT, ttl: 3600, rdata: ['0468657265'] },
      ].map((e) => [`${e.name}|${e.type}`, e]),
    );
    const updated = applyEdits(base, edits);
    const second = applyEdits(
      updated,
      new Map([['x.example.com.|16', { name: 'x.example.com.', type: Type.TXT, ttl: 5, rdata: ['0178'] }]]),
    );
    expect(shown(zoneDiff(base, [], updated, []))).toEqual(shown(zoneDiff(base, [], await zone(AFTER, 2), [])));
    // Two overlays on one base: only the second's change.
    expect(shown(zoneDiff(updated, [], second, []))).toEqual({ deleted: [], added: ['x.example.com. 5 16 0178'] });
    expect(zoneDiff(base, [], base, [])).toEqual({ deleted: [], added: [], bytes: 0 });
  });

  it('compares the pools as transferred at each serial', async () => {
    const z = await zone(BEFORE);
    const pool = (addresses: string[]): Entry[] => [
      {
        owner: key('web'),
        rrset: makeRRset(
          key('web'),
          Type.A,
          20,
          addresses.map((a) => Buffer.from(a, 'hex')),
        ),
      },
    ];
    const d = zoneDiff(z, pool(['7f000001', '7f000002']), z, pool(['7f000001']));
    expect(shown(d)).toEqual({ deleted: ['web.example.com. 20 1 7f000002'], added: [] });
    expect(shown(zoneDiff(z, pool(['7f000001']), z, []))).toEqual({
      deleted: ['web.example.com. 20 1 7f000001'],
      added: [],
    });
  });
});
