// Where a client is. One interface, two sources: geoip-lite (bundled data, the default) and a
// MaxMind-format .mmdb file the operator brings (GeoIP2 / GeoLite2 / DB-IP City or Country).

export interface GeoPoint {
  readonly lat: number;
  readonly lon: number;
}

export interface GeoLocation {
  /** ISO 3166-1 alpha-2, upper case, when known. */
  readonly country?: string;
  /** Continent code: AF AN AS EU NA OC SA, when known. */
  readonly continent?: string;
  /** Coordinates, when the database has them (city-level data). */
  readonly point?: GeoPoint;
  /**
   * Prefix length of the database network that contains the address: every address in that
   * network gets this same location, so it is the widest ECS scope a geo answer may claim.
   */
  readonly prefix: number;
}

export interface GeoDatabase {
  /** Location of an IPv4 or IPv6 address (text form), or null when the database has none. */
  lookup(address: string): GeoLocation | null;
  /** For logs and /explain: which database answered. */
  readonly description: string;
}
