// What a Service adds as one node of a cluster (`cluster:` in gslbd.yaml): the etcd store, this
// node's votes and the quorum over everyone's, the digest of its files, and the operator's view of
// the nodes (GET /v1/cluster). Service composes it; it composes 7-state's parts.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../0-base/log.ts';
import type { Checks, CheckStatus } from '../3-health/checker.ts';
import type { Clock } from '../3-health/clock.ts';
import type { HealthState, Transition } from '../3-health/types.ts';
import type { ClusterOptions } from '../7-config/cluster-options.ts';
import { EtcdStore } from '../7-state/etcd-store.ts';
import { EtcdVotes, type Vote } from '../7-state/etcd-votes.ts';
import { EtcdCounts } from '../7-state/node-counts.ts';
import { QuorumChecks, type QuorumChange } from '../7-state/quorum-checks.ts';
import { ClusterCounts, type ClusterSum } from './cluster-counts.ts';

export interface ClusterNodeOptions {
  readonly cluster: ClusterOptions;
  readonly clock: Clock;
  /** Where the local copy of the cluster state goes; null: none. */
  readonly dataDir: string | null;
  readonly log: Logger;
  /** A check's effective state changed by the votes of the nodes. */
  readonly onQuorumChange: (c: QuorumChange) => void;
  /** Between two samples of the charts, ms: how often this node publishes its counts. */
  readonly chartStepMs: number;
}

export class ClusterNode {
  readonly store: EtcdStore;
  readonly votes: EtcdVotes;
  readonly #o: ClusterNodeOptions;
  #quorum: QuorumChecks | null = null;
  /** SHA-256 over the zone and pools files as last loaded (the nodes compare theirs). */
  #files = '';
  readonly #counts: EtcdCounts;
  readonly #sum: ClusterCounts;
  /** This process's start, as the other nodes tell it from a restart (its counts from 0 again). */
  readonly #boot = randomBytes(8).toString('hex');

