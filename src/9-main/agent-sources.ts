// Where `gslbd agent` reads a target's load: the host's load average or CPU use, the established
// TCP connections on a local port, a command that prints a number, or one metric of a Prometheus
// text endpoint. Each source is read once per interval; a failed reading throws, and the agent
// skips that report (the previous one then expires: valid_for is three intervals).

import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';

export interface LoadSource {
  /** What it reads, for the log: `connections on port 8080`. */
  readonly name: string;
  /** The capacity when --capacity is not given; undefined: --capacity is required. */
  readonly capacity?: number;
  read(): Promise<number>;
}

/** The 1-minute load average, against the number of CPUs. */
export function loadAverage(): LoadSource {
  return { name: 'load average', capacity: os.availableParallelism(), read: async () => os.loadavg()[0]! };
}

/** CPU use in percent of every CPU since the previous reading (the first: since the agent started). */
export function cpuUse(): LoadSource {
  const sample = () => {
    let idle = 0;
    let total = 0;
    for (const c of os.cpus()) {
      idle += c.times.idle;
      total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
    }
    return { idle, total };
  };
  let last = sample();
  return {
    name: 'CPU use (%)',
    capacity: 100,
    async read() {
      const now = sample();
      const total = now.total - last.total;
      const busy = total - (now.idle - last.idle);
      last = now;
      return total > 0 ? Math.round((busy / total) * 1000) / 10 : 0;
    },
  };
}

// /proc/net/tcp: `sl local_address rem_address st ...`, addresses as HEXIP:HEXPORT; st 01 is
// ESTABLISHED (include/net/tcp_states.h).
const ESTABLISHED = '01';

/** Established TCP connections whose local port is `port` (the server's side), IPv4 and IPv6 (Linux). */
export function connections(port: number): LoadSource {
  return {
    name: `established connections on port ${port}`,
    async read() {
      let n = 0;
      let read = 0;
      for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
        const text = await readFile(file, 'utf8').catch(() => null);
        if (text === null) continue;
        read++;
        for (const line of text.split('\n').slice(1)) {
          const f = line.trim().split(/\s+/);
          if (f.length < 4 || f[3] !== ESTABLISHED) continue;
          if (parseInt(f[1]!.slice(f[1]!.lastIndexOf(':') + 1), 16) === port) n++;
        }
      }
      if (!read) throw new Error('cannot read /proc/net/tcp: counting connections needs Linux');
      return n;
    },
  };
}

/** The first number `sh -c COMMAND` prints; a failed command or one printing no number is an error. */
export function command(cmd: string, timeoutMs: number): LoadSource {
  return {
    name: `command ${JSON.stringify(cmd)}`,
    read: () =>
      new Promise((resolve, reject) => {
        execFile('/bin/sh', ['-c', cmd], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout) => {
          if (err) return reject(new Error(`${cmd}: ${err.killed ? 'timed out' : err.message.trim()}`));
          const m = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(stdout);
          if (!m) return reject(new Error(`${cmd}: printed no number`));
          resolve(Number(m[0]));
        });
      }),
  };
}

/** `a="x",b="y"` as pairs (values left escaped: a selector and a sample are compared as written). */
const labelPairs = (text: string): [string, string][] =>
  [...text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]);

/** `name` or `name{label="value",...}`: the samples a --metric selects. */
function metricSelector(text: string): { name: string; labels: [string, string][] } {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$/.exec(text.trim());
  if (!m) throw new Error(`--metric ${text}: expected NAME or NAME{label="value",...}`);
  return { name: m[1]!, labels: labelPairs(m[2] ?? '') };
}

/**
 * The sum of the samples of `metric` in the Prometheus text format (0.0.4) served at `url`, those
 * carrying every label the selector names. No such sample is an error, not a load of 0.
 */
export function prometheus(url: string, metric: string, timeoutMs: number): LoadSource {
  const want = metricSelector(metric);
  return {
    name: `${metric} at ${url}`,
    async read() {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
      let sum = 0;
      let found = 0;
      for (const line of (await res.text()).split('\n')) {
        const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
        if (!m || m[1] !== want.name) continue;
        const labels = new Map(labelPairs(m[2] ?? ''));
        if (!want.labels.every(([k, v]) => labels.get(k) === v)) continue;
        sum += Number(m[3]);
        found++;
      }
      if (!found) throw new Error(`${url} has no sample ${metric}`);
      if (!Number.isFinite(sum)) throw new Error(`${url}: ${metric} is not a finite number`);
      return sum;
    },
  };
}
