// The prober for each check type.

import type { CheckSpec } from '../types.ts';
import type { Prober } from '../types.ts';
import { dnsProber } from './dns.ts';
import { httpProber } from './http.ts';
import { tcpProber } from './tcp.ts';

export const probers: Readonly<Record<CheckSpec['type'], Prober>> = {
  tcp: tcpProber,
  http: httpProber,
  https: httpProber,
  dns: dnsProber,
};