  constructor(o: ClusterNodeOptions) {
    this.#o = o;
    const c = o.cluster;
    const { clock, log } = o;
    this.store = etcdStore(c, clock, o.dataDir, log);
    this.votes = new EtcdVotes({
      client: this.store.client,
      prefix: c.prefix,
      node: c.node,
      ttlMs: c.voteTtlMs,
      now: () => clock.now(),
      onChange: (check) => this.#quorum?.recompute(check),
      info: () => ({ seq: this.store.seq, files: this.#files }),
      onDetached: (detached, since) =>
        detached
          ? log.warn(
              { since: new Date(since).toISOString() },
              `cluster: detached since ${new Date(since).toISOString()}: answering by this node's own probes`,
            )
          : log.info('cluster: attached again: answering by the votes of every node'),
    });
    this.#counts = new EtcdCounts({ client: this.store.client, prefix: c.prefix, votes: this.votes });
    this.#sum = new ClusterCounts(c.node, o.chartStepMs);
  }

  /**
   * The charts' sample (once a step): this node's counts go to etcd under its lease, and come back
   * summed with every live node's (cluster-counts.ts). With etcd unreachable, the others' add nothing.
   */
  async chartCounts(own: {
    queries: ReadonlyMap<string, number>;
    answers: ReadonlyMap<string, number>;
  }): Promise<ClusterSum> {
    const at = this.#o.clock.now();
    void this.#counts.publish({ boot: this.#boot, at, ...own }).catch(() => undefined);
    const others = await this.#counts.read().catch(() => null);
    return this.#sum.add(at, own, others);
  }

  /** The answers summed over the nodes, with this node's counts now (the charts' last minute). */
  liveAnswers(answers: ReadonlyMap<string, number>): ReadonlyMap<string, number> {
    return this.#sum.live(answers);
  }

  get name(): string {
    return this.#o.cluster.node;
  }

  /** Whether this node probes (`probe-from` names it, or is `all`); if not, the others' votes decide. */
  get probes(): boolean {
    const from = this.#o.cluster.probeFrom;
    return from === 'all' || from.includes(this.name);
  }

  /** This node's checks, answered by the votes of every node. */
  quorum(local: Checks): QuorumChecks {
    return (this.#quorum = new QuorumChecks(
      local,
      this.votes,
      this.#o.cluster.quorum,
      () => this.#o.clock.now(),
      this.#o.onQuorumChange,
    ));
  }

  /** This node's verdict on a check became `t.to`: its vote. */
  vote(check: CheckStatus, t: Transition): void {
    this.votes.vote(check.key, t.to, t.at, t.reason, check.remaining);
  }

  /**
   * After a probe: a check this node has not voted on yet gets its first vote; one whose count of
   * results still needed changed says so (other nodes bound their TTLs by it).
   */
  afterProbe(check: CheckStatus, reason: string): void {
    if (!this.votes.hasVoted(check.key)) this.votes.vote(check.key, check.state, check.since, reason, check.remaining);
    else this.votes.progress(check.key, check.remaining);
  }

  /** Every node's vote on a check: `{ node: 'up' | 'down' }`. */
  votesOf(key: string | undefined): Record<string, HealthState> {
    if (key === undefined) return {};
    return Object.fromEntries([...this.votes.votes(key)].map(([n, v]) => [n, v.state]));
  }

  /** What /metrics reads of the cluster. */
  metrics() {
    return {
      votes: (check: string): ReadonlyMap<string, Vote> => this.votes.votes(check),
      cluster: () => ({
        detached: this.votes.detached,
        roundTripMs: this.votes.roundTripMs,
        seq: this.store.seq,
        lag: this.store.lag,
      }),
      clusterFiles: async () =>
        (await this.votes.members()).map((m) => ({ node: m.node, same: m.info.files === this.#files })),
    };
  }

  /** The files were (re)loaded from `dir`: their digest, published at the next renewal. */
  async filesLoaded(dir: string): Promise<void> {
    this.#files = await filesDigest(dir);
  }

  /** After the store is open: the votes, and a word if this node serves its local copy. */
  async start(): Promise<void> {
    if (this.store.fromLocalCopy) {
      this.#o.log.warn(
        { seq: this.store.seq },
        'cluster: etcd unreachable at start: serving the local copy of the cluster state; writes refused until etcd answers',
      );
    }
    await this.votes.start();
  }

  async stop(): Promise<void> {
    await this.votes.stop();
  }

  /**
   * GET /v1/cluster: this node, etcd's head, and every node with a live lease: its applied seq and
   * lag, when it was last seen, whether its files are this node's. With etcd unreachable: this node
   * only, detached.
   */
  async view() {
    const self = this.name;
    const files = this.#files;
    try {
      const [head, members] = await Promise.all([this.store.head(), this.votes.members()]);
      return {
        node: self,
        head,
        detached: false,
        etcd_round_trip_ms: this.votes.roundTripMs,
        nodes: members.map((m) => {
          const seq = Number(m.info.seq ?? 0);
          return {
            node: m.node,
            self: m.node === self,
            seq,
            lag: Math.max(0, head - seq),
            last_seen: new Date(m.seenAt).toISOString(),
            files: String(m.info.files ?? ''),
            same_files: m.info.files === files,
          };
        }),
      };
    } catch (err) {
      return {
        node: self,
        head: null,
        detached: true,
        detached_since: new Date(this.votes.detachedSince ?? this.#o.clock.now()).toISOString(),
        error: (err as Error).message,
        nodes: [{ node: self, self: true, seq: this.store.seq, lag: null, last_seen: null, files, same_files: true }],
      };
    }
  }
}

/** The etcd store of a cluster node; TLS files are read now, so a missing one fails the start. */
function etcdStore(c: ClusterOptions, clock: Clock, dataDir: string | null, log: Logger): EtcdStore {
  const read = (file: string | undefined) => (file === undefined ? undefined : readFileSync(file));
  const tls = c.tls && { ca: read(c.tls.ca), cert: read(c.tls.cert), key: read(c.tls.key) };
  return new EtcdStore({
    endpoints: c.endpoints,
    prefix: c.prefix,
    now: () => clock.now(),
    ...(tls && {
      tls: { ...(tls.ca && { ca: tls.ca }), ...(tls.cert && { cert: tls.cert }), ...(tls.key && { key: tls.key }) },
    }),
    ...(c.auth && { auth: c.auth }),
    ...(dataDir && { localCopy: path.join(dataDir, 'cluster-state.json') }),
    ...(c.snapshotEvery !== undefined && { snapshotEvery: c.snapshotEvery }),
    onCaughtUp: (seq) => log.info({ seq }, 'cluster: etcd answers: caught up, writes accepted again'),
  });
}

/** SHA-256 over the names and contents of the zone and pools files in `dir`, in name order. */
async function filesDigest(dir: string): Promise<string> {
  const h = createHash('sha256');
  const names = (await readdir(dir).catch(() => [] as string[]))
    .filter((n) => n.endsWith('.zone') || n.endsWith('.pools.yaml'))
    .sort();
  for (const name of names) {
    const body = await readFile(path.join(dir, name)).catch(() => Buffer.alloc(0));
    h.update(`${name}\0${body.length}\0`).update(body);
  }
  return h.digest('hex');
}
