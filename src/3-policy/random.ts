// random: a uniform choice through ctx.random; count > 1 draws without replacement (partial
// Fisher–Yates), so every ordered subset is equally likely. Scope 0: not client-dependent.

import type { PolicyFactory } from './types.ts';
import { answerCount, shuffleTake } from './shared.ts';

export const random: PolicyFactory = () => ({
  name: 'random',
  pick(candidates, count, ctx) {
    const chosen = shuffleTake(candidates, answerCount(count, candidates.length), () => ctx.random());
    return { indexes: chosen.map((c) => c.index), scope: 0 };
  },
});
