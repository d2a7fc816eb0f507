import { describe, it, expect } from 'vitest';
import type { GeoLocation } from '../../src/3-geo/types.ts';
import { geoMap } from '../../src/3-policy/geo-map.ts';
import { random } from '../../src/3-policy/random.ts';
import type { Candidate, PolicyContext } from '../../src/3-policy/types.ts';
import { makeClient, makeContext, sequence, targets } from './helpers.ts';

const REGIONS = [['NL'], ['NL'], ['EU'], ['US', 'NA'], ['default'], ['default', 'JP']];
const pool: Candidate[] = targets(REGIONS.length, (i) => ({ regions: REGIONS[i] }));

const at = (country: string | undefined, continent: string | undefined, prefix = 24, dbPrefix = 20): PolicyContext => {
  const location: GeoLocation = { country, continent, prefix: dbPrefix };
  return makeContext({ client: makeClient({ address: '198.51.100.0', prefix, location }) });
};
const unknown = (prefix = 24): PolicyContext =>
  makeContext({ client: makeClient({ address: '203.0.113.0', prefix, location: null }) });
const firsts = (picks: number, ctx: () => PolicyContext, list = pool, policy = geoMap({})): number[] =>
  Array.from({ length: picks }, () => policy.pick(list, 1, ctx()).indexes[0]!);

describe('geo-map', () => {
  it('serves a client from the targets tagged with its country, rotating among them', () => {
    expect(firsts(3, () => at('NL', 'EU'))).toEqual([0, 1, 0]);
    expect(geoMap({}).pick(pool, 5, at('NL', 'EU')).indexes).toEqual([0, 1]);
  });

  it('uses the continent when no target names the country', () => {
    expect(firsts(2, () => at('BE', 'EU'))).toEqual([2, 2]);
    expect(firsts(2, () => at('CA', 'NA'))).toEqual([3, 3]);
  });

  it('uses the default targets when neither country nor continent is served, and all when there are none', () => {
    expect(firsts(3, () => at('BR', 'SA'))).toEqual([4, 5, 4]);
    expect(firsts(3, () => at('JP', 'AS'))).toEqual([5, 5, 5]);
    const noDefault = pool.filter((c) => !c.regions?.includes('default'));
    expect(firsts(5, () => at('BR', 'SA'), noDefault)).toEqual([0, 1, 2, 3, 0]);
  });

  it('keeps one rotation per serving set, so interleaved regions do not skew each other', () => {
    const policy = geoMap({});
    const picks = Array.from(
      { length: 6 },
      (_, n) => policy.pick(pool, 1, n % 2 ? at('BR', 'SA') : at('NL', 'EU')).indexes[0],
    );
    expect(picks).toEqual([0, 4, 1, 5, 0, 4]);
  });

  it('serves a client of unknown location from the default set, scoped to its source prefix', () => {
    const s = geoMap({}).pick(pool, 1, unknown(22));
    expect(s).toEqual({ indexes: [4], scope: 22, note: 'client location unknown: default set' });
  });

  it('lets the configured fallback choose among the default set for an unknown location', () => {
    const s = geoMap({ fallback: random({}) }).pick(
      pool,
      2,
      makeContext({ random: sequence(0.9), client: unknown().client }),
    );
    expect(s.indexes).toEqual([5, 4]);
    expect(s.scope).toBe(24);
    expect(s.note).toBe('client location unknown: random');
  });

  it('claims min(source prefix, database prefix) as scope once the location is known, matched or not', () => {
    expect(geoMap({}).pick(pool, 1, at('NL', 'EU', 24, 20)).scope).toBe(20);
    expect(geoMap({}).pick(pool, 1, at('NL', 'EU', 16, 20)).scope).toBe(16);
    expect(geoMap({}).pick(pool, 1, at('BR', 'SA', 24, 19)).scope).toBe(19);
  });

  it('serves the default set with scope 0, without a lookup, when no target names a country or continent', () => {
    const plain = targets(3, (i) => (i === 1 ? { regions: ['default'] } : {}));
    const client = makeClient({ address: '198.51.100.0', prefix: 24, location: null });
    const s = geoMap({}).pick(plain, 2, makeContext({ client }));
    expect(s).toEqual({ indexes: [1], scope: 0 });
    expect(client.lookups).toBe(0);
    expect(geoMap({}).pick(targets(3), 2, makeContext({ client })).indexes).toEqual([0, 1]);
  });
});
