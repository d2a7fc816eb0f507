// `gslbd agent`: a load reporter run beside a target. Every interval it reads the target's load
// from one source (agent-sources.ts) and pushes it to gslbd as a load report (PUT .../load, the
// API's own route) valid for three intervals, so a stopped agent's last report expires by itself
// and least-load stops trusting it. `gslbd report` pushes one report, for scripts.
//
// It never floods: one request at a time, the next one an interval after the last; after a
// failure (gslbd unreachable, 5xx, 429) the wait doubles up to a minute, with jitter so a fleet of
// agents restarted together spreads out. A token gslbd refuses (401, 403) ends it with exit 1:
// retrying cannot fix that.

import { parseArgs } from 'node:util';
import { GslbError } from '../0-base/errors.ts';
import { parseDuration } from '../0-base/yaml-reader.ts';
import { command, connections, cpuUse, loadAverage, prometheus, type LoadSource } from './agent-sources.ts';
import { ApiCallError, call, COMMON, connect, matchTargets, type Conn, type Status } from './ops-cli.ts';

/** The longest wait between two attempts after failures (or the interval, if longer). */
const MAX_BACKOFF_MS = 60_000;

interface Target {
  zone: string;
  pool: string;
  address: string;
}

const loadUrl = (t: Target) =>
  `/v1/zones/${encodeURIComponent(t.zone)}/pools/${encodeURIComponent(t.pool)}/targets/${encodeURIComponent(t.address)}/load`;

/** POOL/ADDRESS (or ADDRESS) to the targets it names, read from /v1/status. */
async function resolve(c: Conn, spec: string): Promise<Target[]> {
  return matchTargets(await call<Status>(c, 'GET', '/v1/status'), spec);
}

async function push(c: Conn, targets: readonly Target[], load: number, capacity: number, validFor: number) {
  for (const t of targets) await call(c, 'PUT', loadUrl(t), { load, capacity, valid_for: validFor });
}

function durationFlag(text: string | undefined, flag: string, dflt: number): number {
  if (text === undefined) return dflt;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new GslbError('ERR_CONFIG', `--${flag} ${text}: not a duration like 10s`);
  return ms;
}

function numberFlag(text: string | undefined, flag: string, positive: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0 || (positive && n === 0))
    throw new GslbError('ERR_CONFIG', `--${flag} ${text}: not a number ${positive ? '> 0' : '≥ 0'}`);
  return n;
}

/** `gslbd report TARGET --load N --capacity M [--valid-for 30s]`: one load report. */
export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: { ...COMMON, load: { type: 'string' }, capacity: { type: 'string' }, 'valid-for': { type: 'string' } },
  });
  const load = numberFlag(values.load, 'load', false);
  const capacity = numberFlag(values.capacity, 'capacity', true);
  if (positionals.length !== 1 || load === undefined || capacity === undefined)
    throw new GslbError('ERR_CONFIG', 'usage: gslbd report POOL/ADDRESS --load N --capacity M [--valid-for 30s]');
  const validFor = durationFlag(values['valid-for'], 'valid-for', 30_000) / 1000;
  const c = await connect(values);
  const targets = await resolve(c, positionals[0]!);
  await push(c, targets, load, capacity, validFor);
  for (const t of targets)
    process.stdout.write(`reported ${t.pool}/${t.address}: load ${load} of ${capacity}, valid for ${validFor}s\n`);
  return 0;
}

