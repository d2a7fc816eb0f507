// Reads geoip-lite's data directory into the tables of geoip-lite-tables.ts, without loading the
// geoip-lite module (which would read all ~108 MB into buffers). Files are read READ records at a
// time and checked as they go; a bad file fails with ERR_CONFIG naming it.
//
// The read is asynchronous and sliced so that a server loading the data (at start, on a reload
// that brings the first geo pool) keeps answering: the event loop gets a turn at every read, and
// between reads whenever the work on records has held it for SLICE_MS. Done in one go, the same
// work blocks it for 300-500 ms (2 vCPU, Node 24).
//
// The formats (geoip-lite 2.x, lib/geoip.js; all integers big-endian):
//   geoip-city-names.dat  88-byte locations; bytes 0-1 the country code (NUL-padded), rest unused here
//   geoip-city.dat        24 bytes: first u32, last u32, location id u32 (0xffffffff: none),
//                         latitude i32, longitude i32 (1e-4 degree), area u32
//   geoip-city6.dat       48 bytes: first 16 bytes, last 16 bytes, then as above from the location id
//   geoip-country.dat     10 bytes: first u32, last u32, country code
//   geoip-country6.dat    34 bytes: first 16 bytes, last 16 bytes, country code
// geoip-lite uses the country files when the city files are missing or empty.

import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SourceError } from '../0-base/errors.ts';
import {
  Ipv4Builder,
  Ipv6Table,
  NO_PLACE,
  Places,
  shared,
  type Ipv4Table,
  type PlaceTable,
} from './geoip-lite-tables.ts';

export interface GeoipLiteData {
  readonly v4: Ipv4Table;
  readonly v6: Ipv6Table;
  readonly places: PlaceTable;
}

const NO_LOCATION = 0xffffffff;
/** Records per read: 384 KiB of geoip-city.dat, 1.4 MiB of geoip-city-names.dat. */
const READ = 16_384;
/**
 * How long the work on records may hold the event loop before it yields. A time, not a count of
 * records: a record costs ~50 ns once V8 has optimized the code, but over 1 µs before, so the
 * first 16,384 records of a file took up to 23 ms (2 vCPU, Node 24) where later ones took 1 ms.
 */
const SLICE_MS = 4;
/** Records between two looks at the clock: well under 1 ms of work even before V8 optimizes. */
const CLOCK_EVERY = 256;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

// geoip-lite answers nothing for these, whatever its data says: first and last address of
// 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16, ascending.
const PRIVATE_V4 = [0x0a000000, 0x0affffff, 0xac100000, 0xac1fffff, 0xc0a80000, 0xc0a8ffff];

/**
 * Reads the data files in `dir`, yielding to the event loop between slices of records. Rejects
 * with ERR_CONFIG naming the file that is missing or invalid.
 */
export async function readGeoipLiteData(dir: string): Promise<GeoipLiteData> {
  const places = new Places();
  const names = await RecordFile.open(path.join(dir, 'geoip-city-names.dat'), 88);
  const countryOf = names && (await readNames(names, places));
  const city = countryOf && (await RecordFile.open(path.join(dir, 'geoip-city.dat'), 24));
  const v4 = city
    ? await readV4(city, cityPlace(city, 8, countryOf, places))
    : await readV4(await RecordFile.require(path.join(dir, 'geoip-country.dat'), 10), countryPlace(8, places));
  // City IPv6 records point into the names file too; without it, geoip-lite 2.0.3 would throw.
  const city6 = countryOf && (await RecordFile.open(path.join(dir, 'geoip-city6.dat'), 48));
  const v6 = city6
    ? await readV6(city6, cityPlace(city6, 32, countryOf, places))
    : await readV6(await RecordFile.require(path.join(dir, 'geoip-country6.dat'), 34), countryPlace(32, places));
  return { v4, v6, places: places.finish() };
}

type PlaceAt = (d: DataView, at: number, index: number) => number;

/** Country id of every location id. */
async function readNames(names: RecordFile, places: Places): Promise<Uint16Array> {
  const countryOf = new Uint16Array(names.count);
  const countryAt = countryIds(places);
  await names.forEach((d, at, i) => {
    countryOf[i] = countryAt(d, at);
  });
  return countryOf;
}

function cityPlace(file: RecordFile, offset: number, countryOf: Uint16Array, places: Places): PlaceAt {
  return (d, at, i) => {
    const location = d.getUint32(at + offset);
    if (location === NO_LOCATION) return NO_PLACE;
    if (location >= countryOf.length)
      throw file.error(i, `location id ${location}, but geoip-city-names.dat has ${countryOf.length}`);
    const lat = d.getInt32(at + offset + 4);
    const lon = d.getInt32(at + offset + 8);
    if (Math.abs(lat) > 900_000 || Math.abs(lon) > 1_800_000)
      throw file.error(i, `coordinates ${lat / 1e4}, ${lon / 1e4} out of range`);
    return places.id(countryOf[location]!, lat, lon);
  };
}

function countryPlace(offset: number, places: Places): PlaceAt {
  const countryAt = countryIds(places);
  return (d, at) => places.id(countryAt(d, at + offset), 0, 0);
}

