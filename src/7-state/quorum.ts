// Health by quorum: the one rule every node applies to the votes it sees, so that nodes that see
// the same votes decide the same. A vote is one node's own verdict on one check (its rise/fall
// machine's state); votes of a node whose lease expired are gone, and do not count.
//
//   a check is down when its down votes reach the quorum of its live votes:
//     majority  more than half of the live votes (2 of 3, 2 of 2, 1 of 1)
//     any       one down vote
//     all       every live vote down
//     N         at least N down votes
//   with no live vote, the last effective state stands.

import type { HealthState, Quorum } from '../3-health/types.ts';

/** Down votes that evict, out of `live` live votes. */
export function downVotesNeeded(quorum: Quorum, live: number): number {
  switch (quorum) {
    case 'any':
      return 1;
    case 'all':
      return Math.max(1, live);
    case 'majority':
      return Math.floor(live / 2) + 1;
    default:
      return quorum;
  }
}

/** The effective state of a check from its live votes; `last` when there is none. */
export function decide(votes: Iterable<HealthState>, quorum: Quorum, last: HealthState): HealthState {
  let live = 0;
  let down = 0;
  for (const v of votes) {
    live++;
    if (v === 'down') down++;
  }
  if (live === 0) return last;
  return down >= downVotesNeeded(quorum, live) ? 'down' : 'up';
}
