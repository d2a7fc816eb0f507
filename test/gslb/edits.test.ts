// Pool membership edited at run time: the one set of rules the API and RFC 2136 UPDATE share.

import { describe, expect, it } from 'vitest';
import { editPool, groupProblem, PoolMembers } from '../../src/4-gslb/edits.ts';
import { parsePoolsFile } from '../../src/4-gslb/pools-file.ts';
import { ORIGIN } from '../zone/helpers.ts';

function pool(text: string) {
  const r = parsePoolsFile(text, 'example.com.pools.yaml', ORIGIN);
  expect(r.errors.map((e) => e.message)).toEqual([]);
  return r.pools[0]!;
}

const WEB = pool('web:\n  policy: weighted\n  targets: [{ address: 192.0.2.1 }, { address: "2001:db8::1" }]\n');
const DC = pool(
  'dc:\n  policy: failover\n  groups:\n    ams: { targets: [{ address: 192.0.2.1 }] }\n    nyc: { targets: [{ address: 192.0.2.2 }] }\n',
);

describe('groupProblem', () => {
  it('asks a pool with groups to name one of them, and a pool without to name none', () => {
    expect(groupProblem(DC, 'ams')).toBeUndefined();
    expect(groupProblem(WEB, undefined)).toBeUndefined();
    expect(groupProblem(DC, undefined)).toBe('pool dc has groups: name one of ams, nyc');
    expect(groupProblem(DC, 'sfo')).toBe('"sfo" is not a group of pool dc (ams, nyc)');
    expect(groupProblem(WEB, 'ams')).toBe('pool web has no groups');
  });
});

describe('PoolMembers', () => {
  it('starts from the pool file and tracks members by address, with their family', () => {
    const m = new PoolMembers(WEB);
    m.add('198.51.100.7', { weight: 2 });
    m.remove('192.0.2.1');
    expect([...m.members]).toEqual([
      ['2001:db8::1', 6],
      ['198.51.100.7', 4],
    ]);
    expect([...m.changes()]).toEqual([
      ['198.51.100.7', { weight: 2 }],
      ['192.0.2.1', null],
    ]);
  });

  it('counts a target added and removed again as no change, but a file target removed and added back as one', () => {
    const m = new PoolMembers(WEB);
    m.add('198.51.100.7', {});
    m.remove('198.51.100.7');
    m.remove('2001:db8::1');
    m.add('2001:db8::1', { weight: 5 });
    expect([...m.changes()]).toEqual([['2001:db8::1', { weight: 5 }]]);
  });

  it('its changes, laid over the pool by editPool, give the membership it holds', () => {
    const m = new PoolMembers(DC);
    m.add('192.0.2.9', { group: 'nyc', weight: 3 });
    m.remove('192.0.2.1');
    const def = editPool(DC, new Map(m.changes()));
    expect(def.targets.map((t) => [t.address, t.group, t.weight])).toEqual([
      ['192.0.2.2', 1, 1],
      ['192.0.2.9', 1, 3],
    ]);
    expect(new Set(def.targets.map((t) => t.address))).toEqual(new Set(m.members.keys()));
  });
});
