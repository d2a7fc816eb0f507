// The cluster's StateStore: changesets through etcd, one total order for every node.
//
// Keys, under `prefix`:
//   head            the seq of the last changeset committed (absent: none yet)
//   log/<seq>       each changeset, JSON; <seq> zero-padded so that key order is seq order
//
// A transaction builds its changes against this node's state, then commits them with one etcd
// transaction that compares `head` with the seq this node has applied (compare-and-swap) and puts
// the changeset and the new head together. When another node committed first, the comparison
// fails: this node reads what it missed, applies it, and builds again against the new state, so a
// check and the change it guards are never separated by another writer, on any node. A committed
// changeset is applied here before the transaction resolves (read-your-writes on the node written
// to); every node also watches the log from the revision it has read and applies what others
// commit, in seq order.
//
// Durable here means committed by etcd's raft quorum. A commit that fails (etcd unreachable, or a
// deadline passed) is refused with NotDurableError and applied nowhere by this node. One caveat of
// every remote store: a request that timed out after etcd received it may still have been
// committed; the watch then brings it like any other node's change.

import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { lazy } from '../0-base/lazy.ts';
import { GslbError } from '../0-base/errors.ts';
import { replaceFile } from './durable-file.ts';
import { reviveInfinity, type StateSnapshot } from './state.ts';
import type { ServedStore } from './served.ts';
import { NotDurableError, type Change, type Changeset } from './types.ts';
import { StoreBase, type Committed } from './store-base.ts';

/** etcd3 (with gRPC) and its fault-handling package, loaded by the first store: only a cluster node needs them. */
export const etcd3 = lazy<typeof import('etcd3')>('etcd3');
const cockatiel = lazy<typeof import('cockatiel')>('cockatiel');

export interface EtcdStoreOptions {
  /** Client URLs of the etcd members, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** TLS to etcd (PEM contents). */
  readonly tls?: { readonly ca?: Buffer; readonly cert?: Buffer; readonly key?: Buffer };
  readonly auth?: { readonly username: string; readonly password: string };
  /**
   * A local copy of the state this node has applied (written at most once a second, and at close):
   * a start while etcd is unreachable serves it, refusing writes, until etcd answers. Absent: none.
   */
  readonly localCopy?: string;
  /** etcd answered again after a start from the local copy: this node caught up to `seq`. */
  readonly onCaughtUp?: (seq: number) => void;
  /** A snapshot of the state in etcd every this many changesets; the log keeps as many. Default 1000. */
  readonly snapshotEvery?: number;
  /** How often the log is read besides the watch (ms). Default 2000. */
  readonly pollMs?: number;
  /** Key prefix of this gslbd cluster; several may share one etcd. Default `/gslbd/`. */
  readonly prefix?: string;
  /** How long one etcd request may take before the change is refused (ms). Default 5000. */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** Compare-and-swap attempts of one transaction before it gives up (other nodes kept winning). */
const MAX_ATTEMPTS = 20;

const SEQ_DIGITS = 16;

/** How often a node started from its local copy tries etcd again. */
const RECONNECT_MS = 2000;

/** How often the log is read besides the watch, in case the watch has silently stopped. */
const POLL_MS = 2000;

export class EtcdStore extends StoreBase implements ServedStore {
  readonly #client: Etcd3;
  /** The etcd client, shared with the votes of this node (etcd-votes.ts). */
  get client(): Etcd3 {
    return this.#client;
  }
  readonly #prefix: string;
  readonly #endpoints: string;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #watcher: Watcher | null = null;
  /** Remote changesets that came ahead of one still missing, by seq. */
  readonly #early = new Map<number, Changeset>();
  #closed = false;
  readonly #localCopy: string | null;
  readonly #onCaughtUp: ((seq: number) => void) | undefined;
  readonly #snapshotEvery: number;
  #resets: (() => void)[] = [];
  /** A write of the local copy is due (at most one a second). */
  #copyTimer: NodeJS.Timeout | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #pollTimer: NodeJS.Timeout | null = null;
  #rewatches = 0;
  readonly #pollMs: number;
  /** etcd's head as the last read of the log found it (every POLL_MS, and at each catch-up). */
  #headSeen = 0;
  /** Started from the local copy, etcd not reached yet. */
  #fromCopy = false;

