// The checks a cluster node answers by: its own probe checks (a HealthChecker), with each check's
// state replaced by what the live votes of every node decide (quorum.ts). This node's verdicts go
// out as its votes; while it is detached from etcd (longer than the vote TTL), it answers by its own
// verdicts again, so dead targets still leave.

import type { CheckedTarget, Quorum } from '../3-health/types.ts';
import type { Checks, CheckStatus } from '../3-health/checker.ts';
import type { HealthState } from '../3-health/types.ts';
import type { EtcdVotes } from './etcd-votes.ts';
import { decide } from './quorum.ts';

export interface QuorumChange {
  readonly check: string;
  readonly from: HealthState;
  readonly to: HealthState;
  /** Down votes and live votes when it changed. */
  readonly down: number;
  readonly live: number;
}

export class QuorumChecks implements Checks {
  readonly #local: Checks;
  readonly #votes: EtcdVotes;
  readonly #quorum: Quorum;
  readonly #now: () => number;
  readonly #onChange: (c: QuorumChange) => void;
  /** The effective state of each check the votes have decided, and since when. */
  readonly #effective = new Map<string, { state: HealthState; since: number }>();
  /** Of each check: the fewest probe results another node needs to change its vote (TTL bound). */
  readonly #others = new Map<string, number>();
  /** The status last handed out for a check, and what it was made from. */
  readonly #memo = new Map<
    string,
    { base: CheckStatus; state: HealthState | undefined; others: number | undefined; out: CheckStatus }
  >();

  constructor(local: Checks, votes: EtcdVotes, quorum: Quorum, now: () => number, onChange: (c: QuorumChange) => void) {
    this.#local = local;
    this.#votes = votes;
    this.#quorum = quorum;
    this.#now = now;
    this.#onChange = onChange;
  }

  /** The votes on `check` changed: decide again. */
  recompute(check: string): void {
    const votes = this.#votes.votes(check);
    let others = Infinity;
    for (const v of votes.values()) if (v.node !== this.#votes.node && v.remaining < others) others = v.remaining;
    if (Number.isFinite(others)) this.#others.set(check, others);
    else this.#others.delete(check);
    const prev = this.#effective.get(check);
    const own = this.#local.byKey(check)?.state;
    const last = prev?.state ?? own ?? 'up';
    const state = decide(
      [...votes.values()].map((v) => v.state),
      this.#quorum,
      last,
    );
    if (prev?.state === state) return;
    this.#effective.set(check, { state, since: this.#now() });
    if (prev || state !== (own ?? 'up')) {
      let down = 0;
      for (const v of votes.values()) if (v.state === 'down') down++;
      this.#onChange({ check, from: last, to: state, down, live: votes.size });
    }
  }

  sync(targets: Iterable<CheckedTarget>): void {
    this.#local.sync(targets);
    const keys = new Set(this.#local.all().map((c) => c.key));
    for (const k of this.#effective.keys()) if (!keys.has(k)) this.#effective.delete(k);
    for (const k of this.#others.keys()) if (!keys.has(k)) this.#others.delete(k);
    for (const k of this.#memo.keys()) if (!keys.has(k)) this.#memo.delete(k);
    this.#votes.retain(keys);
  }

  statusOf(targetId: string): CheckStatus | undefined {
    const s = this.#local.statusOf(targetId);
    return s && this.#view(s);
  }

  byKey(key: string): CheckStatus | undefined {
    const s = this.#local.byKey(key);
    return s && this.#view(s);
  }

  all(): CheckStatus[] {
    return this.#local.all().map((s) => this.#view(s));
  }

  /** This node's own status of its checks, as its probes found them. */
  own(): CheckStatus[] {
    return this.#local.all();
  }

  stop(): void {
    this.#local.stop();
  }

  /**
   * `s` with the effective state in place of this node's own, and what the other nodes' votes still
   * need to change (`othersRemaining`, for the TTL); `s` itself when no other node votes and the
   * state is this node's own.
   */
  #view(s: CheckStatus): CheckStatus {
    if (this.#votes.detached) return s;
    const e = this.#effective.get(s.key);
    const state = e && e.state !== s.state ? e : undefined;
    const others = this.#others.get(s.key);
    if (!state && others === undefined) return s;
    const m = this.#memo.get(s.key);
    if (m && m.base === s && m.state === state?.state && m.others === others) return m.out;
    const out: CheckStatus = {
      ...s,
      ...(state && { state: state.state, since: state.since }),
      ...(others !== undefined && { othersRemaining: others }),
    };
    this.#memo.set(s.key, { base: s, state: state?.state, others, out });
    return out;
  }
}
