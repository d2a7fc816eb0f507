// Fuzzing the HTTP API's request bodies against a real gslbd: valid bodies of every endpoint that
// takes one, mutated as JSON values (wrong types, unknown and prototype keys, edge numbers), as
// text (broken JSON), nested thousands deep, and oversized batches. Every reply is a success or a
// 4xx with the API's one error shape and a clear message; never a 5xx, never a hang; the server
// still answers DNS and a valid API write afterwards. FUZZ_SEED=<seed> replays a run.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest, leaked } from '../helpers/text-fuzz.ts';
import { fuzzSeed, Rng } from '../helpers/fuzz.ts';
import { startOps, type OpsServer, WRITE } from '../helpers/ops.ts';
import { dig } from '../helpers/dig.ts';

const REQUESTS = 1500;
const IN_FLIGHT = 8;
const SEED = fuzzSeed();

describe('API bodies under fuzzing, a gslbd process', () => {
  let s: OpsServer;
  beforeAll(async () => {
    s = await startOps();
  }, 30_000);
  afterAll(async () => {
    await s?.stop();
  });

  it(`answers ${REQUESTS} fuzzed bodies with a success or a clear 4xx, never a 5xx`, async () => {
    console.log(`API fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    const rng = new Rng(SEED);
    const requests = Array.from({ length: REQUESTS }, () => apiRequest(rng));
    const statuses = new Map<number, number>();
    const problems: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const i = next++;
        const r = requests[i]!;
        const res = await fetch(s.base + r.url, {
          method: r.method,
          headers: { authorization: `Bearer ${WRITE}`, ...(r.type && { 'content-type': r.type }) },
          body: r.body,
          signal: AbortSignal.timeout(10_000),
        });
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        const where = `request ${i} (seed ${SEED}): ${r.method} ${r.url} ${r.type} ${r.body.slice(0, 300)}`;
        if (res.status >= 500) problems.push(`${res.status} ${text.slice(0, 300)}\n  ${where}`);
        if (res.status < 400) continue;
        let error: { code?: unknown; message?: unknown } | undefined;
        try {
          error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
        } catch {
          // reported below
        }
        const why =
          typeof error?.code !== 'string' || typeof error.message !== 'string'
            ? `not the API's error shape: ${text.slice(0, 300)}`
            : leaked(error.message, r.body);
        if (why) problems.push(`${res.status}: ${why}\n  ${where}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    console.log(`API fuzz: ${REQUESTS} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(problems.slice(0, 5)).toEqual([]);
    // Both outcomes happen, or the mutations miss one side.
    expect([...statuses.keys()].some((c) => c < 300)).toBe(true);
    expect([...statuses.keys()].some((c) => c >= 400)).toBe(true);

    // Still in service: a valid write, and DNS.
    const ok = await s.api('PUT', '/v1/zones/ops.example.net./pools/rr/targets/198.51.100.1/weight', { weight: 7 });
    expect(ok.status).toBe(200);
    const d = await dig(s.gslbd.port, ['rr.ops.example.net', 'A']);
    expect(d.status).toBe('NOERROR');
    expect(s.gslbd.proc.exitCode).toBeNull();
    expect(s.gslbd.logs.filter((l) => l.msg === 'api request failed')).toEqual([]);
  }, 60_000);
});