  constructor(o: EtcdStoreOptions) {
    super();
    this.#prefix = o.prefix ?? '/gslbd/';
    this.#timeoutMs = o.timeoutMs ?? 5000;
    this.#now = o.now ?? Date.now;
    // Retries are ours to decide (a refused change is refused); the client only reconnects.
    const { noop } = cockatiel();
    this.#client = new (etcd3().Etcd3)({
      hosts: [...o.endpoints],
      dialTimeout: this.#timeoutMs,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + this.#timeoutMs }),
      faultHandling: { host: () => noop, global: noop },
      ...(o.tls?.ca && {
        credentials: {
          rootCertificate: o.tls.ca,
          ...(o.tls.key && { privateKey: o.tls.key }),
          ...(o.tls.cert && { certChain: o.tls.cert }),
        },
      }),
      ...(o.auth && { auth: { username: o.auth.username, password: o.auth.password } }),
    });
    this.#endpoints = o.endpoints.join(', ');
    this.#localCopy = o.localCopy ?? null;
    this.#onCaughtUp = o.onCaughtUp;
    this.#snapshotEvery = o.snapshotEvery ?? 1000;
    this.#pollMs = o.pollMs ?? POLL_MS;
  }

  #key(seq: number): string {
    return `${this.#prefix}log/${String(seq).padStart(SEQ_DIGITS, '0')}`;
  }

  /**
   * Reads the whole log, then follows it. With etcd unreachable: the local copy, if there is one
   * (writes are refused until etcd answers, and then this node catches up), else it rejects.
   */
  async open(): Promise<{ changesets: number; droppedBytes: number }> {
    let revision: number;
    try {
      revision = await this.#catchUp(false);
    } catch (err) {
      const message = `etcd (${this.#endpoints}): ${(err as Error).message}`;
      const copy = this.#localCopy ? await readCopy(this.#localCopy) : null;
      if (!copy) throw new GslbError('ERR_CLUSTER_UNAVAILABLE', message);
      this.state.restore(copy);
      this.#fromCopy = true;
      this.#reconnectTimer = setTimeout(() => void this.#reconnect(), RECONNECT_MS);
      return { changesets: this.state.seq, droppedBytes: 0 };
    }
    await this.#follow(revision);
    return { changesets: this.state.seq, droppedBytes: 0 };
  }

  /** True while this node serves its local copy, not having reached etcd since it started. */
  get fromLocalCopy(): boolean {
    return this.#fromCopy;
  }

  /** After a start from the local copy: catch up with etcd once it answers, then follow it. */
  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    try {
      const revision = await this.#catchUp(true);
      await this.#follow(revision);
      this.#fromCopy = false;
      this.#onCaughtUp?.(this.state.seq);
    } catch {
      if (!this.#closed) this.#reconnectTimer = setTimeout(() => void this.#reconnect(), RECONNECT_MS);
    }
  }

  /** Watches the log from after `revision`. */
  async #follow(revision: number): Promise<void> {
    const watcher = await this.#client
      .watch()
      .prefix(`${this.#prefix}log/`)
      .startRevision(String(revision + 1))
      .create();
    watcher.on('put', (kv) => this.#remote(kv));
    // The client would resume a lost watch from its last revision by itself, which etcd refuses
    // once that revision is compacted, and which has been seen to stop silently (etcd3 #31, #78,
    // #114). So a lost or failed watch is replaced: read the log from this node's seq (through the
    // snapshot if it was trimmed), then watch again from the revision of that read.
    watcher.on('disconnected', () => void this.#rewatch(watcher));
    watcher.on('error', () => void this.#rewatch(watcher));
    const old = this.#watcher;
    this.#watcher = watcher;
    if (old) void old.cancel().catch(() => undefined);
    if (!this.#pollTimer) this.#pollLater();
  }

  /** Replaces `lost` (once), retrying every RECONNECT_MS until etcd answers or the store closes. */
  async #rewatch(lost: Watcher): Promise<void> {
    if (this.#watcher !== lost || this.#closed) return;
    this.#watcher = null;
    // Cancelling a watch whose stream is gone may wait for a reconnection that never comes.
    await Promise.race([lost.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000))]);
    while (!this.#closed) {
      try {
        const revision = await this.#catchUp(true);
        if (this.#closed) return;
        await this.#follow(revision);
        this.#rewatches++;
        return;
      } catch {
        await new Promise((r) => setTimeout(r, RECONNECT_MS));
      }
    }
  }

  /** How many times a lost watch was replaced (for tests and the curious). */
  get rewatches(): number {
    return this.#rewatches;
  }

  /**
   * The watch may stop after a reconnect without a word (etcd3 #31, #78, #114): the log is also
   * read from this node's seq every POLL_MS, so a change the watch missed arrives within that.
   */
  #pollLater(): void {
    if (this.#closed) return;
    this.#pollTimer = setTimeout(() => {
      this.#catchUp(true)
        .catch(() => undefined)
        .finally(() => this.#pollLater());
    }, this.#pollMs);
    this.#pollTimer.unref();
  }

  /** Writes the local copy within a second (one write for every change in that second). */
  #copyLater(): void {
    if (!this.#localCopy || this.#copyTimer || this.#closed) return;
    this.#copyTimer = setTimeout(() => {
      this.#copyTimer = null;
      void this.#writeCopy();
    }, 1000);
    this.#copyTimer.unref();
  }

  async #writeCopy(): Promise<void> {
    if (!this.#localCopy) return;
    // A copy that cannot be written is only a worse warm start: the cluster's state is etcd's.
    await mkdir(path.dirname(this.#localCopy), { recursive: true }).catch(() => undefined);
    await replaceFile(
      this.#localCopy,
      JSON.stringify(this.state.snapshot(), (_k, v) => (v === Infinity ? null : v)),
      `${this.#localCopy}.tmp`,
    ).catch(() => undefined);
  }

  /**
   * Applies every changeset after the one applied here, telling listeners when `tell`; returns
   * the etcd revision the read was made at.
   */
  async #catchUp(tell: boolean): Promise<number> {
    const from = this.#key(this.state.seq + 1);
    const end = `${this.#prefix}log0`; // '0' follows '/': the end of the log/ range
    const res = await this.#client.getAll().inRange({ start: from, end }).sort('Key', 'Ascend').exec();
    const logged = res.kvs.map(parse);
    // The last changeset in the log is etcd's head (for `lag`): no separate read of it.
    if (logged.length) this.#headSeen = Math.max(this.#headSeen, logged.at(-1)!.seq);
    // The changesets right after this node's are gone (trimmed behind a snapshot): start from the
    // snapshot, then take the log after it.
    if (logged.length && logged[0]!.seq > this.state.seq + 1) await this.#fromSnapshot(logged[0]!.seq, tell);
    for (const cs of logged) this.#take(cs, tell);
    return Number(res.header.revision);
  }

  /** Replaces the state with etcd's snapshot, which must reach at least `before` - 1. */
  async #fromSnapshot(before: number, tell: boolean): Promise<void> {
    const text = await this.#client.get(`${this.#prefix}snapshot`).string();
    const snap = text === null ? null : (JSON.parse(text) as StateSnapshot);
    if (!snap || snap.seq < before - 1) {
      throw new Error(`changesets ${this.state.seq + 1}..${before - 1} are neither in the log nor in a snapshot`);
    }
    this.state.restore(snap);
    for (const seq of [...this.#early.keys()]) if (seq <= snap.seq) this.#early.delete(seq);
    this.#copyLater();
    if (tell) for (const fn of this.#resets) fn();
  }

  /**
   * After the changeset `seq` that this node committed, every `snapshotEvery`: the state as a
   * snapshot, and the log before the last `snapshotEvery` changesets deleted. A failure leaves the
   * log longer, nothing else: the next snapshot tries again.
   */
  async #snapshot(seq: number): Promise<void> {
    const snap = this.state.snapshot();
    if (snap.seq !== seq) return;
    try {
      await this.#client
        .put(`${this.#prefix}snapshot`)
        .value(JSON.stringify(snap, (_k, v) => (v === Infinity ? null : v)))
        .exec();
      const upTo = seq - this.#snapshotEvery;
      if (upTo >= 1) {
        await this.#client
          .delete()
          .inRange({ start: this.#key(1), end: this.#key(upTo + 1) })
          .exec();
      }
    } catch {
      /* tried again at the next one */
    }
  }

  /** A changeset another node committed (or this one, seen again through the watch). */
  #remote(kv: IKeyValue): void {
    if (this.#closed) return;
    this.#take(parse(kv), true);
  }

  /** Applies `cs` if it is the next one; keeps it if one before it is missing; ignores one applied. */
  #take(cs: Changeset, tell: boolean): void {
    if (cs.seq <= this.state.seq) return;
    if (cs.seq > this.state.seq + 1) {
      this.#early.set(cs.seq, cs);
      return;
    }
    // Listeners' promises hold only the acknowledgement of this node's own commits.
    void Promise.all(this.#applied(cs, tell));
    for (let next = this.#early.get(this.state.seq + 1); next; next = this.#early.get(this.state.seq + 1)) {
      this.#early.delete(next.seq);
      void Promise.all(this.#applied(next, tell));
    }
  }

  /** build → committed by etcd (CAS on head; built again when another node won) → applied → after → resolved. */
  protected async step<T>(
    source: string,
    build: () => readonly Change[],
    after: () => T,
  ): Promise<{ done: Promise<Committed<T>> }> {
    for (let attempt = 1; ; attempt++) {
      const changes = build();
      if (changes.length === 0) return { done: Promise.resolve({ changeset: null, view: after() }) };
      const seq = this.state.seq + 1;
      const cs: Changeset = { seq, at: this.#now(), source, changes };
      let won: boolean;
      try {
        won = await this.#put(cs);
      } catch (err) {
        throw this.refused(source, new NotDurableError(err as Error, 'ERR_CLUSTER_UNAVAILABLE'));
      }
      if (won) {
        // The watch brings it again later; by then it is applied and ignored.
        const waits = seq === this.state.seq + 1 ? this.#applied(cs, true) : [];
        if (seq % this.#snapshotEvery === 0) void this.#snapshot(seq);
        const view = after();
        return { done: Promise.all(waits).then(() => ({ changeset: cs, view })) };
      }
      // Another node committed first: take what it did, then build again against it.
      try {
        await this.#catchUp(true);
      } catch (err) {
        throw new NotDurableError(err as Error, 'ERR_CLUSTER_UNAVAILABLE');
      }
      if (attempt >= MAX_ATTEMPTS) {
        throw new NotDurableError(
          new Error(`other nodes committed first ${MAX_ATTEMPTS} times in a row`),
          'ERR_CLUSTER_UNAVAILABLE',
        );
      }
    }
  }

  /** One etcd transaction: if head is still seq - 1, the changeset and the new head. */
  async #put(cs: Changeset): Promise<boolean> {
    const head = `${this.#prefix}head`;
    const txn =
      cs.seq === 1
        ? this.#client.if(head, 'Version', '==', 0)
        : this.#client.if(head, 'Value', '==', String(cs.seq - 1));
    const res = await txn
      .then(this.#client.put(this.#key(cs.seq)).value(JSON.stringify(cs)), this.#client.put(head).value(String(cs.seq)))
      .commit();
    return res.succeeded;
  }

  /** Applies `cs` (listeners told with `tell`), and has the local copy written soon. */
  #applied(cs: Changeset, tell: boolean): Promise<void>[] {
    const waits = this.applied(cs, tell);
    this.#copyLater();
    return waits;
  }

  /** No local journal (yet): the log is etcd's. */
  get journalBytes(): number {
    return 0;
  }

  /** The seq of the last changeset committed by any node (etcd's head). Rejects when etcd cannot be reached. */
  async head(): Promise<number> {
    return Number((await this.#client.get(`${this.#prefix}head`).string()) ?? 0);
  }

  /** Changesets committed that this node has not applied, as of the last read of etcd's head. */
  get lag(): number {
    return Math.max(0, this.#headSeen - this.state.seq);
  }

  /**
   * Called when the state was replaced by a snapshot (this node was behind the log's start): what
   * was published from the state must be published again, whole.
   */
  onReset(fn: () => void): void {
    this.#resets.push(fn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.idle;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#pollTimer) clearTimeout(this.#pollTimer);
    if (this.#copyTimer) {
      clearTimeout(this.#copyTimer);
      this.#copyTimer = null;
    }
    if (!this.#fromCopy) await this.#writeCopy();
    await this.#watcher?.cancel().catch(() => undefined);
    this.#client.close();
  }
}

/** The local copy, or null when there is none or it does not read back. */
async function readCopy(file: string): Promise<StateSnapshot | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as StateSnapshot;
  } catch {
    return null;
  }
}

function parse(kv: IKeyValue): Changeset {
  return reviveInfinity(JSON.parse(kv.value.toString()) as Changeset);
}
