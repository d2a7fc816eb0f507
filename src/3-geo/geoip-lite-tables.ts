// The compact in-memory form of geoip-lite's data: what a lookup needs (country, coordinates, the
// range) in typed arrays, about a quarter of the memory of geoip-lite's own buffers. Built by
// geoip-lite-files.ts; read by the adapter in geoip-lite.ts.

import { makeLocation } from './location.ts';
import type { GeoLocation, Ipv4Parts, Ipv6Parts, PlaceParts } from './types.ts';

/** Place id of addresses with no answer: outside every range, or a range that knows nothing. */
export const NO_PLACE = 0;

/**
 * Distinct (country, latitude, longitude) triples. Most ranges share a city's place, so a range
 * stores a 4-byte place id instead of its own country and coordinates. Coordinates are kept as
 * geoip-lite stores them, integers in units of 1e-4 degree, so answers are exactly geoip-lite's.
 * Ids are found through an open-addressing hash over the same arrays: a Map would cost a second
 * copy of every triple as heap numbers, and over a second of load time in hashing and garbage
 * collection.
 */
export class Places {
  #codes: string[] = [''];
  #codeIds = new Map<string, number>([['', 0]]);
  #country = shared(Uint16Array, 1 << 12);
  #lat = shared(Int32Array, 1 << 12);
  #lon = shared(Int32Array, 1 << 12);
  #count = 1;
  /**
   * Place ids by hash, linear probing; 0 (NO_PLACE) marks a free slot. At most half full. Sized
   * from the start for the bundled data's ~157,000 places, so that it never rehashes while the
   * data loads: a rehash cannot be sliced, and the six it took when grown from 8,192 slots held
   * the event loop for up to 12 ms each (2 vCPU, Node 24).
   */
  #slots = new Uint32Array(1 << 19);

  /** Id of a country code ('' for none), for `id`. */
  country(code: string): number {
    let id = this.#codeIds.get(code);
    if (id === undefined) {
      id = this.#codes.push(code) - 1;
      this.#codeIds.set(code, id);
    }
    return id;
  }