async function readV4(file: RecordFile, placeAt: PlaceAt): Promise<Ipv4Table> {
  const ranges = new Ipv4Builder(file.count);
  let next = 0;
  await file.forEach((d, at, i) => {
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
async function readV6(file: RecordFile, placeAt: PlaceAt): Promise<Ipv6Table> {
  const n = file.count;
  const startHi = shared(Uint32Array, n);
  const startLo = shared(Uint32Array, n);
  const endHi = shared(Uint32Array, n);
  const endLo = shared(Uint32Array, n);
  const places = shared(Uint32Array, n);
  await file.forEach((d, at, i) => {
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

/**
 * Reads 2-byte country codes as Places country ids, remembered by the two bytes: a string per
 * record would be most of the time spent on the names file.
 */
function countryIds(places: Places): (d: DataView, at: number) => number {
  const ids = new Map<number, number>();
  return (d, at) => {
    const bytes = d.getUint16(at);
    let id = ids.get(bytes);
    if (id === undefined) ids.set(bytes, (id = places.country(codeAt(d, at))));
    return id;
  };
}

/** A 2-byte code up to its first NUL, as geoip-lite reads it. */
function codeAt(d: DataView, at: number): string {
  if (d.getUint8(at) === 0) return '';
  return Buffer.from(d.buffer, d.byteOffset + at, d.getUint8(at + 1) === 0 ? 1 : 2).toString('utf8');
}

/**
 * Calls `each` on records `from` up to `n` of `view` (the first being record `base` of the file),
 * until done or the clock passes `until`; returns the record it stopped at. Not part of the async
 * forEach so that V8 optimizes it as it would any function called often: a loop in an async
 * function that runs once per file would stay in slower code for much of the file.
 */
function workUntil(
  each: (d: DataView, at: number, index: number) => void,
  view: DataView,
  size: number,
  base: number,
  from: number,
  n: number,
  until: number,
): number {
  let i = from;
  while (i < n) {
    const stop = Math.min(n, i + CLOCK_EVERY);
    for (; i < stop; i++) each(view, i * size, base + i);
    if (performance.now() > until) break;
  }
  return i;
}

/** A file of fixed-size records, read a batch at a time so it is never whole in memory. */
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
  static async open(file: string, size: number): Promise<RecordFile | null> {
    let bytes: number;
    try {
      const fh = await open(file, 'r');
      try {
        bytes = (await fh.stat()).size;
      } finally {
        await fh.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SourceError('ERR_CONFIG', file, 0, `cannot read geoip-lite data: ${(err as Error).message}`);
    }
    if (bytes === 0) return null;
    if (bytes % size !== 0) {
      throw new SourceError(
        'ERR_CONFIG',
        file,
        0,
        `${bytes} bytes is not a whole number of ${size}-byte records (truncated?)`,
      );
    }
    return new RecordFile(file, size, bytes / size);
  }

  /** The file, which must be there. */
  static async require(file: string, size: number): Promise<RecordFile> {
    const found = await RecordFile.open(file, size);
    if (!found)
      throw new SourceError(
        'ERR_CONFIG',
        file,
        0,
        'missing or empty, and the city data that would replace it is missing too',
      );
    return found;
  }

  /**
   * Calls `each` with every record: its bytes are `d` from offset `at`, valid during the call only.
   * READ records at a time, each batch read while the one before is worked on; the event loop
   * gets a turn while a read is awaited, and every SLICE_MS of work.
   */
  async forEach(each: (d: DataView, at: number, index: number) => void): Promise<void> {
    // Two buffers, reused: one being read into, one being worked on.
    const bufs = [0, 1].map(() => Buffer.allocUnsafe(Math.min(READ, this.count) * this.size));
    // DataView's big-endian reads are several times faster than Buffer's readUInt32BE.
    const views = bufs.map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
    } catch (err) {
      throw new SourceError('ERR_CONFIG', this.path, 0, `cannot read geoip-lite data: ${(err as Error).message}`);
    }
    const batch = (index: number, k: number) =>
      this.#read(fh, bufs[k]!, Math.min(READ, this.count - index) * this.size, index * this.size);
    let reading: Promise<void> | undefined = batch(0, 0);
    try {
      let until = performance.now() + SLICE_MS;
      for (let index = 0, k = 0; index < this.count; k ^= 1) {
        await reading;
        const n = Math.min(READ, this.count - index);
        reading = index + n < this.count ? batch(index + n, k ^ 1) : undefined;
        for (let i = 0; i < n;) {
          i = workUntil(each, views[k]!, this.size, index, i, n, until);
          if (i < n) {
            await turn();
            until = performance.now() + SLICE_MS;
          }
        }
        index += n;
      }
    } finally {
      // A record that failed its check leaves the next read in flight: let it end before closing.
      await reading?.catch(() => {});
      await fh.close();
    }
  }

  /** ERR_CONFIG for record `index` (counted from 0). */
  error(index: number, reason: string): SourceError {
    return new SourceError('ERR_CONFIG', this.path, 0, `record ${index}: ${reason}`);
  }

  async #read(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
    for (let got = 0; got < length;) {
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, got, length - got, position + got));
      } catch (err) {
        throw new SourceError('ERR_CONFIG', this.path, 0, `cannot read geoip-lite data: ${(err as Error).message}`);
      }
      if (n === 0)
        throw new SourceError('ERR_CONFIG', this.path, 0, 'shorter than when it was opened (replaced while reading?)');
      got += n;
    }
  }
}
