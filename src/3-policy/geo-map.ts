// geo-map: targets list the regions they serve (Candidate.regions: ISO 3166-1 country codes,
// continent codes, or 'default'). A client is served by the targets tagged with its country, else
// its continent, else 'default', else all of them; within that set answers rotate round-robin, with
// one rotation per set so that interleaved clients from different regions do not skew each other.
// With no location at all the client gets the 'default' set (else all), chosen by
// options.fallback when one is given, else by the same rotation.
//
// Country and continent codes share one namespace: AF, AS, NA and SA are both (Afghanistan and
// Africa, ...). A country match is tried first, so a target tagged 'AF' also serves Africa's
// clients when no target names their own country.
//
// Scope (RFC 7871 §7.2.1): the set depends on the client's location, which the database gives to
// its whole network: min(source prefix, database prefix), whether or not a region matched (not
// matching is as much a property of that network). An unknown location claims the whole source
// prefix (§7.2.1 asks for care when the best answer "cannot be determined"): we do not know how
// far the "unknown" network reaches, and a wider scope could hand the default answer to clients
// that have a region. When no target names any region the answer is the
// same for everyone: scope 0.

import type { Candidate, PolicyFactory } from './types.ts';
import { Rotor, geoScope } from './shared.ts';

const DEFAULT = 'default';

/** The serving set for a region code, or none when no target names it. */
function tagged(candidates: readonly Candidate[], code: string | undefined): Candidate[] {
  return code ? candidates.filter((c) => c.regions?.includes(code)) : [];
}

export const geoMap: PolicyFactory = (options) => {
  const rotors = new Map<string, Rotor>();

  function rotate(set: string, candidates: readonly Candidate[], count: number): number[] {
    let rotor = rotors.get(set);
    if (!rotor) {
      rotor = new Rotor();
      rotors.set(set, rotor);
    }
    return rotor.take(candidates, count);
  }

  return {
    name: 'geo-map',
    pick(candidates, count, ctx) {
      const client = ctx.client;
      const defaults = tagged(candidates, DEFAULT);
      const [restKey, rest] = defaults.length > 0 ? [DEFAULT, defaults] : ['*', candidates];
      // Only a country or continent tag makes the answer depend on where the client is.
      if (!candidates.some((c) => c.regions?.some((r) => r !== DEFAULT))) {
        return { indexes: rotate(restKey, rest, count), scope: 0 };
      }
      const where = client.location();
      if (!where) {
        if (options.fallback) {
          const s = options.fallback.pick(rest, count, ctx);
          const note = `client location unknown: ${options.fallback.name}` + (s.note ? `; ${s.note}` : '');
          return { ...s, scope: client.prefix, note };
        }
        return {
          indexes: rotate(restKey, rest, count),
          scope: client.prefix,
          note: 'client location unknown: default set',
        };
      }
      for (const code of [where.country, where.continent]) {
        const set = tagged(candidates, code);
        if (set.length > 0) return { indexes: rotate(code!, set, count), scope: geoScope(client, where) };
      }
      return { indexes: rotate(restKey, rest, count), scope: geoScope(client, where) };
    },
  };
};
