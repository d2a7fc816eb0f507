// Operator commands that talk to a running gslbd's HTTP API: status, drain, undrain, reload,
// explain. The API address comes from --api, else GSLBD_API, else the `api.listen` of --config
// (https:// with `api.tls`), else http://127.0.0.1:8053; the token from --token or GSLBD_API_TOKEN;
// the CA that signed an https API's certificate from --ca or GSLBD_API_CA (the system's CAs, with
// NODE_EXTRA_CA_CERTS, otherwise).

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { loadConfig } from '../7-config/load.ts';
import { normalizeAddress } from '../0-base/address.ts';
import { parseDuration } from '../0-base/yaml-reader.ts';
import { GslbError } from '../0-base/errors.ts';
import { formatListen } from '../0-base/listen.ts';
import { reasonText, type DecidedBy } from '../7-state/verdict.ts';

export const COMMON = {
  api: { type: 'string' },
  token: { type: 'string' },
  config: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** An API call that failed: `status` is the HTTP status, 0 when the API was not reached. */
export class ApiCallError extends GslbError {
  readonly status: number;
  constructor(status: number, message: string) {
    super('ERR_CONFIG', message);
    this.status = status;
  }
}

export interface Conn {
  base: string;
  token: string;
  /** PEM of the CA that signed an https API's certificate; absent: the system's CAs. */
  ca?: Buffer;
}

export async function connect(values: { api?: string; token?: string; config?: string; ca?: string }): Promise<Conn> {
  let base = values.api ?? process.env.GSLBD_API;
  if (!base && values.config) {
    const cfg = await loadConfig(values.config);
    if (cfg.api) {
      base = `${cfg.api.tls ? 'https' : 'http'}://${formatListen(cfg.api.listen)}`;
    }
  }
  const token = values.token ?? process.env.GSLBD_API_TOKEN;
  if (!token) throw new GslbError('ERR_CONFIG', 'no API token: give --token or set GSLBD_API_TOKEN');
  const caFile = values.ca ?? process.env.GSLBD_API_CA;
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = readFileSync(caFile);
    } catch (e) {
      throw new GslbError('ERR_CONFIG', `--ca ${caFile}: cannot read: ${(e as Error).message}`);
    }
  }
  return { base: (base ?? 'http://127.0.0.1:8053').replace(/\/$/, ''), token, ...(ca && { ca }) };
}

/** One request to the API: its status and body. Rejects when there is no answer (refused, TLS failed, ...). */
function request(c: Conn, method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  const url = new URL(c.base + path);
  const headers = {
    Authorization: `Bearer ${c.token}`,
    ...(body !== undefined && { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }),
  };
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', reject);
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, { method, headers, ...(c.ca && { ca: c.ca }) }, done)
        : http.request(url, { method, headers }, done);
    req.on('error', reject);
    req.end(body);
  });
}

/** The API's JSON answer, read as `T` (the shapes below are what these commands use of it). */
export async function call<T>(c: Conn, method: string, path: string, body?: unknown): Promise<T> {
  let res: { status: number; text: string };
  try {
    res = await request(c, method, path, body === undefined ? undefined : JSON.stringify(body));
  } catch (e) {
    // Why there is no answer: ECONNREFUSED, ENOTFOUND, a certificate not trusted, ...
    // An AggregateError (every address of a name refused) has no message of its own, only a code.
    const err = e as NodeJS.ErrnoException;
    let why = err.message || err.code || String(err);
    if (/certificate|self[- ]signed/i.test(why))
      why += " (give the CA that signed the API's certificate with --ca FILE or GSLBD_API_CA)";
    throw new ApiCallError(0, `cannot reach the gslbd API at ${c.base}${path}: ${why}`);
  }
  let data: T & { error?: { message?: string } };
  try {
    data = JSON.parse(res.text) as T & { error?: { message?: string } };
  } catch {
    data = {} as T & { error?: { message?: string } };
  }
  if (res.status < 200 || res.status >= 300)
    throw new ApiCallError(
      res.status,
      `${method} ${c.base}${path}: HTTP ${res.status}: ${data?.error?.message ?? http.STATUS_CODES[res.status] ?? ''}`,
    );
  return data;
}

interface StatusTarget {
  address: string;
  state: string;
  because: DecidedBy;
  reason: string;
  weight: number;
  answers: number;
  override: string | null;
  since: number | null;
  /** In a cluster: each node's vote on the target's check. */
  votes?: Record<string, string>;
}
interface Explanation {
  query: { name: string; type: string };
  client: { address: string; prefix: number; location?: { country?: string; continent?: string } };
  rcode: string;
  ecs_scope: number;
  answer: string[];
  pools: {
    pool: string;
    policy: string;
    fallback?: string;
    note?: string;
    ttl: number;
    chosen: string[];
    score_name?: string;
    group_score_name?: string;
    groups?: { name: string; policy: string; chosen: boolean; score?: number }[];
    candidates: {
      address: string;
      state: string;
      votes?: Record<string, string>;
      because: DecidedBy;
      reason: string;
      weight: number;
      score?: number;
    }[];
  }[];
}
export interface Status {
  zones: { zone: string; serial: number; pools: { pool: string; policy: string; targets: StatusTarget[] }[] }[];
  events: unknown[];
  /** With `dnssec:`: each signed zone's keys (5-answer/sign.ts KeyView), times in ms. */
  dnssec?: {
    zone: string;
    keys: { tag: number; algorithm: number; state: string; active?: number; inactive?: number; delete?: number }[];
  }[];
}

