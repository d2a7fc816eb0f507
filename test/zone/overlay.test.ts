import { describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { resolve } from '../../src/5-answer/resolve.ts';
import { allUp } from '../../src/4-gslb/health-view.ts';
import { applyEdits } from '../../src/2-zone/overlay.ts';
import { ZoneStore } from '../../src/2-zone/store.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import type { Zone } from '../../src/2-zone/types.ts';
import type { RRsetEdits } from '../../src/2-zone/types.ts';
import { build, HEAD, key } from './helpers.ts';

const ctx = {
  client: { address: '192.0.2.99', family: 4 as const, prefix: 32, location: () => null },
  random: () => 0,
  now: () => 0,
};

async function zone(text: string): Promise<Zone> {
  const r = await build(HEAD + text);
  if (r.kind !== 'zone') throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.zone;
}

function edits(...list: { name: string; type: number; ttl?: number; rdata: string[] }[]): RRsetEdits {
  return new Map(
    list.map((e) => [`${e.name}|${e.type}`, { name: e.name, type: e.type, ttl: e.ttl ?? 60, rdata: e.rdata }]),
  );
}

function ask(z: Zone, name: string, type: number) {
  // A zone of this file has no pools: as a PooledZone it is the same.
  const store = new ZoneStore<PooledZone>();
  store.put(z as PooledZone);
  return resolve(store, { qname: key(name), qtype: type, gslb: { ctx, health: allUp } });
}

describe('zone overlay', () => {
  it('adds a name with its empty non-terminals and removes them again when it goes', async () => {
    const base = await zone('www A 192.0.2.10\n');
    const added = applyEdits(base, edits({ name: 'x.y.z.example.com.', type: Type.A, rdata: ['c0000263'] }));
    expect(ask(added, 'x.y.z.example.com.', Type.A).answer).toHaveLength(1);
    // y.z and z exist now as empty non-terminals: NODATA, not NXDOMAIN (RFC 4592 §2.2.2).
    expect(ask(added, 'y.z.example.com.', Type.A).rcode).toBe(0);
    expect(ask(added, 'z.example.com.', Type.A).rcode).toBe(0);
    expect(ask(base, 'z.example.com.', Type.A).rcode).toBe(3);

    const removed = applyEdits(base, edits({ name: 'x.y.z.example.com.', type: Type.A, rdata: [] }));
    expect(ask(removed, 'x.y.z.example.com.', Type.A).rcode).toBe(3);
    expect(ask(removed, 'z.example.com.', Type.A).rcode).toBe(3);
  });

  it('keeps a name that loses its last RRset as an empty non-terminal while names below it remain', async () => {
    const base = await zone('b A 192.0.2.20\na.b A 192.0.2.21\n');
    const z = applyEdits(base, edits({ name: 'b.example.com.', type: Type.A, rdata: [] }));
    expect(ask(z, 'b.example.com.', Type.A)).toMatchObject({ rcode: 0, answer: [] });
    expect(ask(z, 'a.b.example.com.', Type.A).answer).toHaveLength(1);
  });

  it('removes a name of the zone file and its emptied parent', async () => {
    const base = await zone('a.b A 192.0.2.21\n');
    expect(ask(base, 'b.example.com.', Type.A).rcode).toBe(0);
    const z = applyEdits(base, edits({ name: 'a.b.example.com.', type: Type.A, rdata: [] }));
    expect(ask(z, 'a.b.example.com.', Type.A).rcode).toBe(3);
    expect(ask(z, 'b.example.com.', Type.A).rcode).toBe(3);
    expect([...z.nodes.keys()]).not.toContain(key('b.example.com.'));
  });

  it('turns a new NS RRset below the apex into a delegation, and back', async () => {
    const base = await zone('www A 192.0.2.10\n');
    const delegated = applyEdits(
      base,
      edits({
        name: 'sub.example.com.',
        type: Type.NS,
        rdata: [Buffer.from('036e7331036f726700', 'hex').toString('hex')],
      }),
    );
    const referral = ask(delegated, 'host.sub.example.com.', Type.A);
    expect(referral.aa).toBe(false);
    expect(referral.authority[0]?.rrset.type).toBe(Type.NS);
    const undone = applyEdits(base, edits({ name: 'sub.example.com.', type: Type.NS, rdata: [] }));
    expect(ask(undone, 'host.sub.example.com.', Type.A).rcode).toBe(3);
  });

  it('serves a replaced SOA and its serial', async () => {
    const base = await zone('');
    const soa = base.soa.rdata[0]!;
    const next = Buffer.from(soa);
    next.writeUInt32BE(42, next.length - 20);
    const z = applyEdits(
      base,
      edits({ name: 'example.com.', type: Type.SOA, ttl: 3600, rdata: [next.toString('hex')] }),
    );
    expect(z.serial).toBe(42);
    expect(base.serial).toBe(1);
  });

  it('leaves the zone it was given untouched', async () => {
    const base = await zone('www A 192.0.2.10\n');
    const before = [...base.nodes.keys()].sort();
    applyEdits(
      base,
      edits(
        { name: 'new.example.com.', type: Type.A, rdata: ['c0000263'] },
        { name: 'www.example.com.', type: Type.A, rdata: [] },
      ),
    );
    expect([...base.nodes.keys()].sort()).toEqual(before);
    expect(ask(base, 'www.example.com.', Type.A).answer).toHaveLength(1);
  });
});
