// GeoDatabase over an operator's MaxMind-format .mmdb file (GeoIP2 / GeoLite2 City or Country,
// DB-IP City Lite, ...), read whole into memory by the `maxmind` package.

import { open as openFile } from 'node:fs/promises';
import { Reader, type CityResponse } from 'maxmind';
import { SourceError } from '../0-base/errors.ts';
import { lookupAddress } from './address.ts';
import { makeLocation } from './location.ts';
import type { GeoDatabase, GeoLocation, GeoPoint, SharedGeo } from './types.ts';

export class MmdbDatabase implements GeoDatabase {
  readonly description: string;
  readonly #reader: Reader<CityResponse>;
  readonly #path: string;
  readonly #bytes: Buffer;

  /** Use `openMmdb`: it checks the file. `bytes`: the file, in a SharedArrayBuffer. */
  constructor(path: string, bytes: Buffer, reader = new Reader<CityResponse>(bytes)) {
    const meta = reader.metadata;
    this.#reader = reader;
    this.#path = path;
    this.#bytes = bytes;
    this.description = `mmdb ${path} (${meta.databaseType}, built ${meta.buildEpoch.toISOString().slice(0, 10)})`;
  }

  /** The file's bytes, shared: a worker thread reads the same memory (openSharedGeo). */
  shared(): SharedGeo {
    return { type: 'mmdb', path: this.#path, bytes: this.#bytes };
  }

  lookup(address: string): GeoLocation | null {
    const addr = lookupAddress(address);
    // An IPv4-only tree cannot answer for IPv6 (the reader would walk it with the wrong bits).
    if (!addr || (addr.family === 6 && this.#reader.metadata.ipVersion !== 6)) return null;
    const [rec, prefix] = this.#reader.getWithPrefixLength(addr.text);
    if (!rec) return null;
    // country is where the address is used; registered_country (where its block is registered)
    // is the only country some records have (anycast, satellite), and beats knowing nothing.
    return makeLocation(
      {
        country: rec.country?.iso_code ?? rec.registered_country?.iso_code,
        continent: rec.continent?.code,
        point: toPoint(rec.location),
      },
      prefix + addr.prefixOffset,
    );
  }
}

/** Opens a .mmdb file; a missing or invalid file throws ERR_CONFIG naming the file and the reason. */
export async function openMmdb(path: string): Promise<MmdbDatabase> {
  let reader: Reader<CityResponse>;
  let bytes: Buffer;
  try {
    bytes = await readShared(path);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) throw new Error('gzip-compressed: give the .mmdb file, not its .gz');
    reader = new Reader<CityResponse>(bytes);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    let reason = e.message;
    if (e.code === 'ENOENT') reason = 'no such file';
    // Without the marker the reader decodes arbitrary bytes and reports e.g. "Unknown type 25".
    else if (!e.code && !/gzip/.test(reason) && !(await hasMetadataMarker(path))) {
      reason = 'no MaxMind DB metadata marker (not an .mmdb file)';
    }
    throw new SourceError('ERR_CONFIG', path, 0, `cannot open MaxMind database: ${reason}`);
  }
  const problem = metadataProblem(reader.metadata, bytes.length);
  if (problem) throw new SourceError('ERR_CONFIG', path, 0, `not a usable MaxMind database: ${problem}`);
  return new MmdbDatabase(path, bytes, reader);
}

/** The whole file in a SharedArrayBuffer (worker threads read it in place). */
async function readShared(path: string): Promise<Buffer> {
  const file = await openFile(path, 'r');
  try {
    const { size } = await file.stat();
    const bytes = Buffer.from(new SharedArrayBuffer(size));
    for (let at = 0; at < size;) {
      const { bytesRead } = await file.read(bytes, at, size - at, at);
      if (bytesRead === 0) throw new Error(`file shrank while read (${at} of ${size} bytes)`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await file.close();
  }
}

// The reader accepts any bytes whose tail happens to decode as a map; check what lookups rely on,
// so a bad file fails here rather than as RangeErrors on the query path.
function metadataProblem(meta: Reader<CityResponse>['metadata'], size: number): string | undefined {
  if (meta.binaryFormatMajorVersion !== 2)
    return `binary_format_major_version ${String(meta.binaryFormatMajorVersion)}, expected 2`;
  if (meta.ipVersion !== 4 && meta.ipVersion !== 6) return `ip_version ${String(meta.ipVersion)}, expected 4 or 6`;
  if (!Number.isInteger(meta.nodeCount) || meta.nodeCount <= 0) return `node_count ${String(meta.nodeCount)}`;
  // The search tree and the 16-byte data section separator must fit in the file.
  if (meta.searchTreeSize + 16 > size)
    return `search tree of ${meta.nodeCount} nodes is larger than the file (truncated?)`;
  return undefined;
}

const METADATA_MARKER = Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1');
/** MaxMind DB spec: metadata starts after this marker, within the last 128 KiB of the file. */
async function hasMetadataMarker(path: string): Promise<boolean> {
  const file = await openFile(path, 'r').catch(() => undefined);
  if (!file) return false;
  try {
    const { size } = await file.stat();
    const length = Math.min(size, 128 * 1024);
    const tail = Buffer.alloc(length);
    await file.read(tail, 0, length, size - length);
    return tail.includes(METADATA_MARKER);
  } finally {
    await file.close();
  }
}

function toPoint(loc: CityResponse['location']): GeoPoint | undefined {
  if (typeof loc?.latitude !== 'number' || typeof loc.longitude !== 'number') return undefined;
  return { lat: loc.latitude, lon: loc.longitude };
}
