// TransferSerials (9-main/transfer-serials.ts) with an injected clock and health: the serial of a
// zone whose pools are transferred follows what a transfer would send of them. `all` bumps at
// once for a drain and never for a health flip; `healthy` bumps for a health change at most once
// per transfer-min-interval; a new serial from elsewhere (an edit, a reload) is taken as it is.

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFromText, type NameKey } from '../../src/0-base/name.ts';
import { soaSerial } from '../../src/0-base/serial.ts';
import { makeRRset } from '../../src/1-codec/rrset.ts';
import { ZoneStore } from '../../src/2-zone/store.ts';
import type { HealthView, TargetStatus } from '../../src/4-gslb/health-view.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import type { Change } from '../../src/7-state/types.ts';
import { TransferSerials } from '../../src/9-main/transfer-serials.ts';
import { ORIGIN, zonesDir } from '../helpers/health.ts';

const origin: NameKey = keyFromText(`${ORIGIN}.`);
let dir: string;
let base: PooledZone;

beforeAll(async () => {
  dir = zonesDir({ web: { ttl: 20, targets: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }] } });
  const loaded = await loadZones(dir);
  base = loaded.zones.find((z) => z.origin === origin)!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A store with the zone, a clock, targets' states by address, and the commits made (applied to the store). */
function setup(mode: 'all' | 'healthy', minIntervalMs = 30_000) {
  const store = new ZoneStore<PooledZone>();
  store.put(base);
  let now = 1_000_000;
  const state = new Map<string, TargetStatus>();
  const health: HealthView = { status: (t) => state.get(t.address) ?? { up: true } };
  const commits: Change[][] = [];
  const serials = new TransferSerials({
    zones: store,
    health: () => health,
    now: () => now,
    commit: async (changes) => {
      commits.push([...changes]);
      // Applied as the publisher would: the zone with the new SOA.
      const c = changes[0] as Extract<Change, { kind: 'rrset' }>;
      const rdata = Buffer.from(c.rdata[0]!, 'hex');
      const z = store.get(origin)!;
      store.put({ ...z, soa: makeRRset(origin, z.soa.type, c.ttl, [rdata]), serial: soaSerial(rdata) });
    },
    log: () => {},
  });
  serials.set(new Map([[origin, { mode, minIntervalMs }]]));
  return {
    store,
    serials,
    commits,
    set: (address: string, st: TargetStatus) => state.set(address, st),
    advance: (ms: number) => (now += ms),
    serial: () => store.get(origin)!.serial,
  };
}

describe('TransferSerials', () => {
  it('all: a drain bumps the serial at the next check, a health flip never does', async () => {
    const s = setup('all');
    const first = s.serial();
    await s.serials.check();
    s.set('192.0.2.2', { up: false });
    await s.serials.check();
    expect(s.commits).toHaveLength(0);
    s.set('192.0.2.2', { up: true, weight: 0 });
    await s.serials.check();
    expect(s.commits).toHaveLength(1);
    expect(s.serial()).toBe(first + 1);
    // Nothing new: no second bump.
    await s.serials.check();
    expect(s.commits).toHaveLength(1);
  });

  it('healthy: one bump per health change, at most once per transfer-min-interval', async () => {
    const s = setup('healthy', 30_000);
    const first = s.serial();
    await s.serials.check();
    s.set('192.0.2.2', { up: false });
    await s.serials.check();
    expect(s.serial()).toBe(first + 1);
    // Back up 10 s later: waits until 30 s have passed since the bump.
    s.advance(10_000);
    s.set('192.0.2.2', { up: true });
    await s.serials.check();
    expect(s.serial()).toBe(first + 1);
    s.advance(19_999);
    await s.serials.check();
    expect(s.serial()).toBe(first + 1);
    s.advance(1);
    await s.serials.check();
    expect(s.serial()).toBe(first + 2);
    // Flapping within the interval: still at most one bump per interval.
    for (let i = 0; i < 10; i++) {
      s.advance(1000);
      s.set('192.0.2.2', { up: i % 2 === 0 ? false : true });
      await s.serials.check();
    }
    expect(s.serial()).toBe(first + 2);
    s.advance(30_000);
    s.set('192.0.2.2', { up: false });
    await s.serials.check();
    expect(s.serial()).toBe(first + 3);
  });

  it('takes a serial changed elsewhere as it is, with the pools of that moment', async () => {
    const s = setup('healthy', 1000);
    await s.serials.check();
    s.set('192.0.2.2', { up: false });
    // A reload raised the serial meanwhile: that version is what the pools are compared with now.
    const z = s.store.get(origin)!;
    s.store.put({ ...z, serial: z.serial + 100 });
    await s.serials.check();
    expect(s.commits).toHaveLength(0);
    await s.serials.check();
    expect(s.commits).toHaveLength(0);
  });
});
