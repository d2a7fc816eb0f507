// Great-circle distance for geo-proximity: the haversine formula on a sphere of radius 6371 km
// (the mean Earth radius). Against the WGS 84 ellipsoid it errs by under 0.5%, far less than the
// uncertainty of a GeoIP city location, and it is cheap enough to run per candidate per query.

import type { GeoPoint } from '../3-geo/types.ts';

const EARTH_RADIUS_KM = 6371;
const RAD = Math.PI / 180;

export function distanceKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2;
  // min(1, h): rounding can push h a hair above 1 for antipodal points, and asin(>1) is NaN.
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.sqrt(Math.min(1, h)));
}
