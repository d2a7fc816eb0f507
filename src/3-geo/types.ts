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
  /** The database as plain data over SharedArrayBuffers, for another thread (openSharedGeo); absent: not shareable. */
  shared?(): SharedGeo;
}

/**
 * A loaded database as plain data whose big arrays live in SharedArrayBuffers: posted to a worker
 * thread it is shared, not copied, and `openSharedGeo` (index.ts) answers from it at once.
 */
export type SharedGeo =
  | {
      readonly type: 'geoip-lite';
      /** Absent: the package's bundled data. */
      readonly dataDir?: string;
      readonly tables: { readonly v4: Ipv4Parts; readonly v6: Ipv6Parts; readonly places: PlaceParts };
    }
  | { readonly type: 'mmdb'; readonly path: string; readonly bytes: Uint8Array };

/** The arrays of geoip-lite's tables (geoip-lite-tables.ts), as `parts` gives them and `from` takes them. */
export interface Ipv4Parts {
  readonly starts: Uint32Array;
  readonly places: Uint32Array;
}

export interface Ipv6Parts {
  readonly startHi: Uint32Array;
  readonly startLo: Uint32Array;
  readonly endHi: Uint32Array;
  readonly endLo: Uint32Array;
  readonly places: Uint32Array;
}

export interface PlaceParts {
  readonly codes: readonly string[];
  readonly country: Uint16Array;
  readonly lat: Int32Array;
  readonly lon: Int32Array;
}
