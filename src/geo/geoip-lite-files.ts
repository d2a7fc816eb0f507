// Reads geoip-lite's data directory into the tables of geoip-lite-tables.ts, without loading the
// geoip-lite module (which would read all ~108 MB into buffers). Files are read 1 MiB at a time
// and checked as they go; a bad file fails with ERR_CONFIG naming it.
//
// The formats (geoip-lite 2.x, lib/geoip.js; all integers big-endian):
//   geoip-city-names.dat  88-byte locations; bytes 0-1 the country code (NUL-padded), rest unused here
//   geoip-city.dat        24 bytes: first u32, last u32, location id u32 (0xffffffff: none),
//                         latitude i32, longitude i32 (1e-4 degree), area u32
//   geoip-city6.dat       48 bytes: first 16 bytes, last 16 bytes, then as above from the location id
//   geoip-country.dat     10 bytes: first u32, last u32, country code
//   geoip-country6.dat    34 bytes: first 16 bytes, last 16 bytes, country code
// geoip-lite uses the country files when the city files are missing or empty.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { SourceError } from '../errors.ts';
import { Ipv4Builder, Ipv6Table, NO_PLACE, Places, type Ipv4Table, type PlaceTable } from './geoip-lite-tables.ts';

export interface GeoipLiteData {
  readonly v4: Ipv4Table;
  readonly v6: Ipv6Table;
  readonly places: PlaceTable;
}

const NO_LOCATION = 0xffffffff;
const CHUNK = 1 << 20;

// geoip-lite answers nothing for these, whatever its data says: first and last address of
// 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16, ascending.
const PRIVATE_V4 = [0x0a000000, 0x0affffff, 0xac100000, 0xac1fffff, 0xc0a80000, 0xc0a8ffff];

/** Reads the data files in `dir`. Throws ERR_CONFIG naming the file that is missing or invalid. */
export function readGeoipLiteData(dir: string): GeoipLiteData {
  const places = new Places();
  const names = RecordFile.open(path.join(dir, 'geoip-city-names.dat'), 88);
  const countryOf = names && readNames(names, places);
  const city = countryOf && RecordFile.open(path.join(dir, 'geoip-city.dat'), 24);
  const v4 = city
    ? readV4(city, cityPlace(city, 8, countryOf, places))
    : readV4(RecordFile.require(path.join(dir, 'geoip-country.dat'), 10), countryPlace(8, places));
  // City IPv6 records point into the names file too; without it, geoip-lite 2.0.3 would throw.
  const city6 = countryOf && RecordFile.open(path.join(dir, 'geoip-city6.dat'), 48);
  const v6 = city6
    ? readV6(city6, cityPlace(city6, 32, countryOf, places))
    : readV6(RecordFile.require(path.join(dir, 'geoip-country6.dat'), 34), countryPlace(32, places));
  return { v4, v6, places: places.finish() };
}

type PlaceAt = (d: DataView, at: number, index: number) => number;

/** Country id of every location id. */
function readNames(names: RecordFile, places: Places): Uint16Array {
  const countryOf = new Uint16Array(names.count);
  names.forEach((d, at, i) => {
    countryOf[i] = places.country(codeAt(d, at));
  });
  return countryOf;
}

function cityPlace(file: RecordFile, offset: number, countryOf: Uint16Array, places: Places): PlaceAt {
  return (d, at, i) => {
    const location = d.getUint32(at + offset);
    if (location === NO_LOCATION) return NO_PLACE;
    if (location >= countryOf.length) throw file.error(i, `location id ${location}, but geoip-city-names.dat has ${countryOf.length}`);
    const lat = d.getInt32(at + offset + 4);
    const lon = d.getInt32(at + offset + 8);
    if (Math.abs(lat) > 900_000 || Math.abs(lon) > 1_800_000) throw file.error(i, `coordinates ${lat / 1e4}, ${lon / 1e4} out of range`);
    return places.id(countryOf[location]!, lat, lon);
  };
}

function countryPlace(offset: number, places: Places): PlaceAt {
  return (d, at) => places.id(places.country(codeAt(d, at + offset)), 0, 0);
}

function readV4(file: RecordFile, placeAt: PlaceAt): Ipv4Table {
  const ranges = new Ipv4Builder(file.count);
  let next = 0;
  file.forEach((d, at, i) => {
    let start = d.getUint32(at);
    const end = d.getUint32(at + 4);
    if (end < start) throw file.error(i, 'range ends before it starts');
    if (start < next) throw file.error(i, 'range starts inside the previous one (file not sorted?)');
    next = end + 1;
    const place = placeAt(d, at, i);
    for (let k = 0; k < PRIVATE_V4.length; k += 2) {
      const first = PRIVATE_V4[k]!;
      const last = PRIVATE_V4[k + 1]!;
      if (end < first || start > last) continue;
      if (start < first) ranges.add(start, first - 1, place);
      if (end <= last) return;
      start = last + 1;
    }
    ranges.add(start, end, place);
  });
  return ranges.finish();
}

