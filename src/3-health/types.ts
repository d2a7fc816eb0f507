// Health checking: probers report raw pass/fail; one state machine per check decides up/down.

/** What one probe found. Probers never decide state: they only report. */
export interface ProbeResult {
  readonly ok: boolean;
  /** Short, for logs and status: "connect ECONNREFUSED", "HTTP 500", "timeout after 1000 ms". */
  readonly reason: string;
  readonly latencyMs: number;
  /**
   * A failure the target itself answered (connection refused or reset): certain, not a lost
   * packet, so with `fastFail` the scheduler re-probes at once to reach `fall` quickly.
   */
  readonly hard: boolean;
  /**
   * The probe could not be made from here (this process ran out of file descriptors, ports or
   * buffers): it says nothing about the target, so the check's state is left as it was.
   */
  readonly local?: boolean;
}

/** Socket errors that are this host's, not the target's (see ProbeResult.local). */
export const LOCAL_ERRORS: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'EADDRNOTAVAIL']);

/** One endpoint probed: the check's spec plus the address to reach (its `host`, else the target's). */
export interface ProbeTarget {
  readonly address: string;
  readonly spec: CheckSpec;
}

export interface ProbeOptions {
  /** Aborted when the probe's timeout passes or the check is stopped. */
  readonly signal: AbortSignal;
  /**
   * Optional (checks with `fastFail`): after a pass, the prober may keep watching the target (an
   * idle connection) until `watch.signal` aborts, and call `onLost` at most once if the target goes
   * away meanwhile. The scheduler then re-probes at once instead of waiting for the next interval.
   */
  readonly watch?: { readonly signal: AbortSignal; readonly onLost: () => void };
}

export interface Prober {
  /** Resolves (never rejects) within the spec's timeout. */
  probe(target: ProbeTarget, options: ProbeOptions): Promise<ProbeResult>;
}

export type HealthState = 'up' | 'down';

export interface Transition {
  readonly from: HealthState;
  readonly to: HealthState;
  readonly at: number;
  readonly reason: string;
}

/** A check as a pools file (or the API) defines it; the probers and the state machine read it. */
export interface CheckSpec {
  readonly type: 'tcp' | 'http' | 'https' | 'dns';
  /** Probe this host instead of the target's address (pdns#7468). */
  readonly host?: string;
  readonly port: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  /** Consecutive passes to come up / failures to go down. */
  readonly rise: number;
  readonly fall: number;
  /** http/https: request path, accepted status codes, body substring, Host header / SNI name. */
  readonly path: string;
  readonly expect: readonly number[];
  readonly body?: string;
  readonly hostHeader?: string;
  /** https: accept any certificate (self-signed). */
  readonly insecure: boolean;
  /**
   * State before the first verdict when the journal knows none (a new check): `up` (default) or
   * `down` (no traffic until `rise` passes). A restart starts from the journal's last known state.
   */
  readonly initial?: 'up' | 'down';
  /**
   * Count a hard failure (connection refused or reset) as `fall` failures: re-probe at once until
   * `fall` is reached, and keep watching a tcp target's idle connection between probes. Off by
   * default: an up check can then go down within milliseconds of its next probe (or, watched, at
   * any moment), so the TTL of its answers can only be bounded by that, not by `fall` probes.
   */
  readonly fastFail?: boolean;
  /** dns: name and type to ask, rcode expected. */
  readonly query?: { readonly name: string; readonly type: number; readonly rcode: number };
}

/** What the checker needs of a target: which check, against which address. */
export interface CheckedTarget {
  /** Stable identity across reloads (`<pool>/<address>`). */
  readonly id: string;
  readonly address: string;
  readonly check: CheckSpec | null;
}

/**
 * How many nodes' down verdicts evict a target in a cluster (`cluster.quorum`): more than half of
 * the live votes, any one, all of them, or at least N.
 */
export type Quorum = 'majority' | 'any' | 'all' | number;
