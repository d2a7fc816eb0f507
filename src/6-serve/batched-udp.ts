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
  /** The source address of datagram `slot` of the batch being handled, as text. */
  peer(slot: number): string;
  send(address: string, port: number, answer: Buffer): void;
  close(done: () => void, force?: boolean): void;
  stats(): NativeStats;
}

/** native/udp-batch's INTERFACE_VERSION that this file speaks to. */
const INTERFACE_VERSION = 2;

interface NativeModule {
  readonly version?: number;
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
      const mod = createRequire(import.meta.url)(MODULE) as NativeModule;
      loaded =
        mod.version === INTERFACE_VERSION
          ? mod
          : new Error(
              `${MODULE} was built from an older udp_batch.c (npm install, or scripts/build-native.sh, builds it again)`,
            );
    } catch (err) {
      loaded = new Error(`${MODULE} did not load (npm install builds it): ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return loaded;
}

/**
 * The sender of a datagram, as the handler sees it (a Transport: `tcp` false). Its address is made
 * text only when read (most answers never need it), from the batch being handled: read it during
 * the call, and keep the text, not the peer, for later (an UPDATE's answer). A datagram that is
 * not a QUERY comes with its address already read.
 */
export interface UdpPeer {
  readonly tcp: false;
  readonly address: string;
  readonly port: number;
}

class BatchPeer implements UdpPeer {
  readonly tcp = false;
  readonly port: number;
  #sock: NativeSocket | null;
  readonly #slot: number;
  #address: string | undefined;

  constructor(sock: NativeSocket, slot: number, port: number) {
    this.#sock = sock;
    this.#slot = slot;
    this.port = port;
  }

  get address(): string {
    if (this.#address === undefined) {
      // Its batch is over: the slot holds another sender now. Loudly, not a wrong address.
      if (this.#sock === null) throw new Error('the address of a batched datagram read after its batch');
      this.#address = this.#sock.peer(this.#slot);
    }
    return this.#address;
  }

  /** The batch moves on. */
  end(): void {
    this.#sock = null;
  }
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
 * goes with `send`. `msg` is a view of the receive slot, and `peer`'s address is read from the
 * batch, both valid only during the call: a message that is not a QUERY (an UPDATE, which is read
 * again after the call) is given as a copy, with its peer's address read before.
 */
export class BatchedUdpSocket {
  readonly #sock: NativeSocket;
  #closed: Promise<void> | null = null;
  /** The counters as they were when the socket closed (the native object has none left). */
  #last: NativeStats | null = null;

  constructor(mod: NativeModule, opts: BatchedOptions, onMessage: (msg: Buffer, peer: UdpPeer) => Buffer | null) {
    const answers: (Buffer | null)[] = new Array<Buffer | null>(UDP_BATCH).fill(null);
    const onBatch = (count: number): (Buffer | null)[] => {
      const sock = this.#sock;
      const { rx, meta } = sock;
      for (let i = 0; i < count; i++) {
        answers[i] = null;
        const length = meta[2 * i]!;
        // -1: larger than a slot, which no UDP payload is. Anything shorter goes to the handler,
        // which counts and drops what is not a message, as over dgram.
        if (length < 0) continue;
        const at = i * SLOT;
        const peer = new BatchPeer(sock, i, meta[2 * i + 1]!);
        let msg = rx.subarray(at, at + length);
        if (opcodeOf(rx, at) !== 0) {
          msg = Buffer.from(msg);
          void peer.address;
        }
        answers[i] = onMessage(msg, peer);
        peer.end();
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
