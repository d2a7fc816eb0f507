// round-robin: each answer starts one candidate further on. With count > 1 the answer is the run
// of consecutive candidates from there, so over a cycle every candidate leads exactly once.
// The choice does not depend on the client: scope 0 (RFC 7871 §7.2.1).

import type { PolicyFactory } from './types.ts';
import { Rotor } from './shared.ts';

export const roundRobin: PolicyFactory = () => {
  const rotor = new Rotor();
  return {
    name: 'round-robin',
    pick(candidates, count) {
      return { indexes: rotor.take(candidates, count), scope: 0 };
    },
  };
};
