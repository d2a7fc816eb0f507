// A gslbd for the rate-limiting and cookie tests: the core fixture zones, the given lines of
// gslbd.yaml (`rrl:`, `cookies:`), and an API with a read token for /metrics.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startGslbd, type Gslbd } from './gslbd.ts';
import { parseMetrics, type Sample } from './ops.ts';

const ZONES = path.join(ROOT, 'test/fixtures/core/zones');
const READ = 'rrl-read-token-0123456789';

export interface Server {
  readonly gslbd: Gslbd;
  /** Its gslbd.yaml, rewritten by `rewrite` (then SIGHUP reads it again). */
  rewrite(lines: readonly string[]): void;
  metrics(): Promise<Sample[]>;
  stop(): Promise<void>;
}

/** gslbd with `lines` in its gslbd.yaml, the core fixture zones and an API for /metrics. */
export async function startWith(lines: readonly string[], args: readonly string[] = []): Promise<Server> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-rrl-'));
  const config = path.join(dir, 'gslbd.yaml');
  const write = (extra: readonly string[]) =>
    writeFileSync(
      config,
      [`zones: ${ZONES}`, 'api:', '  listen: 127.0.0.1:0', `  tokens: [{ token: ${READ} }]`, ...extra, ''].join('\n'),
    );
  write(lines);
  const gslbd = await startGslbd(['--config', config, ...args]);
  const api = await gslbd.waitForLog((l) => l.msg === 'api listening');
  return {
    gslbd,
    rewrite: write,
    async metrics() {
      const r = await fetch(`http://127.0.0.1:${api.port as number}/metrics`, {
        headers: { authorization: `Bearer ${READ}` },
      });
      return parseMetrics(await r.text());
    },
    async stop() {
      await gslbd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
