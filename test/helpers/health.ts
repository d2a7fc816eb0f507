// End-to-end health tests: a zone `health.test.` with a pools file written by the test, answers
// read with the real dig (or raw UDP where a test must be quicker than a probe interval), and the
// health transitions gslbd logs.

import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { Type } from '../../src/0-base/constants.ts';
import { dig } from './dig.ts';
import type { Gslbd } from './gslbd.ts';
import { readReply } from './pool-queries.ts';
import { buildQuery, udpExchange } from './raw.ts';

export const ORIGIN = 'health.test';

const ZONE = `$TTL 300
@    IN SOA ns1 hostmaster ( 1 3600 600 86400 60 )
     IN NS  ns1
ns1  IN A   192.0.2.53
`;

/** A check as written in a pools file (durations as text, e.g. '1s'). */
export type CheckYaml = Record<string, string | number | boolean | number[]>;
export type PoolsYaml = Record<string, Record<string, unknown>>;

/** A fresh zones directory holding the zone and `pools` as its pools file. */
export function zonesDir(pools: PoolsYaml): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-health-'));
  writeFileSync(path.join(dir, `${ORIGIN}.zone`), ZONE);
  writePools(dir, pools);
  return dir;
}

export function writePools(dir: string, pools: PoolsYaml): void {
  // Written out in full: the pools file does not follow YAML aliases (`*check`).
  writeFileSync(path.join(dir, `${ORIGIN}.pools.yaml`), stringify(pools, { aliasDuplicateObjects: false }));
}

/** The id gslbd gives a target in logs: `<pool fqdn>/<address>`. */
export const targetId = (pool: string, address: string): string => `${pool}.${ORIGIN}./${address}`;

export interface PoolAnswer {
  readonly status: string;
  /** A records of the answer, sorted. */
  readonly addresses: string[];
  /** TTL of the answer RRset, or of the SOA in authority for NODATA. */
  readonly ttl: number;
}

/** Asks the real dig for the A records of `pool`. */
export async function ask(server: Gslbd, pool: string): Promise<PoolAnswer> {
  const r = await dig(server.port, [`${pool}.${ORIGIN}`, 'A']);
  const a = r.answer.filter((rr) => rr.type === 'A');
  return {
    status: r.status,
    addresses: a.map((rr) => rr.data).sort(),
    ttl: a[0]?.ttl ?? r.authority[0]?.ttl ?? -1,
  };
}

/** The same over raw UDP from this process: a few milliseconds, for answers that must be timely. */
export async function askFast(server: Gslbd, pool: string): Promise<string[]> {
  const reply = await udpExchange(server.port, buildQuery(`${pool}.${ORIGIN}`, Type.A), 2000);
  if (!reply) throw new Error(`no reply from gslbd for ${pool}`);
  const r = readReply(reply);
  if (r.rcode !== 0) throw new Error(`${pool}: rcode ${r.rcode}`);
  return r.answer
    .filter((a) => a.type === Type.A)
    .map((a) => a.data)
    .sort();
}

export interface HealthLine {
  readonly msg: string;
  readonly targets: string[];
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  /** ISO 8601. */
  readonly time: string;
}

const isHealth = (l: Record<string, unknown>): boolean => typeof l.msg === 'string' && l.msg.startsWith('health:');

/** Every health transition logged since log index `from`. */
export function healthLines(server: Gslbd, from = 0): HealthLine[] {
  return server.logs.slice(from).filter(isHealth) as unknown as HealthLine[];
}

/** Waits for the first transition of `target` to `to` logged at or after log index `from`. */
export async function transition(
  server: Gslbd,
  from: number,
  target: string,
  to: 'up' | 'down',
  timeoutMs = 10_000,
): Promise<HealthLine> {
  const line = await server.waitForLog(
    (l) => isHealth(l) && server.logs.indexOf(l) >= from && l.to === to && (l.targets as string[]).includes(target),
    timeoutMs,
  );
  return line as unknown as HealthLine;
}