/**
 * Targets named by `spec`: `ADDRESS` (in every pool) or `POOL/ADDRESS`, POOL relative to its zone
 * (`www`) or absolute (`www.gslb.example.com`, final dot optional), as the API takes names.
 */
export function matchTargets(status: Status, spec: string): { zone: string; pool: string; address: string }[] {
  const slash = spec.lastIndexOf('/');
  const poolPart = slash >= 0 ? spec.slice(0, slash).toLowerCase().replace(/\.$/, '') : null;
  const text = slash >= 0 ? spec.slice(slash + 1) : spec;
  if (!net.isIP(text))
    throw new GslbError('ERR_CONFIG', `${spec}: "${text}" is not an IP address (TARGET is ADDRESS or POOL/ADDRESS)`);
  const address = normalizeAddress(text);
  const out = [];
  for (const z of status.zones) {
    for (const p of z.pools) {
      const pool = p.pool.toLowerCase();
      if (poolPart !== null && pool !== `${poolPart}.` && pool !== `${poolPart}.${z.zone.toLowerCase()}`) continue;
      for (const t of p.targets) if (t.address === address) out.push({ zone: z.zone, pool: p.pool, address });
    }
  }
  if (!out.length) throw new GslbError('ERR_CONFIG', `no target ${spec} in any pool`);
  return out;
}

interface ClusterView {
  node: string;
  head: number | null;
  detached: boolean;
  detached_since?: string;
  nodes: {
    node: string;
    self: boolean;
    seq: number;
    lag: number | null;
    last_seen: string | null;
    same_files: boolean;
  }[];
}

/** `  votes: ns1 up, ns2 down` in a cluster; nothing for a target without votes. */
function votesText(votes: Record<string, string> | undefined): string {
  const all = Object.entries(votes ?? {});
  return all.length ? `  votes: ${all.map(([node, state]) => `${node} ${state}`).join(', ')}` : '';
}

function printCluster(c: ClusterView): void {
  process.stdout.write(
    c.detached
      ? `${c.node}: cluster: detached since ${c.detached_since} (etcd unreachable)\n`
      : `${c.node}: etcd head ${c.head}\n`,
  );
  for (const n of c.nodes) {
    const seen = n.last_seen === null ? '' : `${Math.round((Date.now() - Date.parse(n.last_seen)) / 1000)}s ago`;
    process.stdout.write(
      `  ${(n.self ? '* ' : '  ') + n.node.padEnd(20)} seq ${String(n.seq).padEnd(8)} lag ${String(n.lag ?? '?').padEnd(6)} seen ${seen.padEnd(8)} ${n.same_files ? 'same files' : 'FILES DIFFER'}\n`,
    );
  }
}

function printStatus(s: Status): void {
  const ago = (ms: number | null) => (ms === null ? '' : `${Math.round((Date.now() - ms) / 1000)}s`);
  for (const z of s.zones) {
    if (!z.pools.length) continue;
    process.stdout.write(`${z.zone} (serial ${z.serial})\n`);
    for (const p of z.pools) {
      process.stdout.write(`  ${p.pool} ${p.policy}\n`);
      for (const t of p.targets) {
        process.stdout.write(
          `    ${t.address.padEnd(40)} ${t.state.padEnd(12)} ${ago(t.since).padStart(6)}  weight ${String(t.weight).padEnd(4)} answers ${String(t.answers).padEnd(8)} ${reasonText(t)}${votesText(t.votes)}\n`,
        );
      }
    }
  }
  // The signed zones' keys: a rollover's steps show here as their times come.
  const at = (ms: number | undefined, what: string) =>
    ms === undefined ? '' : ` ${what} ${new Date(ms).toISOString()}`;
  for (const z of s.dnssec ?? []) {
    process.stdout.write(`dnssec ${z.zone}\n`);
    for (const k of z.keys)
      process.stdout.write(
        `  key ${String(k.tag).padEnd(6)} algorithm ${String(k.algorithm).padEnd(3)} ${k.state.padEnd(10)}${at(k.active, 'signs from')}${at(k.inactive, 'retires')}${at(k.delete, 'removed')}\n`,
      );
  }
}

