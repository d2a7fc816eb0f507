import { describe, it, expect } from 'vitest';
import type { GeoLocation, GeoPoint } from '../../src/3-geo/types.ts';
import { distanceKm } from '../../src/3-policy/distance.ts';
import { geoProximity } from '../../src/3-policy/geo-proximity.ts';
import type { Candidate, Policy } from '../../src/3-policy/types.ts';
import { makeClient, makeContext } from './helpers.ts';

const AMSTERDAM: GeoPoint = { lat: 52.37, lon: 4.9 };
const FRANKFURT: GeoPoint = { lat: 50.11, lon: 8.68 };
const NEW_YORK: GeoPoint = { lat: 40.71, lon: -74.01 };
const BRUSSELS: GeoLocation = { country: 'BE', continent: 'EU', point: { lat: 50.85, lon: 4.35 }, prefix: 18 };

const pool = (bias: { ams?: number; fra?: number } = {}): Candidate[] => [
  { index: 0, key: 'nyc', weight: 1, location: NEW_YORK },
  { index: 1, key: 'nowhere', weight: 1 },
  { index: 2, key: 'fra', weight: 1, location: FRANKFURT, bias: bias.fra },
  { index: 3, key: 'ams', weight: 1, location: AMSTERDAM, bias: bias.ams },
];
const inBrussels = (prefix = 24) =>
  makeContext({ client: makeClient({ address: '198.51.100.0', prefix, location: BRUSSELS }) });

/** A fallback that answers with its first candidate and a fixed scope, counting its calls. */
function stubFallback(scope: number): Policy & { calls: number } {
  return {
    name: 'stub',
    calls: 0,
    pick(candidates) {
      this.calls++;
      return { indexes: [candidates[0]!.index], scope, note: 'stubbed' };
    },
  };
}

describe('great-circle distance', () => {
  it('measures London–Paris as about 343.5 km and half the globe as π × 6371 km', () => {
    expect(distanceKm({ lat: 51.5074, lon: -0.1278 }, { lat: 48.8566, lon: 2.3522 })).toBeCloseTo(343.5, 0);
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * 6371, 6);
    expect(distanceKm(AMSTERDAM, AMSTERDAM)).toBe(0);
    expect(distanceKm(AMSTERDAM, NEW_YORK)).toBeCloseTo(distanceKm(NEW_YORK, AMSTERDAM), 9);
  });
});

describe('geo-proximity', () => {
  it('ranks targets nearest first, targets without a location last', () => {
    const s = geoProximity({}).pick(pool(), 4, inBrussels());
    expect(s.indexes).toEqual([3, 2, 0, 1]);
    expect(s.scoreName).toBe('distance_km');
    expect(s.scores!.get(3)).toBeCloseTo(173.2, 1);
    expect(s.scores!.get(2)).toBeCloseTo(317.2, 1);
    expect(s.scores!.has(1)).toBe(false);
  });

  it('shrinks a target’s distance by a positive bias: distance × (1 − bias/100)', () => {
    const s = geoProximity({}).pick(pool({ fra: 50 }), 1, inBrussels());
    expect(s.indexes).toEqual([2]); // 317.2 × 0.5 = 158.6 < 173.2
    expect(s.scores!.get(2)).toBeCloseTo(distanceKm(BRUSSELS.point!, FRANKFURT) * 0.5, 9);
  });

  it('stretches a target’s distance by a negative bias', () => {
    expect(geoProximity({}).pick(pool({ ams: -99 }), 1, inBrussels()).indexes).toEqual([2]); // 173.2 × 1.99 > 317.2
    expect(geoProximity({}).pick(pool({ ams: -80 }), 1, inBrussels()).indexes).toEqual([3]); // 173.2 × 1.8 < 317.2
  });

  it('claims the scope of the narrower of the ECS source prefix and the database network', () => {
    expect(geoProximity({}).pick(pool(), 1, inBrussels(24)).scope).toBe(18);
    expect(geoProximity({}).pick(pool(), 1, inBrussels(16)).scope).toBe(16);
  });

  it('hands an unlocated client to the fallback, scoped to its whole source prefix', () => {
    const fallback = stubFallback(0);
    const ctx = makeContext({ client: makeClient({ address: '203.0.113.0', prefix: 24, location: null }) });
    const s = geoProximity({ fallback }).pick(pool(), 2, ctx);
    expect(s).toEqual({ indexes: [0], scope: 24, note: 'client location unknown: stub; stubbed' });
    expect(fallback.calls).toBe(1);
  });

  it('hands a client located without coordinates to the fallback, scoped to its database network', () => {
    const country: GeoLocation = { country: 'BE', continent: 'EU', prefix: 12 };
    const ctx = makeContext({ client: makeClient({ address: '198.51.100.0', prefix: 24, location: country }) });
    expect(geoProximity({ fallback: stubFallback(0) }).pick(pool(), 1, ctx).scope).toBe(12);
    // A fallback whose own answer depends on more bits keeps its narrower scope.
    expect(geoProximity({ fallback: stubFallback(24) }).pick(pool(), 1, ctx).scope).toBe(24);
  });

  it('leaves the fallback’s scope alone when no target has a location', () => {
    const unplaced = pool().map(({ location: _, ...rest }) => rest);
    const s = geoProximity({ fallback: stubFallback(0) }).pick(unplaced, 1, inBrussels());
    expect(s.scope).toBe(0);
    expect(s.note).toBe('no target has a location: stub; stubbed');
  });

  it('falls back to a round-robin of its own when none is configured', () => {
    const policy = geoProximity({});
    const ctx = makeContext({ client: makeClient({ location: null }) });
    const firsts = Array.from({ length: 5 }, () => policy.pick(pool(), 1, ctx).indexes[0]);
    expect(firsts).toEqual([0, 1, 2, 3, 0]);
  });
});
