// Batched UDP I/O through native/udp-batch (recvmmsg/sendmmsg, Linux): one crossing into
// JavaScript per batch of datagrams instead of one per datagram, and one system call per batch of
// answers instead of one each. When the module is not built, `loadBatchedUdp` says why, and
// DnsListener serves UDP through node:dgram.

import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Datagrams taken per recvmmsg: gdnsd's default is 16; 32 halves the crossings again under load. */
export const UDP_BATCH = 32;
/** Bytes per receive slot (native/udp-batch: SLOT): any UDP payload fits whole. */
const SLOT = 65536;
/** RFC 1035 §4.1.1: OPCODE, bits 1–4 of the third octet; 0 is QUERY. */
const opcodeOf = (rx: Buffer, at: number): number => (rx[at + 2]! >> 3) & 0xf;

interface NativeStats {
  port: number;
  receiveBuffer: number;
  sendBuffer: number;
  sent: number;
  deferred: number;
  sendErrors: number;
  truncated: number;
  queued: number;
}

interface NativeSocket {
  readonly rx: Buffer;
  readonly meta: Int32Array;
  readonly addrs: string[];
  send(address: string, port: number, answer: Buffer): void;
  close(done: () => void, force?: boolean): void;
  stats(): NativeStats;
}

interface NativeModule {
  open(
    opts: { host: string; port: number; reusePort: boolean; receiveBuffer: number; sendBuffer: number; batch: number },
    onBatch: (count: number) => (Buffer | null)[],
  ): NativeSocket;
}

const MODULE = fileURLToPath(new URL('../../native/udp-batch/build/Release/udp_batch.node', import.meta.url));
let loaded: NativeModule | Error | undefined;

/** The native module, loaded once; or the reason it cannot be (not built, another OS). */
export function loadBatchedUdp(): NativeModule | Error {
  if (loaded === undefined) {
    // The switch the build reads (scripts/build-native.sh) also keeps a built module unloaded.
    if (process.env.GSLBD_NATIVE === '0') return (loaded = new Error('GSLBD_NATIVE=0'));
    try {
      loaded = createRequire(import.meta.url)(MODULE) as NativeModule;
    } catch (err) {
      loaded = new Error(`${MODULE} did not load (npm install builds it): ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return loaded;
}

export interface BatchedOptions {
  readonly host: string;
  readonly port: number;
  readonly reusePort: boolean;
  /** SO_RCVBUF, bytes; 0 leaves the kernel's default. */
  readonly receiveBuffer: number;
  /** SO_SNDBUF, bytes; 0 leaves the kernel's default. */
  readonly sendBuffer?: number;
}

/**
 * A UDP socket read and written in batches. `onMessage` is called for each datagram of a batch in
 * turn; the answers it returns leave together (null: none). An answer made later (an UPDATE's)
 * goes with `send`. `msg` is a view of the receive slot, valid only during the call: a message
 * that is not a QUERY (an UPDATE, which is read again after the call) is given as a copy.
 */
export class BatchedUdpSocket {
  readonly #sock: NativeSocket;
  #closed: Promise<void> | null = null;
  /** The counters as they were when the socket closed (the native object has none left). */
  #last: NativeStats | null = null;

  constructor(
    mod: NativeModule,
    opts: BatchedOptions,
    onMessage: (msg: Buffer, address: string, port: number) => Buffer | null,
  ) {
    const answers: (Buffer | null)[] = new Array<Buffer | null>(UDP_BATCH).fill(null);
    const onBatch = (count: number): (Buffer | null)[] => {
      const { rx, meta, addrs } = this.#sock;
      for (let i = 0; i < count; i++) {
        answers[i] = null;
        const length = meta[2 * i]!;
        // -1: larger than a slot, which no UDP payload is. Anything shorter goes to the handler,
        // which counts and drops what is not a message, as over dgram.
        if (length < 0) continue;
        const at = i * SLOT;
        const msg = opcodeOf(rx, at) === 0 ? rx.subarray(at, at + length) : Buffer.from(rx.subarray(at, at + length));
        answers[i] = onMessage(msg, addrs[i]!, meta[2 * i + 1]!);
      }
      return answers;
    };
    this.#sock = mod.open({ ...opts, sendBuffer: opts.sendBuffer ?? 0, batch: UDP_BATCH }, onBatch);
  }

  /** One answer outside a batch; kept in order behind others the kernel has not taken yet. */
  send(answer: Buffer, port: number, address: string): void {
    if (!this.#closed) this.#sock.send(address, port, answer);
  }

  get port(): number {
    return this.#sock.stats().port;
  }

  /** SO_RCVBUF as getsockopt reads it (Linux: twice what was granted). */
  receiveBuffer(): number {
    return this.#sock.stats().receiveBuffer;
  }

  /** Counters of the send side: answers sent, `deferred` by EAGAIN until writable, lost to other errors. */
  stats(): NativeStats {
    return this.#last ?? this.#sock.stats();
  }

  /** Stops reading; answers kept by EAGAIN go out first, for at most `graceMs`. */
  close(graceMs = 2000): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.#sock.close(() => {}, true), graceMs);
      this.#sock.close(() => {
        clearTimeout(timer);
        // Called before the native side lets go: the counters with every kept answer accounted for.
        this.#last = { ...this.#sock.stats(), port: 0, receiveBuffer: 0, sendBuffer: 0 };
        resolve();
      });
    });
    return this.#closed;
  }
}
