// affinity: the same client subnet gets the same target, by weighted rendezvous hashing (highest
// random weight: Thaler & Ravishankar, "Using name-based mappings to increase hit rates", 1998;
// the −w/ln(u) weighting is the "logarithmic method" of Schindelhauer & Schomaker, "Weighted
// distributed hash tables", 2005). Each target scores  −weight / ln(u),  u = hash(subnet, target
// key) mapped into (0, 1); the highest scores answer. A target's chance to win is weight / total
// weight, and when a target leaves only the subnets it was winning move: no other score changes.
//
// The subnet is the client address cut to /24 (IPv4) or /56 (IPv6) — the sizes a resolver usually
// sends in ECS (RFC 7871 §11.1) — or to the ECS source prefix when that is shorter. The answer
// depends on exactly those bits, so that is the scope (RFC 7871 §7.2.1).

import type { Client, PolicyFactory } from './types.ts';
import { parseIPv4, parseIPv6 } from '../0-base/address.ts';
import { FNV_OFFSET, fmix32, fnvBytes, fnvString, unitInterval } from './hash.ts';
import { answerCount } from './shared.ts';

/** FNV-1a state after absorbing the client's subnet: its first `bits` bits, the rest zeroed. */
function subnetState(client: Client, bits: number): number {
  const bytes = client.family === 4 ? parseIPv4(client.address) : parseIPv6(client.address);
  // An address we cannot parse should not happen (it comes from the wire); hash its text then.
  if (!bytes) return fnvString(FNV_OFFSET, client.address);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    bytes[i]! &= (0xff00 >>> keep) & 0xff;
  }
  return fnvBytes(fnvBytes(FNV_OFFSET, Uint8Array.of(client.family)), bytes);
}

export const affinity: PolicyFactory = () => ({
  name: 'affinity',
  pick(candidates, count, ctx) {
    const client = ctx.client;
    const bits = Math.min(client.prefix, client.family === 4 ? 24 : 56);
    const state = subnetState(client, bits);
    const scores = new Map<number, number>();
    const score = candidates.map((c) => {
      const s = -c.weight / Math.log(unitInterval(fmix32(fnvString(state, c.key))));
      scores.set(c.index, s);
      return s;
    });
    // Sort positions, not candidates: the list is shared. Ties (2^-32 odds) keep pool order.
    const order = candidates.map((_, p) => p).sort((a, b) => score[b]! - score[a]! || a - b);
    const indexes = order.slice(0, answerCount(count, candidates.length)).map((p) => candidates[p]!.index);
    return { indexes, scope: bits, scores, scoreName: 'hash' };
  },
});
