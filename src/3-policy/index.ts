// The policy registry: configuration names a policy, the pool builder looks its factory up here.

import type { PolicyFactory } from './types.ts';
import { affinity } from './affinity.ts';
import { failover } from './failover.ts';
import { geoMap } from './geo-map.ts';
import { geoProximity } from './geo-proximity.ts';
import { leastLoad } from './least-load.ts';
import { random } from './random.ts';
import { roundRobin } from './round-robin.ts';
import { weighted } from './weighted.ts';

export type PolicyName =
  'round-robin' | 'random' | 'weighted' | 'least-load' | 'geo-proximity' | 'geo-map' | 'failover' | 'affinity';

export const policies: Readonly<Record<PolicyName, PolicyFactory>> = Object.freeze({
  'round-robin': roundRobin,
  random,
  weighted,
  'least-load': leastLoad,
  'geo-proximity': geoProximity,
  'geo-map': geoMap,
  failover,
  affinity,
});

/** Every policy name, for validating configuration. */
export const POLICY_NAMES: readonly PolicyName[] = Object.freeze(Object.keys(policies) as PolicyName[]);