export async function opsCommand(command: string, args: string[]): Promise<number> {
  switch (command) {
    case 'cluster-status': {
      const { values } = parseArgs({ args, options: COMMON, strict: true });
      const c = await call<ClusterView>(await connect(values), 'GET', '/v1/cluster');
      if (values.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
      else printCluster(c);
      return 0;
    }
    case 'status': {
      const { values } = parseArgs({ args, options: COMMON, strict: true });
      const s = await call<Status>(await connect(values), 'GET', '/v1/status');
      if (values.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else printStatus(s);
      return 0;
    }
    case 'drain':
    case 'undrain': {
      const { values, positionals } = parseArgs({
        args,
        options: { ...COMMON, for: { type: 'string' }, reason: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length !== 1)
        throw new GslbError(
          'ERR_CONFIG',
          `usage: gslbd ${command} TARGET (ADDRESS or POOL/ADDRESS)${command === 'drain' ? ' [--for 30m]' : ''}`,
        );
      const c = await connect(values);
      const targets = matchTargets(await call<Status>(c, 'GET', '/v1/status'), positionals[0]!);
      let validFor: number | undefined;
      if (values.for !== undefined) {
        const ms = parseDuration(values.for);
        if (ms === undefined || ms <= 0)
          throw new GslbError('ERR_CONFIG', `--for ${values.for}: not a duration like 30m`);
        validFor = ms / 1000;
      }
      // One batch: every pool holding the target drains (or undrains) together, or none does.
      const changes = targets.map((t) =>
        command === 'drain'
          ? {
              op: 'set-override',
              zone: t.zone,
              pool: t.pool,
              target: t.address,
              state: 'drain',
              reason: values.reason ?? 'drained by gslbd drain',
              ...(validFor && { valid_for: validFor }),
            }
          : { op: 'clear-override', zone: t.zone, pool: t.pool, target: t.address },
      );
      await call<unknown>(c, 'POST', '/v1/batch', { changes });
      for (const t of targets)
        process.stdout.write(
          `${command === 'drain' ? 'drained' : 'undrained'} ${t.pool}/${t.address}${validFor ? ` for ${values.for}` : ''}\n`,
        );
      return 0;
    }
    case 'reload': {
      const { values } = parseArgs({ args, options: COMMON, strict: true });
      const r = await call<{ loaded: number; failed: number; config?: { ok: boolean; error: string | null } }>(
        await connect(values),
        'POST',
        '/v1/reload',
      );
      process.stdout.write(
        `reloaded: ${r.loaded} zones loaded, ${r.failed} failed (previous versions kept; see the server log)\n`,
      );
      if (r.config && !r.config.ok)
        process.stdout.write(
          `gslbd.yaml not reloaded (the tokens and TSIG keys in service kept):\n${r.config.error}\n`,
        );
      return r.failed || (r.config && !r.config.ok) ? 1 : 0;
    }
    case 'explain': {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        strict: true,
        options: {
          ...COMMON,
          client: { type: 'string' },
          subnet: { type: 'string' },
          type: { type: 'string', default: 'A' },
        },
      });
      if (positionals.length !== 1)
        throw new GslbError('ERR_CONFIG', 'usage: gslbd explain NAME [--type A] [--client IP | --subnet CIDR]');
      const q = new URLSearchParams({ name: positionals[0]!, type: values.type });
      if (values.client) q.set('client', values.client);
      if (values.subnet) q.set('subnet', values.subnet);
      const r = await call<Explanation>(await connect(values), 'GET', `/explain?${q}`);
      if (values.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return 0;
      }
      process.stdout.write(
        `${r.query.name} ${r.query.type} for ${r.client.address}/${r.client.prefix}${r.client.location ? ` (${[r.client.location.country, r.client.location.continent].filter(Boolean).join(', ')})` : ''}: ${r.rcode}, ECS scope /${r.ecs_scope}\n`,
      );
      for (const a of r.answer) process.stdout.write(`  ${a}\n`);
      for (const p of r.pools) {
        process.stdout.write(
          `pool ${p.pool}: ${p.policy}${p.fallback ? `, no usable target: fallback ${p.fallback}` : ''}${p.note ? ` (${p.note})` : ''}, ttl ${p.ttl}\n`,
        );
        for (const g of p.groups ?? []) {
          const score = g.score === undefined ? '' : ` ${p.group_score_name} ${Number(g.score).toFixed(2)}`;
          process.stdout.write(`  ${g.chosen ? '*' : ' '} group ${g.name} (${g.policy})${score}\n`);
        }
        for (const c of p.candidates) {
          const chosen = p.chosen.includes(c.address) ? '*' : ' ';
          const score = c.score === undefined ? '' : ` ${p.score_name} ${Number(c.score).toFixed(2)}`;
          process.stdout.write(
            `  ${chosen} ${c.address.padEnd(40)} ${c.state.padEnd(11)} weight ${c.weight}${score}  ${reasonText(c)}${votesText(c.votes)}\n`,
          );
        }
      }
      return 0;
    }
  }
  return 2;
}
