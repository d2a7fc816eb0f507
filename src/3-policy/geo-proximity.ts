// geo-proximity: nearest target first, by great-circle distance from the client's location, with
// Route 53's geoproximity bias (Route 53 Developer Guide, "Geoproximity routing"):
//
//   biased distance = distance × (1 − bias / 100)
//
// so bias 50 makes a target look half as far (its area grows), bias −50 one and a half times as
// far. Targets without a location rank last, in pool order.
//
// When the client's point is unknown, or no target has a location, the fallback policy chooses.
//
// Scope (RFC 7871 §7.2.1): the geo database gives one location to its whole network, so a
// distance answer is valid for min(source prefix, database prefix). §7.2.1 asks for care with the
// scope when the best answer "cannot be determined": an unknown location is a property of the
// client's network too, and scope 0 would let a resolver hand the fallback's answer to clients we
// could have located. So a fallback taken for lack of a location
// claims the location's scope (or, with no database entry at all, the whole source prefix), and at
// least the fallback's own. Only "no target has a location" leaves the fallback's scope alone: then
// the client's location played no part.

import type { Candidate, PolicyContext, PolicyFactory, Selection } from './types.ts';
import { distanceKm } from './distance.ts';
import { roundRobin } from './round-robin.ts';
import { answerCount, geoScope } from './shared.ts';

export const geoProximity: PolicyFactory = (options) => {
  const fallback = options.fallback ?? roundRobin({});

  function fall(
    candidates: readonly Candidate[],
    count: number,
    ctx: PolicyContext,
    why: string,
    scope: number,
  ): Selection {
    const s = fallback.pick(candidates, count, ctx);
    const note = `${why}: ${fallback.name}` + (s.note ? `; ${s.note}` : '');
    return { ...s, scope: Math.max(s.scope, scope), note };
  }

  return {
    name: 'geo-proximity',
    pick(candidates, count, ctx) {
      if (!candidates.some((c) => c.location)) return fall(candidates, count, ctx, 'no target has a location', 0);
      const client = ctx.client;
      const where = client.location();
      const point = where?.point;
      if (!where || !point) {
        const scope = where ? geoScope(client, where) : client.prefix;
        return fall(candidates, count, ctx, 'client location unknown', scope);
      }

      const scores = new Map<number, number>();
      const biased = candidates.map((c) => {
        if (!c.location) return Infinity;
        const km = distanceKm(point, c.location) * (1 - (c.bias ?? 0) / 100);
        scores.set(c.index, km);
        return km;
      });
      // Sort positions, not candidates: the list is shared. Ties keep pool order (stable sort).
      const order = candidates.map((_, p) => p).sort((a, b) => biased[a]! - biased[b]! || a - b);
      const indexes = order.slice(0, answerCount(count, candidates.length)).map((p) => candidates[p]!.index);
      return { indexes, scope: geoScope(client, where), scores, scoreName: 'distance_km' };
    },
  };
};
