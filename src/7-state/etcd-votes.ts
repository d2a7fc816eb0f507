// Each node's health votes in etcd, under a lease of its own: when a node stops renewing it (killed,
// cut off), etcd removes its votes after `ttl` and they stop counting everywhere.
//
// Keys, under `prefix`:  votes/<check key, URI-encoded>/<node>  →  { state, since, reason, remaining }
//                        nodes/<node>  →  what `info` says of the node (applied seq, file digest)
//                        …and any key `keep` is given (counts/<node>: the charts' counts, node-counts.ts)
//
// The lease is renewed by hand (keepaliveOnce every ttl/4) rather than by the client's automatic
// keep-alive stream, which can go on looking alive after etcd has dropped the lease (etcd3 #110):
// an answer with TTL 0, or no answer for a whole ttl, means the lease is gone, and a new one is
// granted with this node's votes put again. Every node reads all votes, then watches them.

import type { Etcd3, IKeyValue, Lease, Watcher } from 'etcd3';
import { etcd3 } from './etcd-store.ts';
import type { HealthState } from '../3-health/types.ts';

export interface Vote {
  readonly node: string;
  readonly state: HealthState;
  readonly since: number;
  readonly reason: string;
  /**
   * Probe results the node still needs to change its vote (its check's `remaining`): `fall` or
   * `rise` while steady, fewer in transition. A vote without it (an older node's) may change at
   * the node's next probe: 1.
   */
  readonly remaining: number;
}

export interface VotesOptions {
  readonly client: Etcd3;
  readonly prefix: string;
  readonly node: string;
  /** How long votes outlive this node's last renewal (`vote-ttl`), ms. */
  readonly ttlMs: number;
  readonly now?: () => number;
  /** A check's votes changed (any node's). */
  readonly onChange?: (check: string) => void;
  /** This node lost etcd for longer than `ttlMs` (detached), or found it again. */
  readonly onDetached?: (detached: boolean, since: number) => void;
  /** What this node says of itself under `nodes/<node>`, put again at each renewal. */
  readonly info?: () => Record<string, unknown>;
}

/** A node as it last said of itself (its key lives as long as its lease). */
export interface Member {
  readonly node: string;
  /** When it last renewed (ms, its own clock). */
  readonly seenAt: number;
  readonly info: Record<string, unknown>;
}

export class EtcdVotes {
  readonly #o: VotesOptions;
  readonly #now: () => number;
  /** check key → node → vote, as etcd has them. */
  readonly #votes = new Map<string, Map<string, Vote>>();
  /** This node's own votes, put again under every new lease. */
  readonly #mine = new Map<string, Vote>();
  #lease: Lease | null = null;
  /** When the lease was last confirmed alive (granted or renewed). */
  #aliveAt: number;
  #detached = false;
  #timer: NodeJS.Timeout | null = null;
  #watcher: Watcher | null = null;
  #stopped = false;
  /** The round trip of the last renewal (ms). */
  #rttMs = 0;
  #readTimer: NodeJS.Timeout | null = null;
  /** The last vote put, which the next one waits for. */
  #puts: Promise<void> = Promise.resolve();
  /** Values of this node's kept under its lease (`keep`), by key under the prefix. */
  readonly #kept = new Map<string, Buffer>();
  readonly #keptWaiting = new Set<string>();

  constructor(o: VotesOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#aliveAt = this.#now();
  }

