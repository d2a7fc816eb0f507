// The HTTP API's settings as gslbd.yaml gives them (`api:`): read by load.ts, served by 8-api/.
// Tokens are kept as SHA-256 hashes from the moment they are read.

import { createHash } from 'node:crypto';
import type { Cidr } from '../0-base/cidr.ts';
import type { ListenAddress } from '../0-base/listen.ts';

export type Access = 'read' | 'write';

export interface ApiToken {
  /** Who the token belongs to: logged, and the changeset source `api:<name>`. Never the token. */
  readonly name: string;
  /** SHA-256 of the token, hex. */
  readonly hash: string;
  readonly access: Access;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export interface ApiOptions {
  readonly listen: ListenAddress;
  readonly tokens: readonly ApiToken[];
  /** Largest request body in bytes; larger ones get 413. */
  readonly bodyLimit?: number;
  /** HTTPS with this certificate chain and key (PEM files, absolute paths); absent: plain HTTP. */
  readonly tls?: ApiTls;
  /** Only clients inside these prefixes may connect; absent: any client may. */
  readonly allow?: readonly Cidr[];
  /** Requests one client (an IPv4 address, an IPv6 /64) may have in flight; more get 429. */
  readonly maxInFlightPerClient?: number;
}

export interface ApiTls {
  readonly cert: string;
  readonly key: string;
}

/** A monitor pushing reports for many targets at once fits; a client stuck on slow requests does not hold more. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CLIENT = 16;

/** 1 MiB: a batch of several thousand changes fits. */
export const DEFAULT_BODY_LIMIT = 1 << 20;
