// The answer cache: encoded responses to questions whose answer does not depend on who asks (no
// pool in it), so a repeated question skips the zone lookup and the encoder. Keyed by name, type,
// class and the room the answer had (which folds in transport, EDNS payload and the size of the
// OPT, ECS included); the OPT itself (DO bit, ECS echo with scope 0) is written per query.
// Emptied whenever the zones in service change.

import { LRUCache } from 'lru-cache';
import type { NameKey } from '../0-base/name.ts';

export interface CachedAnswer {
  readonly body: Buffer;
  readonly zone: NameKey | undefined;
  readonly rcode: number;
  /** RFC 9824 §5: a compact answer to a query with CO (its OPT, written per query, says CO). */
  readonly compact?: boolean;
}

export class AnswerCache {
  readonly #lru: LRUCache<string, CachedAnswer>;
  /**
   * Names a pool answered last time: never cached, so not looked up either (no key to build, no
   * LRU miss). Bounded like the cache; emptied with it.
   */
  readonly #dynamic = new Set<NameKey>();
  readonly #max: number;
  #version = -1;
  hits = 0;
  misses = 0;

  constructor(max = 10_000) {
    this.#lru = new LRUCache({ max });
    this.#max = max;
  }

  /**
   * Whether to look `qname` up at all: not when a pool answered it last time. Syncs first with
   * the zones' `version` (see sync).
   */
  serves(version: number, qname: NameKey): boolean {
    this.sync(version);
    return !this.#dynamic.has(qname);
  }

  /** Remembers that a pool answered `qname`. */
  markDynamic(qname: NameKey): void {
    if (this.#dynamic.size >= this.#max) this.#dynamic.clear();
    this.#dynamic.add(qname);
  }

  static key(qname: NameKey, qtype: number, qclass: number, room: number): string {
    return `${qname}${qtype}/${qclass}/${room}`;
  }

  /** Drops everything when the zones' version is not the one the entries were made from. */
  sync(version: number): void {
    if (version !== this.#version) {
      this.#lru.clear();
      this.#dynamic.clear();
      this.#version = version;
    }
  }

  get(key: string): CachedAnswer | undefined {
    const hit = this.#lru.get(key);
    if (hit) this.hits++;
    else this.misses++;
    return hit;
  }

  set(key: string, entry: CachedAnswer): void {
    this.#lru.set(key, entry);
  }
}