  #key(check: string, node = this.#o.node): string {
    return `${this.#o.prefix}votes/${encodeURIComponent(check)}/${node}`;
  }

  /**
   * Reads every vote, follows them, and takes a lease. With etcd unreachable it keeps trying (every
   * two seconds) and meanwhile knows no vote: every check is as this node's own probes say.
   */
  async start(): Promise<void> {
    await this.#read().catch(() => this.#readLater());
    await this.#renew();
  }

  #readLater(): void {
    if (this.#stopped) return;
    this.#readTimer = setTimeout(() => void this.#read().catch(() => this.#readLater()), 2000);
    this.#readTimer.unref();
  }

  async #read(): Promise<void> {
    const prefix = `${this.#o.prefix}votes/`;
    const res = await this.#o.client.getAll().prefix(prefix).exec();
    this.#reconcile(res.kvs);
    const watcher = await this.#o.client
      .watch()
      .prefix(prefix)
      .startRevision(String(Number(res.header.revision) + 1))
      .create();
    watcher.on('put', (kv) => this.#put(kv));
    watcher.on('delete', (kv) => this.#delete(kv));
    // A lost or failed watch is replaced by a fresh read and a watch from its revision, as the log's
    // is (etcd-store.ts): the client's own resumption can stop silently, or meet a compaction.
    watcher.on('disconnected', () => void this.#rewatch(watcher));
    watcher.on('error', () => void this.#rewatch(watcher));
    const old = this.#watcher;
    this.#watcher = watcher;
    if (old) void old.cancel().catch(() => undefined);
  }

  async #rewatch(lost: Watcher): Promise<void> {
    if (this.#watcher !== lost || this.#stopped) return;
    this.#watcher = null;
    await Promise.race([lost.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    await this.#read().catch(() => this.#readLater());
  }

  /**
   * This node's verdict on `check`: put under its lease (again after a lost lease). `remaining`: the
   * probe results its check still needs to change it (see Vote).
   */
  vote(check: string, state: HealthState, since: number, reason: string, remaining = 1): void {
    const v: Vote = { node: this.#o.node, state, since, reason, remaining };
    this.#mine.set(check, v);
    void this.#publish(check, v);
  }

  /**
   * The probe results this node's check on `check` still needs changed (a failure counted while
   * up, a pass while down, or a run broken): its vote is put again with the new count, so other
   * nodes bound their TTLs by it. Nothing is put while the count stays the same (steady state).
   */
  progress(check: string, remaining: number): void {
    const v = this.#mine.get(check);
    if (!v || v.remaining === remaining) return;
    this.vote(check, v.state, v.since, v.reason, remaining);
  }

  /**
   * Puts `value` at `<prefix><key>` under this node's lease, so it goes with the node, and again
   * under every new lease; the latest value replaces the one before. In line with the votes' puts.
   */
  keep(key: string, value: Buffer): Promise<void> {
    this.#kept.set(key, value);
    return this.#putKept(key);
  }

  #putKept(key: string): Promise<void> {
    // One put waiting per key is enough: it puts the value latest kept when its turn comes.
    if (this.#keptWaiting.has(key)) return this.#puts;
    this.#keptWaiting.add(key);
    const put = async () => {
      this.#keptWaiting.delete(key);
      const lease = this.#lease;
      const value = this.#kept.get(key);
      if (!lease || value === undefined) return; // put when a lease is granted
      await lease
        .put(`${this.#o.prefix}${key}`)
        .value(value)
        .exec()
        .catch(() => undefined);
    };
    this.#puts = this.#puts.then(put);
    return this.#puts;
  }

  /** This node's name: its votes are under it. */
  get node(): string {
    return this.#o.node;
  }

  /** Whether this node has voted on `check`. */
  hasVoted(check: string): boolean {
    return this.#mine.has(check);
  }

  /** Takes back this node's votes on every check not in `keep` (checks no longer run). */
  retain(keep: ReadonlySet<string>): void {
    for (const check of [...this.#mine.keys()]) {
      if (keep.has(check)) continue;
      this.#mine.delete(check);
      // In line with the puts, so that a put still in flight cannot bring the vote back after it.
      this.#puts = this.#puts.then(() =>
        this.#o.client
          .delete()
          .key(this.#key(check))
          .exec()
          .then(
            () => undefined,
            () => undefined,
          ),
      );
    }
  }

  /** The live votes on `check`, by node. */
  votes(check: string): ReadonlyMap<string, Vote> {
    return this.#votes.get(check) ?? EMPTY;
  }

  /** True while this node has not reached etcd for longer than the vote TTL. */
  get detached(): boolean {
    return this.#detached;
  }

  /** The round trip to etcd of the last lease renewal, ms. */
  get roundTripMs(): number {
    return this.#rttMs;
  }

  /** Every node with a live lease, as it last said of itself. Rejects when etcd cannot be reached. */
  async members(): Promise<Member[]> {
    const res = await this.#o.client.getAll().prefix(`${this.#o.prefix}nodes/`).exec();
    const out: Member[] = [];
    for (const kv of res.kvs) {
      try {
        const j = JSON.parse(kv.value.toString()) as { seenAt: number; info: Record<string, unknown> };
        out.push({ node: kv.key.toString().slice(`${this.#o.prefix}nodes/`.length), seenAt: j.seenAt, info: j.info });
      } catch {
        /* not ours */
      }
    }
    return out.sort((a, b) => a.node.localeCompare(b.node));
  }

  /** Since when this node has been out of touch with etcd (ms), while detached. */
  get detachedSince(): number | null {
    return this.#detached ? this.#aliveAt : null;
  }

  /**
   * Puts a vote, after every put before it: two puts in flight at once could reach etcd in the
   * other order and leave an old vote standing. One that fails is put again by the next renewal.
   */
  #publish(check: string, v: Vote): Promise<void> {
    const put = async () => {
      const lease = this.#lease;
      if (!lease) return; // put again when a lease is granted
      await lease
        .put(this.#key(check))
        .value(JSON.stringify({ state: v.state, since: v.since, reason: v.reason, remaining: v.remaining }))
        .exec()
        .catch(() => undefined);
    };
    this.#puts = this.#puts.then(put);
    return this.#puts;
  }

  /** This node's votes that etcd does not hold as they are (a put lost or overtaken): put again. */
  async #republishStale(): Promise<void> {
    const stale = [...this.#mine].filter(([check, v]) => {
      const held = this.#votes.get(check)?.get(this.#o.node);
      return held?.state !== v.state || held.since !== v.since || held.remaining !== v.remaining;
    });
    await Promise.all(stale.map(([check, v]) => this.#publish(check, v)));
  }

  /** Renews the lease, or grants a new one (and puts this node's votes under it); then again in ttl/4. */
  async #renew(): Promise<void> {
    if (this.#stopped) return;
    const ttlSeconds = Math.max(1, Math.ceil(this.#o.ttlMs / 1000));
    const started = Date.now();
    try {
      if (this.#lease) {
        const r = await this.#lease.keepaliveOnce({ deadline: Date.now() + this.#o.ttlMs / 2 });
        // TTL 0 or less: etcd no longer has the lease, and with it went this node's votes.
        if (Number(r.TTL) <= 0) throw new (etcd3().EtcdLeaseInvalidError)(String(r.ID));
      } else {
        const lease = this.#o.client.lease(ttlSeconds, { autoKeepAlive: false });
        lease.on('lost', () => {});
        await lease.grant();
        this.#lease = lease;
        await Promise.all([
          ...[...this.#mine].map(([check, v]) => this.#publish(check, v)),
          ...[...this.#kept.keys()].map((key) => this.#putKept(key)),
        ]);
      }
      this.#rttMs = Date.now() - started;
      // The watch may have stopped after a reconnect without a word (etcd3 #31, #78, #114): every
      // renewal also reads the votes whole, so a missed change is found within ttl/4.
      if (this.#watcher) {
        const res = await this.#o.client.getAll().prefix(`${this.#o.prefix}votes/`).exec();
        this.#reconcile(res.kvs);
        await this.#republishStale();
      }
      this.#aliveAt = this.#now();
      await this.#lease
        ?.put(`${this.#o.prefix}nodes/${this.#o.node}`)
        .value(JSON.stringify({ seenAt: this.#aliveAt, info: this.#o.info?.() ?? {} }))
        .exec();
      if (this.#detached) {
        this.#detached = false;
        this.#o.onDetached?.(false, this.#aliveAt);
      }
    } catch (err) {
      if (err instanceof etcd3().EtcdLeaseInvalidError || /lease not found/i.test((err as Error).message)) {
        // etcd answers, but the lease is gone (expired in a pause, or revoked): a new one at once,
        // with this node's votes put again. Not detached: etcd was reached.
        this.#lease?.release();
        this.#lease = null;
        if (!this.#stopped) this.#timer = setTimeout(() => void this.#renew(), 0);
        return;
      }
      if (this.#now() - this.#aliveAt > this.#o.ttlMs) {
        // The lease has surely expired: a new one next time.
        this.#lease?.release();
        this.#lease = null;
        if (!this.#detached) {
          this.#detached = true;
          this.#o.onDetached?.(true, this.#aliveAt);
        }
      }
    }
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#renew(), Math.max(200, this.#o.ttlMs / 4));
    this.#timer.unref();
  }

  #parse(kv: IKeyValue): { check: string; node: string } | null {
    const rest = kv.key.toString().slice(`${this.#o.prefix}votes/`.length);
    const slash = rest.lastIndexOf('/');
    if (slash <= 0) return null;
    return { check: decodeURIComponent(rest.slice(0, slash)), node: rest.slice(slash + 1) };
  }

  /** A vote put (or put again); `tell`: onChange for its check. */
  #put(kv: IKeyValue, tell = true): void {
    const at = this.#parse(kv);
    if (!at) return;
    let v: Vote;
    try {
      const j = JSON.parse(kv.value.toString()) as {
        state: HealthState;
        since: number;
        reason: string;
        remaining?: number;
      };
      if (j.state !== 'up' && j.state !== 'down') return;
      const remaining = typeof j.remaining === 'number' && j.remaining >= 0 ? j.remaining : 1;
      v = { node: at.node, state: j.state, since: j.since, reason: String(j.reason), remaining };
    } catch {
      return;
    }
    let m = this.#votes.get(at.check);
    if (!m) this.#votes.set(at.check, (m = new Map()));
    m.set(at.node, v);
    if (tell) this.#o.onChange?.(at.check);
  }

  /** Makes the votes known here those of `kvs` (all of etcd's), telling of each check that changed. */
  #reconcile(kvs: readonly IKeyValue[]): void {
    const before = new Map([...this.#votes].map(([check, m]) => [check, new Map(m)]));
    this.#votes.clear();
    for (const kv of kvs) this.#put(kv, false);
    const changed = new Set<string>();
    for (const check of new Set([...before.keys(), ...this.#votes.keys()])) {
      const a = before.get(check);
      const b = this.#votes.get(check);
      const same =
        a?.size === b?.size &&
        [...(a ?? [])].every(([node, v]) => {
          const w = b?.get(node);
          return w !== undefined && w.state === v.state && w.since === v.since;
        });
      if (!same) changed.add(check);
    }
    for (const check of changed) this.#o.onChange?.(check);
  }

  #delete(kv: IKeyValue): void {
    const at = this.#parse(kv);
    if (!at) return;
    const m = this.#votes.get(at.check);
    if (!m?.delete(at.node)) return;
    if (m.size === 0) this.#votes.delete(at.check);
    this.#o.onChange?.(at.check);
  }

  /** Stops renewing and revokes the lease: this node's votes vanish at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#readTimer) clearTimeout(this.#readTimer);
    await this.#lease?.revoke({ deadline: Date.now() + 2000 }).catch(() => undefined);
    await this.#watcher?.cancel().catch(() => undefined);
  }
}

const EMPTY: ReadonlyMap<string, Vote> = new Map();
