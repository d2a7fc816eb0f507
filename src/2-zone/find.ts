// Where a name stands in a zone's structure: below a delegation point, or redirected by a DNAME.
// The answer path steers by these; the pools loader checks pool names with them.

import { parentKey, type NameKey } from '../0-base/name.ts';
import type { Zone } from './types.ts';

/** The delegation point closest to the apex at or above `name`, if any. */
export function findCut(zone: Zone, name: NameKey): NameKey | undefined {
  if (zone.cuts.size === 0) return undefined;
  let top: NameKey | undefined;
  for (let k: NameKey | null = name; k !== null && k !== zone.origin; k = parentKey(k)) {
    if (zone.cuts.has(k)) top = k;
  }
  return top;
}

/**
 * The DNAME owner that redirects `name` (RFC 6672 §2.3: a DNAME applies strictly below its owner);
 * of several, the highest, since it hides the ones below it.
 */
export function findDname(zone: Zone, name: NameKey): NameKey | undefined {
  if (zone.dnames.size === 0 || name === zone.origin) return undefined;
  let top: NameKey | undefined;
  for (let k = parentKey(name); k !== null; k = parentKey(k)) {
    if (zone.dnames.has(k)) top = k;
    if (k === zone.origin) break;
  }
  return top;
}
