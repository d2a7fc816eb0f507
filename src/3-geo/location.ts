// Builds the GeoLocation both adapters return, so they agree on what "known" means.

import { continentOf } from './continents.ts';
import type { GeoLocation, GeoPoint } from './types.ts';

/**
 * A location from whatever a database record held, or null when it held nothing usable. Fields
 * that are unknown are left out rather than set to undefined (clean /explain output and equality).
 * A missing continent is derived from the country.
 */
export function makeLocation(
  found: { country?: string | undefined; continent?: string | undefined; point?: GeoPoint | undefined },
  prefix: number,
): GeoLocation | null {
  const country = found.country || undefined;
  const continent = found.continent || (country && continentOf(country));
  const point = found.point;
  if (!country && !continent && !point) return null;
  return {
    ...(country !== undefined && { country }),
    ...(continent && { continent }),
    ...(point !== undefined && { point }),
    prefix,
  };
}
