// The TCP connections of one listener and the RFC 7766 §10 limits on them: a cap on all of them,
// a cap per client, and, when every slot is taken, room made for a new client by closing the
// idlest connection rather than refusing the newcomer (a server "may close ... idle connections
// ... to free up resources", §6.2.3). Without that, a few slow clients hold every slot for good.

import type net from 'node:net';
import { lookupAddress } from '../3-geo/address.ts';

export interface TcpSlot {
  readonly sock: net.Socket;
  /** Whose slot it is: an IPv4 address, or an IPv6 /64. */
  readonly client: string;
  /** When bytes last came, as a count of events (the order is what matters, not the time). */
  lastActive: number;
  /** When the message now arriving began (same count); null between messages. */
  messageSince: number | null;
}

/**
 * The client a connection counts against. One IPv6 host commonly holds a whole /64 (RFC 4291
 * §2.5.1 interface identifiers, RFC 8981 temporary addresses), so it counts as one client; an
 * IPv4-mapped address is its IPv4 address.
 */
export function clientOf(address: string): string {
  const a = lookupAddress(address);
  if (!a) return address;
  return a.family === 4 ? a.text : `${a.bytes.toString('hex', 0, 8)}/64`;
}

export class TcpSlots implements Iterable<net.Socket> {
  readonly #max: number;
  readonly #perClient: number;
  readonly #slots = new Set<TcpSlot>();
  readonly #clients = new Map<string, number>();
  #events = 0;

  constructor(max: number, perClient: number) {
    this.#max = max;
    this.#perClient = perClient;
  }

  /**
   * A slot for a new connection from `address`, or null when that client already has its share
   * (the caller closes the socket). With every slot taken, the idlest connection is closed first.
   */
  open(sock: net.Socket, address: string): TcpSlot | null {
    const client = clientOf(address);
    const n = this.#clients.get(client) ?? 0;
    if (n >= this.#perClient) return null;
    if (this.#slots.size >= this.#max) {
      const victim = this.#idlest();
      if (!victim) return null;
      this.close(victim);
      victim.sock.destroy();
    }
    const slot: TcpSlot = { sock, client, lastActive: ++this.#events, messageSince: null };
    this.#slots.add(slot);
    this.#clients.set(client, n + 1);
    return slot;
  }

  /** Bytes came: `partial` when a message is left incomplete, `started` when it began in them. */
  activity(slot: TcpSlot, partial: boolean, started: boolean): void {
    slot.lastActive = ++this.#events;
    if (!partial) slot.messageSince = null;
    else if (started) slot.messageSince = slot.lastActive;
  }

  /** The connection is gone; closing a slot twice is harmless. */
  close(slot: TcpSlot): void {
    if (!this.#slots.delete(slot)) return;
    const n = this.#clients.get(slot.client)! - 1;
    if (n) this.#clients.set(slot.client, n);
    else this.#clients.delete(slot.client);
  }

  get size(): number {
    return this.#slots.size;
  }

  *[Symbol.iterator](): Iterator<net.Socket> {
    for (const s of [...this.#slots]) yield s.sock;
  }

  /**
   * The connection to close for a newcomer: the one idle longest between messages; if every one is
   * inside a message, the one whose message began longest ago (the slowest sender).
   */
  #idlest(): TcpSlot | null {
    let best: TcpSlot | null = null;
    for (const s of this.#slots) {
      if (!best) best = s;
      else if ((s.messageSince === null) !== (best.messageSince === null)) {
        if (s.messageSince === null) best = s;
      } else if ((s.messageSince ?? s.lastActive) < (best.messageSince ?? best.lastActive)) best = s;
    }
    return best;
  }
}
