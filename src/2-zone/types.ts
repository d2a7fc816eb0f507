// The in-memory form of a loaded zone: immutable once built, shared by every query.
// Answering never mutates it; updates and reloads build a new Zone and swap one reference.

import type { NameKey } from '../0-base/name.ts';
import type { RRset } from '../1-codec/rrset.ts';

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

export interface ZoneNode {
  readonly name: NameKey;
  /** Empty for an empty non-terminal (a name that exists only because names below it do). */
  readonly rrsets: ReadonlyMap<number, RRset>;
}

/**
 * A zone. `P` is what its pools are: the zone layer knows only that a pool's name is a name of the
 * zone (gslb/ attaches `Pool`s, and `PooledZone` is a zone with them).
 */
export interface Zone<P = unknown> {
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
  /**
   * A secondary zone: the primary it is transferred from (`192.0.2.1:53`). Its records change only
   * by transfer; run-time changes reach its pools alone.
   */
  readonly primary?: string;
  /** A secondary zone past its SOA EXPIRE with no refresh: answered SERVFAIL (RFC 1035 §4.3.5). */
  readonly expired?: boolean;
  /** GSLB pools of this zone (`<origin>.pools.yaml`), by owner name; each name is also a node. */
  readonly pools?: ReadonlyMap<NameKey, P>;
  /**
   * Made by gslbd, not read from a file (the catalog zone, catalog.ts): its content is whatever
   * gslbd makes it, so run-time changes (API, UPDATE) are refused rather than kept and never served.
   */
  readonly generated?: true;
}

/** An RRset as run-time changes left it: owner in presentation form, RDATA in hex (none: deleted). */
export interface RRsetEdit {
  readonly name: string;
  readonly type: number;
  readonly ttl: number;
  readonly rdata: readonly string[];
}

/**
 * Run-time changes to one zone's data, `rrsetEditKey(name, type)` → the RRset now. The state layer
 * keeps them; overlay.ts lays them over the zone.
 */
export type RRsetEdits = ReadonlyMap<string, RRsetEdit>;

/** The key of an RRset in RRsetEdits: its owner compared case-insensitively (RFC 4343), and type. */
export function rrsetEditKey(name: string, type: number): string {
  return `${name.toLowerCase()}|${type}`;
}