// Not checked for order: geoip-lite 2.0.3's own geoip-city6.dat is not sorted (151 records start
// below the previous one's top 64 bits), and Ipv6Table reproduces what geoip-lite answers anyway.
function readV6(file: RecordFile, placeAt: PlaceAt): Ipv6Table {
  const n = file.count;
  const startHi = new Uint32Array(n);
  const startLo = new Uint32Array(n);
  const endHi = new Uint32Array(n);
  const endLo = new Uint32Array(n);
  const places = new Uint32Array(n);
  file.forEach((d, at, i) => {
    const sHi = d.getUint32(at);
    const sLo = d.getUint32(at + 4);
    const eHi = d.getUint32(at + 16);
    const eLo = d.getUint32(at + 20);
    if (eHi < sHi || (eHi === sHi && eLo < sLo)) throw file.error(i, 'range ends before it starts');
    startHi[i] = sHi;
    startLo[i] = sLo;
    endHi[i] = eHi;
    endLo[i] = eLo;
    places[i] = placeAt(d, at, i);
  });
  return new Ipv6Table(startHi, startLo, endHi, endLo, places);
}

/** A 2-byte code up to its first NUL, as geoip-lite reads it. */
function codeAt(d: DataView, at: number): string {
  if (d.getUint8(at) === 0) return '';
  return Buffer.from(d.buffer, d.byteOffset + at, d.getUint8(at + 1) === 0 ? 1 : 2).toString('utf8');
}

/** A file of fixed-size records, read a chunk at a time so it is never whole in memory. */
class RecordFile {
  readonly path: string;
  readonly size: number;
  readonly count: number;

  private constructor(file: string, size: number, count: number) {
    this.path = file;
    this.size = size;
    this.count = count;
  }

  /** The file, or null when it is missing or empty (geoip-lite then falls back to another file). */
  static open(file: string, size: number): RecordFile | null {
    let bytes: number;
    try {
      const fd = openSync(file, 'r');
      try {
        bytes = fstatSync(fd).size;
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SourceError('ERR_CONFIG', file, 0, `cannot read geoip-lite data: ${(err as Error).message}`);
    }
    if (bytes === 0) return null;
    if (bytes % size !== 0) {
      throw new SourceError('ERR_CONFIG', file, 0, `${bytes} bytes is not a whole number of ${size}-byte records (truncated?)`);
    }
    return new RecordFile(file, size, bytes / size);
  }

  /** The file, which must be there. */
  static require(file: string, size: number): RecordFile {
    const found = RecordFile.open(file, size);
    if (!found) throw new SourceError('ERR_CONFIG', file, 0, 'missing or empty, and the city data that would replace it is missing too');
    return found;
  }

  /** Calls `each` with every record: its bytes are `d` from offset `at`, valid during the call only. */
  forEach(each: (d: DataView, at: number, index: number) => void): void {
    const perChunk = Math.max(1, Math.floor(CHUNK / this.size));
    const buf = Buffer.allocUnsafe(perChunk * this.size);
    // DataView's big-endian reads are several times faster than Buffer's readUInt32BE.
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      throw new SourceError('ERR_CONFIG', this.path, 0, `cannot read geoip-lite data: ${(err as Error).message}`);
    }
    try {
      for (let index = 0; index < this.count;) {
        const n = Math.min(perChunk, this.count - index);
        this.#read(fd, buf, n * this.size, index * this.size);
        for (let i = 0; i < n; i++) each(view, i * this.size, index + i);
        index += n;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** ERR_CONFIG for record `index` (counted from 0). */
  error(index: number, reason: string): SourceError {
    return new SourceError('ERR_CONFIG', this.path, 0, `record ${index}: ${reason}`);
  }

  #read(fd: number, buf: Buffer, length: number, position: number): void {
    for (let got = 0; got < length;) {
      let n: number;
      try {
        n = readSync(fd, buf, got, length - got, position + got);
      } catch (err) {
        throw new SourceError('ERR_CONFIG', this.path, 0, `cannot read geoip-lite data: ${(err as Error).message}`);
      }
      if (n === 0) throw new SourceError('ERR_CONFIG', this.path, 0, 'shorter than when it was opened (replaced while reading?)');
      got += n;
    }
  }
}
