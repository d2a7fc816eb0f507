// A minimal MaxMind DB writer, so tests build their own .mmdb files instead of shipping binaries.
// Follows the MaxMind DB format spec (https://maxmind.github.io/MaxMind-DB/), version 2.0:
//   [binary search tree, 24-bit records] [16 zero bytes] [data section] [marker] [metadata map]
// It writes no pointers and no aliases (::ffff:0:0/96 is not linked to the IPv4 subtree).

import { isIPv4 } from 'node:net';
import { parseIPv4, parseIPv6 } from '../../src/0-base/address.ts';

/** A number written with an explicit type; plain numbers are uint32 if whole, else double. */
export class Typed {
  readonly type: 'double' | 'uint16' | 'uint32' | 'uint64';
  readonly value: number | bigint;
  constructor(type: Typed['type'], value: number | bigint) {
    this.type = type;
    this.value = value;
  }
}
export const double = (v: number) => new Typed('double', v);

export type MmdbValue =
  string | number | boolean | Typed | readonly MmdbValue[] | { readonly [key: string]: MmdbValue };

export interface MmdbOptions {
  /** 6 (default): IPv4 networks live at ::a.b.c.d/(96 + p), where readers look for them. */
  readonly ipVersion?: 4 | 6;
  readonly databaseType?: string;
  readonly description?: string;
  readonly buildEpoch?: number;
}

/** Later networks override earlier ones where they overlap: list wider networks first. */
export function writeMmdb(networks: readonly { network: string; data: MmdbValue }[], opts: MmdbOptions = {}): Buffer {
  const ipVersion = opts.ipVersion ?? 6;
  const root: TreeNode = { children: [null, null] };
  const data: Buffer[] = [];
  const offsets = new Map<string, number>();
  let dataSize = 0;
  for (const { network, data: value } of networks) {
    const bytes = encode(value);
    const key = bytes.toString('hex');
    let offset = offsets.get(key);
    if (offset === undefined) {
      offset = dataSize;
      offsets.set(key, offset);
      data.push(bytes);
      dataSize += bytes.length;
    }
    const [bits, prefix] = networkBits(network, ipVersion);
    insert(root, bits, prefix, offset);
  }

  // Breadth-first numbering: the root must be node 0, the rest may be in any order.
  const nodes: TreeNode[] = [root];
  const number = new Map<TreeNode, number>([[root, 0]]);
  for (let i = 0; i < nodes.length; i++) {
    for (const slot of nodes[i]!.children) {
      if (slot && 'node' in slot) {
        number.set(slot.node, nodes.length);
        nodes.push(slot.node);
      }
    }
  }
  const nodeCount = nodes.length;
  // Record values: < node_count is a node; = node_count is "no data"; > node_count points into the
  // data section at (value - node_count - 16), the 16 being the separator.
  const record = (slot: Slot): number => {
    if (!slot) return nodeCount;
    if ('node' in slot) return number.get(slot.node)!;
    return nodeCount + 16 + slot.data;
  };
  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach((node, i) => {
    for (const side of [0, 1] as const) {
      const value = record(node.children[side]);
      if (value >= 2 ** 24) throw new Error('too large for 24-bit records');
      tree.writeUIntBE(value, i * 6 + side * 3, 3);
    }
  });

  const metadata = encode({
    node_count: new Typed('uint32', nodeCount),
    record_size: new Typed('uint16', 24),
    ip_version: new Typed('uint16', ipVersion),
    database_type: opts.databaseType ?? 'Test-City',
    languages: ['en'],
    binary_format_major_version: new Typed('uint16', 2),
    binary_format_minor_version: new Typed('uint16', 0),
    build_epoch: new Typed('uint64', BigInt(opts.buildEpoch ?? 1_700_000_000)),
    description: { en: opts.description ?? 'gslbd test database' },
  });
  const marker = Buffer.from('\xab\xcd\xefMaxMind.com', 'latin1');
  return Buffer.concat([tree, Buffer.alloc(16), ...data, marker, metadata]);
}

type Slot = { node: TreeNode } | { data: number } | null;
interface TreeNode {
  children: [Slot, Slot];
}

function networkBits(network: string, ipVersion: 4 | 6): [Buffer, number] {
  const [addr = '', len = ''] = network.split('/');
  const prefix = Number(len);
  if (isIPv4(addr)) {
    const v4 = parseIPv4(addr)!;
    if (ipVersion === 4) return [v4, prefix];
    return [Buffer.concat([Buffer.alloc(12), v4]), 96 + prefix];
  }
  if (ipVersion === 4) throw new Error(`IPv6 network ${network} in an IPv4 database`);
  return [parseIPv6(addr)!, prefix];
}

function insert(root: TreeNode, bits: Buffer, prefix: number, offset: number): void {
  if (prefix < 1) throw new Error('a network needs a prefix of at least 1');
  let node = root;
  for (let i = 0; i < prefix; i++) {
    const bit = ((bits[i >> 3]! >> (7 - (i & 7))) & 1) as 0 | 1;
    if (i === prefix - 1) {
      node.children[bit] = { data: offset };
      return;
    }
    const slot = node.children[bit];
    if (slot && 'node' in slot) {
      node = slot.node;
    } else {
      // Descending through a wider network's data (or nothing): both halves keep what was there.
      const next: TreeNode = { children: [slot, slot] };
      node.children[bit] = { node: next };
      node = next;
    }
  }
}

// Data section types (spec, "Output Data Section"); 8 and up are "extended" (type 0 + a byte).
const T = { string: 2, double: 3, map: 7, uint16: 5, uint32: 6, uint64: 9, array: 11, boolean: 14 } as const;

function encode(v: MmdbValue): Buffer {
  if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    return Buffer.concat([control(T.string, s.length), s]);
  }
  if (typeof v === 'boolean') return control(T.boolean, v ? 1 : 0);
  if (typeof v === 'number') return encode(Number.isInteger(v) ? new Typed('uint32', v) : double(v));
  if (v instanceof Typed) {
    if (v.type === 'double') {
      const b = Buffer.alloc(8);
      b.writeDoubleBE(Number(v.value));
      return Buffer.concat([control(T.double, 8), b]);
    }
    // Unsigned integers use as few big-endian bytes as the value needs; zero is zero bytes.
    let hex = BigInt(v.value).toString(16);
    if (hex === '0') hex = '';
    if (hex.length % 2) hex = '0' + hex;
    const b = Buffer.from(hex, 'hex');
    return Buffer.concat([control(T[v.type], b.length), b]);
  }
  if (Array.isArray(v)) return Buffer.concat([control(T.array, v.length), ...v.map(encode)]);
  const entries = Object.entries(v as { readonly [key: string]: MmdbValue });
  return Buffer.concat([control(T.map, entries.length), ...entries.flatMap(([k, x]) => [encode(k), encode(x)])]);
}

/** Control byte: type in the top 3 bits, size in the low 5; then the extended type; then size bytes. */
function control(type: number, size: number): Buffer {
  const head = [(type > 7 ? 0 : type) << 5];
  if (type > 7) head.push(type - 7);
  if (size < 29) {
    head[0]! |= size;
  } else if (size < 29 + 256) {
    head[0]! |= 29;
    head.push(size - 29);
  } else if (size < 285 + 65536) {
    head[0]! |= 30;
    head.push((size - 285) >> 8, (size - 285) & 0xff);
  } else {
    head[0]! |= 31;
    const n = size - 65821;
    head.push((n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff);
  }
  return Buffer.from(head);
}
