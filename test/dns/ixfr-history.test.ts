// IxfrHistory (6-serve/ixfr-history.ts) over zones built from text and changed as updates change
// them (2-zone/overlay.ts): the steps an IXFR from each serial gets, the bounds in steps and in
// octets, a serial that goes back, and a serial marked when a whole zone went out with other pools.

import { describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { nextSerialSoa } from '../../src/0-base/serial.ts';
import { applyEdits } from '../../src/2-zone/overlay.ts';
import type { RRsetEdit } from '../../src/2-zone/types.ts';
import { allUp } from '../../src/4-gslb/health-view.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { IxfrHistory } from '../../src/6-serve/ixfr-history.ts';
import { build, HEAD, ORIGIN_KEY } from '../zone/helpers.ts';

async function zone(): Promise<PooledZone> {
  const r = await build(`${HEAD}www A 192.0.2.10\n`);
  if (r.kind !== 'zone') throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.zone as PooledZone;
}

/** `z` with the serial bumped and TXT `n.example.com.` added, as an UPDATE leaves it. */
function change(z: PooledZone, n: number): PooledZone {
  const edits: RRsetEdit[] = [
    { name: 'example.com.', type: Type.SOA, ttl: z.soa.ttl, rdata: [nextSerialSoa(z.soa.rdata[0]!).toString('hex')] },
    { name: `n${n}.example.com.`, type: Type.TXT, ttl: 60, rdata: ['0178'] },
  ];
  return applyEdits(z, new Map(edits.map((e) => [`${e.name}|${e.type}`, e])));
}

function history(steps: number, maxBytes?: number): IxfrHistory {
  const h = new IxfrHistory(
    () => allUp,
    () => 0,
    undefined,
    maxBytes,
  );
  h.configure(new Map([[ORIGIN_KEY, { steps, pools: 'all' }]]));
  return h;
}

describe('IxfrHistory', () => {
  it('gives the steps from each serial it kept to the current one, and null from any other', async () => {
    const h = history(10);
    let z = await zone();
    h.seen(z);
    for (let i = 2; i <= 4; i++) h.seen((z = change(z, i)));
    expect(h.steps(ORIGIN_KEY, 1, 4)?.map((s) => s.from)).toEqual([1, 2, 3]);
    expect(h.steps(ORIGIN_KEY, 3, 4)?.map((s) => [s.from, s.added.length, s.deleted.length])).toEqual([[3, 1, 0]]);
    expect(h.steps(ORIGIN_KEY, 0, 4)).toBeNull();
    // The history does not reach the serial asked about (a version not seen yet).
    expect(h.steps(ORIGIN_KEY, 1, 5)).toBeNull();
  });

  it('keeps ixfr-history steps, and none with 0', async () => {
    const h = history(2);
    const none = history(0);
    let z = await zone();
    h.seen(z);
    none.seen(z);
    for (let i = 2; i <= 4; i++) {
      h.seen((z = change(z, i)));
      none.seen(z);
    }
    expect(h.steps(ORIGIN_KEY, 1, 4)).toBeNull();
    expect(h.steps(ORIGIN_KEY, 2, 4)?.map((s) => s.from)).toEqual([2, 3]);
    expect(none.steps(ORIGIN_KEY, 3, 4)).toBeNull();
  });

  it('drops the oldest steps beyond the bound in octets', async () => {
    // Each step adds one TXT RR of 12 octets (type, class, TTL, length, 2 of RDATA): two fit in 30.
    const h = history(100, 30);
    let z = await zone();
    h.seen(z);
    for (let i = 2; i <= 4; i++) h.seen((z = change(z, i)));
    expect(h.steps(ORIGIN_KEY, 2, 4)?.map((s) => s.bytes)).toEqual([12, 12]);
    expect(h.steps(ORIGIN_KEY, 1, 4)).toBeNull();
  });

  it('starts afresh when the serial goes back', async () => {
    const h = history(10);
    const first = await zone();
    h.seen(first);
    h.seen(change(first, 2));
    h.seen(first);
    expect(h.steps(ORIGIN_KEY, 1, 1)).toBeNull();
    h.seen(change(first, 3));
    expect(h.steps(ORIGIN_KEY, 1, 2)?.map((s) => s.from)).toEqual([1]);
  });
});
