// The client a GSLB decision is about: the ECS subnet when the query carried one (RFC 7871 §7.1.1),
// else the query's source address. Its location is looked up at most once, on first use.

import net from 'node:net';
import type { ClientSubnet } from '../1-codec/query.ts';
import type { GeoDatabase, GeoLocation } from '../3-geo/types.ts';
import type { Client } from '../3-policy/types.ts';
import { addressToText } from '../0-base/address.ts';

export function subnetAddress(ecs: ClientSubnet): string {
  return addressToText(ecs.address);
}

/** `source` is the query's source address; an IPv4-mapped IPv6 source counts as IPv4. */
export function makeClient(source: string, ecs: ClientSubnet | null, geo: GeoDatabase | null): Client {
  let address: string;
  let family: 4 | 6;
  let prefix: number;
  if (ecs) {
    address = subnetAddress(ecs);
    family = ecs.family === 1 ? 4 : 6;
    prefix = ecs.sourcePrefix;
  } else {
    address = source.startsWith('::ffff:') && net.isIPv4(source.slice(7)) ? source.slice(7) : source;
    family = net.isIPv4(address) ? 4 : 6;
    prefix = family === 4 ? 32 : 128;
  }
  let looked = false;
  let location: GeoLocation | null = null;
  return {
    address,
    family,
    prefix,
    location() {
      if (!looked) {
        looked = true;
        // ECS source prefix 0 (RFC 7871 §7.1.2: "don't use my address") tells us nothing.
        location = geo && prefix > 0 ? geo.lookup(address) : null;
      }
      return location;
    },
  };
}
