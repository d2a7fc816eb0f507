// Each cluster node's query and answer counts in etcd, for the status page's charts summed over
// the nodes: one value per node at `<prefix>counts/<node>`, under the node's lease (EtcdVotes.keep),
// so a node that dies takes its counts with it. The value is JSON compressed with raw DEFLATE: keys
// such as `gslb.example.com.\tNOERROR` repeat the same names, and 2,000 series of each kind would
// otherwise come near etcd's request limit (1.5 MiB by default).

import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import type { Etcd3 } from 'etcd3';
import type { EtcdVotes } from './etcd-votes.ts';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

/** At most this many series of each kind are published (the charts keep as many). */
export const MAX_PUBLISHED_SERIES = 2000;

/** A node's cumulative counts as it published them. */
export interface NodeCounts {
  readonly node: string;
  /** Different at each start of the node's process: its counts started from 0 again. */
  readonly boot: string;
  /** When the node took them, ms by its own clock. */
  readonly at: number;
  /** Queries answered, `zone\trcode`, since its start (summed over its workers). */
  readonly queries: ReadonlyMap<string, number>;
  /** Answers handed out, `pool\taddress`, since its start. */
  readonly answers: ReadonlyMap<string, number>;
}

/** The first `max` entries of `m`, as pairs. */
const pairs = (m: ReadonlyMap<string, number>, max: number) => [...m].slice(0, max);

export async function encodeCounts(c: Omit<NodeCounts, 'node'>, max = MAX_PUBLISHED_SERIES): Promise<Buffer> {
  const json = JSON.stringify({ boot: c.boot, at: c.at, q: pairs(c.queries, max), a: pairs(c.answers, max) });
  return deflate(Buffer.from(json));
}

/** A node's value read back; null for one that is not ours (or damaged). */
export async function decodeCounts(node: string, value: Buffer): Promise<NodeCounts | null> {
  try {
    const j = JSON.parse((await inflate(value)).toString()) as { boot: unknown; at: unknown; q: unknown; a: unknown };
    if (typeof j.boot !== 'string' || typeof j.at !== 'number' || !Array.isArray(j.q) || !Array.isArray(j.a))
      return null;
    const map = (list: unknown[]) =>
      new Map(
        list.filter(
          (e): e is [string, number] =>
            Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number' && e[1] >= 0,
        ),
      );
    return { node, boot: j.boot, at: j.at, queries: map(j.q as unknown[]), answers: map(j.a as unknown[]) };
  } catch {
    return null;
  }
}

/** This node's counts out to etcd, and every live node's back. */
export class EtcdCounts {
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #votes: EtcdVotes;

  constructor(o: { client: Etcd3; prefix: string; votes: EtcdVotes }) {
    this.#client = o.client;
    this.#prefix = `${o.prefix}counts/`;
    this.#votes = o.votes;
  }

  /** Puts this node's counts (the latest replace the ones before); a failed put is left to the next. */
  async publish(c: Omit<NodeCounts, 'node'>): Promise<void> {
    await this.#votes.keep(`counts/${this.#votes.node}`, await encodeCounts(c));
  }

  /** Every node's counts that etcd holds (their leases alive), this node's included. Rejects when etcd cannot be read. */
  async read(): Promise<NodeCounts[]> {
    const res = await this.#client.getAll().prefix(this.#prefix).exec();
    const out = await Promise.all(
      res.kvs.map((kv) => decodeCounts(kv.key.toString().slice(this.#prefix.length), kv.value)),
    );
    return out.filter((c) => c !== null);
  }
}
