// DNS check: asks the target a question and passes when the answer carries the expected rcode.

import { queryOnce } from '../../1-codec/client.ts';
import type { ProbeOptions, ProbeResult, ProbeTarget, Prober } from '../types.ts';

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export const dnsProber: Prober = {
  async probe({ address, spec }: ProbeTarget, { signal }: ProbeOptions): Promise<ProbeResult> {
    const started = performance.now();
    const q = spec.query!;
    const aborted = new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error('timeout')), { once: true }),
    );
    aborted.catch(() => {}); // settles after the race is decided; not an error then
    try {
      const reply = await Promise.race([queryOnce(address, spec.port, q.name, q.type, spec.timeoutMs), aborted]);
      const ok = reply.rcode === q.rcode;
      return {
        ok,
        reason: `rcode ${RCODES[reply.rcode] ?? reply.rcode}`,
        hard: false,
        latencyMs: performance.now() - started,
      };
    } catch (e) {
      const reason = signal.aborted ? `timeout after ${spec.timeoutMs} ms` : `dns ${(e as Error).message}`;
      return { ok: false, reason, hard: false, latencyMs: performance.now() - started };
    }
  },
};
