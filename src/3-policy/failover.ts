// failover: priority tiers. Only the lowest tier number among the usable candidates serves (a
// missing priority is tier 1), in the order the pool lists them; a tier with fewer targets than
// `count` answers with fewer rather than mixing in a standby tier. Scope 0: not client-dependent.

import type { Candidate, PolicyFactory } from './types.ts';
import { answerCount } from './shared.ts';

const tier = (c: Candidate): number => c.priority ?? 1;

export const failover: PolicyFactory = () => ({
  name: 'failover',
  pick(candidates, count) {
    let best = Infinity;
    for (const c of candidates) best = Math.min(best, tier(c));
    const serving = candidates.filter((c) => tier(c) === best);
    return { indexes: serving.slice(0, answerCount(count, serving.length)).map((c) => c.index), scope: 0 };
  },
});