  /** Place id of a country id with coordinates in 1e-4 degrees ((0, 0): unknown, as in geoip-lite), or NO_PLACE when neither is known. */
  id(country: number, lat: number, lon: number): number {
    if (country === 0 && lat === 0 && lon === 0) return NO_PLACE;
    const mask = this.#slots.length - 1;
    for (let slot = hash(country, lat, lon) & mask; ; slot = (slot + 1) & mask) {
      const id = this.#slots[slot]!;
      if (id === NO_PLACE) return this.#add(slot, country, lat, lon);
      if (this.#lat[id] === lat && this.#lon[id] === lon && this.#country[id] === country) return id;
    }
  }

  finish(): PlaceTable {
    const n = this.#count;
    // Views, not copies: the unused tail was never written, so it holds address space but no RSS.
    return new PlaceTable(
      this.#codes,
      this.#country.subarray(0, n),
      this.#lat.subarray(0, n),
      this.#lon.subarray(0, n),
    );
  }

  #add(slot: number, country: number, lat: number, lon: number): number {
    const id = this.#count++;
    if (id === this.#lat.length) {
      this.#country = grown(this.#country, shared(Uint16Array, id * 2));
      this.#lat = grown(this.#lat, shared(Int32Array, id * 2));
      this.#lon = grown(this.#lon, shared(Int32Array, id * 2));
    }
    this.#country[id] = country;
    this.#lat[id] = lat;
    this.#lon[id] = lon;
    this.#slots[slot] = id;
    if (this.#count * 2 > this.#slots.length) this.#rehash();
    return id;
  }

  #rehash(): void {
    const slots = new Uint32Array(this.#slots.length * 2);
    const mask = slots.length - 1;
    for (let id = 1; id < this.#count; id++) {
      let slot = hash(this.#country[id]!, this.#lat[id]!, this.#lon[id]!) & mask;
      while (slots[slot] !== NO_PLACE) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.#slots = slots;
  }
}

function hash(country: number, lat: number, lon: number): number {
  let h = Math.imul(lat ^ (country << 24), 0x9e3779b1);
  h = Math.imul(h ^ lon ^ (h >>> 15), 0x85ebca77);
  return (h ^ (h >>> 13)) >>> 0;
}

/**
 * An array of `length` in a SharedArrayBuffer: posted to a worker thread, a table over it is not
 * copied but shared (9-main/cluster: every worker answers from the primary's tables).
 */
export function shared<T extends Uint16Array | Int32Array | Uint32Array>(
  Type: { new (b: SharedArrayBuffer): T; readonly BYTES_PER_ELEMENT: number },
  length: number,
): T {
  return new Type(new SharedArrayBuffer(length * Type.BYTES_PER_ELEMENT));
}

/** `into`, a larger array, holding `from` at its start. */
function grown<T extends Uint16Array | Int32Array | Uint32Array>(from: T, into: T): T {
  into.set(from);
  return into;
}

export class PlaceTable {
  readonly #codes: readonly string[];
  readonly #country: Uint16Array;
  readonly #lat: Int32Array;
  readonly #lon: Int32Array;

  constructor(codes: readonly string[], country: Uint16Array, lat: Int32Array, lon: Int32Array) {
    this.#codes = codes;
    this.#country = country;
    this.#lat = lat;
    this.#lon = lon;
  }

  /** Its arrays (SharedArrayBuffers) and codes, to build the same table in another thread. */
  get parts(): PlaceParts {
    return { codes: this.#codes, country: this.#country, lat: this.#lat, lon: this.#lon };
  }

  static from(p: PlaceParts): PlaceTable {
    return new PlaceTable(p.codes, p.country, p.lat, p.lon);
  }

  get size(): number {
    return this.#lat.length - 1;
  }

  get bytes(): number {
    return this.#country.byteLength + this.#lat.byteLength + this.#lon.byteLength;
  }

  /** The answer for a place, or null for NO_PLACE. */
  location(place: number, prefix: number): GeoLocation | null {
    if (place === NO_PLACE) return null;
    const lat = this.#lat[place]!;
    const lon = this.#lon[place]!;
    // The same division geoip-lite does, so the doubles are identical.
    const point = lat === 0 && lon === 0 ? undefined : { lat: lat / 10000, lon: lon / 10000 };
    return makeLocation({ country: this.#codes[this.#country[place]!], point }, prefix);
  }
}

/**
 * IPv4 ranges as a partition of the whole address space: entry k covers starts[k] up to
 * starts[k + 1] - 1 (the last one up to 255.255.255.255), and gaps are entries with NO_PLACE.
 * Adjacent ranges with the same place are one entry, so only starts are stored.
 */
export class Ipv4Table {
  readonly #starts: Uint32Array;
  readonly #places: Uint32Array;

  constructor(starts: Uint32Array, places: Uint32Array) {
    this.#starts = starts;
    this.#places = places;
  }

  get parts(): Ipv4Parts {
    return { starts: this.#starts, places: this.#places };
  }

  static from(p: Ipv4Parts): Ipv4Table {
    return new Ipv4Table(p.starts, p.places);
  }

  get size(): number {
    return this.#starts.length;
  }

  get bytes(): number {
    return this.#starts.byteLength + this.#places.byteLength;
  }

  /** The place of `ip` and the first and last address of its entry. */
  locate(ip: number): { place: number; start: number; end: number } {
    const starts = this.#starts;
    // Last entry starting at or before ip; entry 0 starts at 0.
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (starts[mid]! <= ip) lo = mid;
      else hi = mid - 1;
    }
    const end = lo + 1 < starts.length ? starts[lo + 1]! - 1 : 0xffffffff;
    return { place: this.#places[lo]!, start: starts[lo]!, end };
  }
}

/** Builds an Ipv4Table from ranges given in ascending order. */
export class Ipv4Builder {
  #starts: Uint32Array;
  #places: Uint32Array;
  #count = 0;
  /** First address after the last range added. */
  #next = 0;

  /** `capacity`: the number of records. Merging leaves fewer entries than that, gaps add a few. */
  constructor(capacity: number) {
    this.#starts = shared(Uint32Array, Math.max(capacity, 16));
    this.#places = shared(Uint32Array, this.#starts.length);
  }

  /** Adds [start, end]; `start` must be past the previous range's end. */
  add(start: number, end: number, place: number): void {
    if (start > this.#next) this.#push(this.#next, NO_PLACE);
    this.#push(start, place);
    this.#next = end + 1;
  }

  finish(): Ipv4Table {
    if (this.#next <= 0xffffffff) this.#push(this.#next, NO_PLACE);
    // Views, not copies: the unused tail (a fifth of geoip-lite's records merge away) was never
    // written, so it holds address space but no RSS, where copying would add 20 MB to peak RSS.
    return new Ipv4Table(this.#starts.subarray(0, this.#count), this.#places.subarray(0, this.#count));
  }

  #push(start: number, place: number): void {
    const n = this.#count;
    if (n > 0 && this.#places[n - 1] === place) return;
    if (n === this.#starts.length) {
      this.#starts = grown(this.#starts, shared(Uint32Array, n * 2));
      this.#places = grown(this.#places, shared(Uint32Array, n * 2));
    }
    this.#starts[n] = start;
    this.#places[n] = place;
    this.#count = n + 1;
  }
}

/**
 * IPv6 records as geoip-lite reads them: the top 64 bits of each record's first and last address,
 * as two 32-bit halves. geoip-lite compares nothing else, so records that split one /64 overlap
 * here, and which of them answers for that /64 depends on the order in which geoip-lite's binary
 * search probes them. `locate` is that search, step for step, so the same record answers.
 */
export class Ipv6Table {
  readonly #startHi: Uint32Array;
  readonly #startLo: Uint32Array;
  readonly #endHi: Uint32Array;
  readonly #endLo: Uint32Array;
  readonly #places: Uint32Array;

  /** Records in file order, each start <= its end. */
  constructor(startHi: Uint32Array, startLo: Uint32Array, endHi: Uint32Array, endLo: Uint32Array, places: Uint32Array) {
    this.#startHi = startHi;
    this.#startLo = startLo;
    this.#endHi = endHi;
    this.#endLo = endLo;
    this.#places = places;
  }

  get parts(): Ipv6Parts {
    return {
      startHi: this.#startHi,
      startLo: this.#startLo,
      endHi: this.#endHi,
      endLo: this.#endLo,
      places: this.#places,
    };
  }

  static from(p: Ipv6Parts): Ipv6Table {
    return new Ipv6Table(p.startHi, p.startLo, p.endHi, p.endLo, p.places);
  }

  get size(): number {
    return this.#places.length;
  }

  get bytes(): number {
    return this.#places.byteLength * 5;
  }

  /** Place of the /64 whose top 64 bits are hi:lo. */
  locate(hi: number, lo: number): number {
    const n = this.#places.length;
    if (n === 0) return NO_PLACE;
    // Before the first record's start or after the last record's end: none, as geoip-lite checks
    // first (the search alone could find a record whose end passes the last one's).
    const firstHi = this.#startHi[0]!;
    const lastHi = this.#endHi[n - 1]!;
    if (hi < firstHi || (hi === firstHi && lo < this.#startLo[0]!)) return NO_PLACE;
    if (hi > lastHi || (hi === lastHi && lo > this.#endLo[n - 1]!)) return NO_PLACE;
    let low = 0;
    let high = n - 1;
    for (;;) {
      const mid = (low + high) >>> 1;
      const sHi = this.#startHi[mid]!;
      const eHi = this.#endHi[mid]!;
      const afterStart = hi > sHi || (hi === sHi && lo >= this.#startLo[mid]!);
      const beforeEnd = hi < eHi || (hi === eHi && lo <= this.#endLo[mid]!);
      if (afterStart && beforeEnd) return this.#places[mid]!;
      if (low === high) return NO_PLACE;
      // Two left: mid is the lower one, so the upper one is probed next (not mid ± 1 as usual).
      if (low === high - 1) low = high;
      else if (!afterStart) high = mid;
      else low = mid;
    }
  }
}
