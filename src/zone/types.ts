// The in-memory form of a loaded zone: immutable once built, shared by every query.
// Answering never mutates it; updates and reloads build a new Zone and swap one reference.

import type { NameKey } from '../dns/name.ts';
import type { Pool } from '../gslb/pool.ts';

/** One record as read from a zone file, before it is grouped into RRsets. */
export interface ParsedRecord {
  /** Owner, wire form, case as written. */
  readonly owner: Buffer;
  readonly type: number;
  readonly ttl: number;
  /** Uncompressed wire RDATA (names in it keep their case). */
  readonly rdata: Buffer;
  /** Where it was read: file path as given to the parser, and 1-based line number. */
  readonly file: string;
  readonly line: number;
}

/**
 * An RRset, pre-encoded for the answer path.
 * `wire[i]` is RR i without its owner: TYPE CLASS(IN) TTL RDLENGTH RDATA, ready to copy after
 * whatever owner name (or compression pointer) the response writer emits.
 */
export interface RRset {
  readonly owner: NameKey;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: readonly Buffer[];
  readonly wire: readonly Buffer[];
  /**
   * Names this RRset points at, for CNAME chasing and additional-section processing
   * (CNAME/DNAME target, NS nsdname, MX exchange, SRV target); empty for other types.
   */
  readonly targets: readonly NameKey[];
}

export interface ZoneNode {
  readonly name: NameKey;
  /** Empty for an empty non-terminal (a name that exists only because names below it do). */
  readonly rrsets: ReadonlyMap<number, RRset>;
}

export interface Zone {
  readonly origin: NameKey;
  /** Source file, for messages. */
  readonly file: string;
  readonly serial: number;
  readonly soa: RRset;
  /** Every name in the zone, empty non-terminals included, keyed by NameKey. */
  readonly nodes: ReadonlyMap<NameKey, ZoneNode>;
  /** Delegation points: names below the apex that own an NS RRset. */
  readonly cuts: ReadonlySet<NameKey>;
  /**
   * Owners of a DNAME (RFC 6672), the apex included. Names below them are never answered from
   * data: the loader warns about any there, and the answer path synthesizes a CNAME instead.
   */
  readonly dnames: ReadonlySet<NameKey>;
  /** GSLB pools of this zone (`<origin>.pools.yaml`), by owner name; each name is also a node. */
  readonly pools?: ReadonlyMap<NameKey, Pool>;
}
