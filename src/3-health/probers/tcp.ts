// TCP connect check: passes when the three-way handshake completes within the timeout.
//
// With `watch`, the connection is kept open (idle) after a pass. A target whose process dies
// closes it at once (the kernel sends FIN/RST), so the scheduler re-probes without waiting for the
// next interval: that is how eviction beats half an interval on average.

import net from 'node:net';
import { LOCAL_ERRORS, type ProbeOptions, type ProbeResult, type ProbeTarget, type Prober } from '../types.ts';

const HARD = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH']);

export const tcpProber: Prober = {
  probe({ address, spec }: ProbeTarget, { signal, watch }: ProbeOptions): Promise<ProbeResult> {
    const started = performance.now();
    return new Promise((resolve) => {
      const sock = net.connect({ host: address, port: spec.port });
      let done = false;
      const finish = (ok: boolean, reason: string, hard = false, local = false) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        resolve({ ok, reason, hard, latencyMs: performance.now() - started, ...(local && { local }) });
      };
      const onAbort = () => {
        sock.destroy();
        finish(false, `timeout after ${spec.timeoutMs} ms`);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      sock.once('connect', () => {
        finish(true, 'connected');
        if (!watch || watch.signal.aborted) {
          sock.destroy();
          return;
        }
        sock.setKeepAlive(true, 1000);
        sock.resume(); // discard anything the target sends
        const end = () => sock.destroy();
        watch.signal.addEventListener('abort', end, { once: true });
        sock.once('close', () => {
          watch.signal.removeEventListener('abort', end);
          if (!watch.signal.aborted) watch.onLost();
        });
      });
      sock.on('error', (err: NodeJS.ErrnoException) => {
        finish(false, `connect ${err.code ?? err.message}`, HARD.has(err.code ?? ''), LOCAL_ERRORS.has(err.code ?? ''));
      });
    });
  },
};