function sourceOf(values: Record<string, string | boolean | undefined>, timeoutMs: number): LoadSource {
  const given = ['loadavg', 'cpu', 'connections', 'command', 'prometheus'].filter((k) => values[k] !== undefined);
  if (given.length !== 1)
    throw new GslbError(
      'ERR_CONFIG',
      'give one source: --loadavg, --cpu, --connections PORT, --command CMD, or --prometheus URL --metric NAME',
    );
  if (values.prometheus === undefined && values.metric !== undefined)
    throw new GslbError('ERR_CONFIG', '--metric goes with --prometheus URL');
  switch (given[0]) {
    case 'loadavg':
      return loadAverage();
    case 'cpu':
      return cpuUse();
    case 'connections': {
      const port = Number(values.connections);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new GslbError('ERR_CONFIG', `--connections ${String(values.connections)}: not a port`);
      return connections(port);
    }
    case 'command':
      return command(String(values.command), timeoutMs);
    default:
      if (values.metric === undefined) throw new GslbError('ERR_CONFIG', '--prometheus URL needs --metric NAME');
      return prometheus(String(values.prometheus), String(values.metric), timeoutMs);
  }
}

const say = (line: string) => process.stderr.write(`gslbd agent: ${line}\n`);

/** `gslbd agent TARGET SOURCE [--capacity M] [--interval 10s]`: runs until SIGTERM or SIGINT (exit 0). */
export async function agentCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      ...COMMON,
      loadavg: { type: 'boolean' },
      cpu: { type: 'boolean' },
      connections: { type: 'string' },
      command: { type: 'string' },
      prometheus: { type: 'string' },
      metric: { type: 'string' },
      capacity: { type: 'string' },
      interval: { type: 'string' },
    },
  });
  if (positionals.length !== 1)
    throw new GslbError('ERR_CONFIG', 'usage: gslbd agent POOL/ADDRESS SOURCE [--capacity M] [--interval 10s]');
  const interval = durationFlag(values.interval, 'interval', 10_000);
  const source = sourceOf(values, interval);
  const capacity = numberFlag(values.capacity, 'capacity', true) ?? source.capacity;
  if (capacity === undefined) throw new GslbError('ERR_CONFIG', `--capacity M is needed with ${source.name}`);
  const validFor = (3 * interval) / 1000;
  const c = await connect(values);
  const spec = positionals[0]!;

  let stopped = false;
  let wake: () => void = () => {};
  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const timer = setTimeout(r, ms);
      wake = () => {
        clearTimeout(timer);
        r();
      };
    });
  const stop = () => {
    stopped = true;
    wake();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  say(`${spec}: reporting ${source.name} of capacity ${capacity} every ${interval / 1000}s to ${c.base}`);
  let targets: Target[] | null = null;
  let failures = 0;
  let reported = false;
  while (!stopped) {
    let wait = interval;
    try {
      targets ??= await resolve(c, spec);
      let load: number | null = null;
      try {
        load = await source.read();
      } catch (e) {
        // Nothing pushed: a report made up now would be worse than the last one expiring.
        say(`${spec}: ${source.name}: ${(e as Error).message}; no report this time`);
      }
      if (load !== null) {
        await push(c, targets, load, capacity, validFor);
        reported = true;
        if (failures) say(`${spec}: reporting again after ${failures} failed attempt(s)`);
        failures = 0;
      }
    } catch (e) {
      if (e instanceof ApiCallError && (e.status === 401 || e.status === 403)) {
        say(`${e.message} (the token is refused: not retrying)`);
        return 1;
      }
      if (!(e instanceof ApiCallError) && !(e instanceof GslbError)) throw e;
      // A target gslbd does not have, at the first look: a mistake in the command, not an outage.
      if (!(e instanceof ApiCallError) && targets === null && !reported) {
        say(e.message);
        return 1;
      }
      // A target not found may be a reload under way: looked up again next time.
      if (e instanceof ApiCallError && e.status === 404) targets = null;
      failures++;
      const backoff = Math.min(interval * 2 ** failures, Math.max(MAX_BACKOFF_MS, interval));
      wait = backoff * (0.8 + Math.random() * 0.4);
      say(`${(e as Error).message}; retrying in ${(wait / 1000).toFixed(1)}s`);
    }
    if (!stopped) await sleep(wait);
  }
  say(`${spec}: stopped (the last report expires within ${validFor}s)`);
  return 0;
}
