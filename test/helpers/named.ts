// Starts a real BIND 9 `named` on a loopback port as a secondary of gslbd: its configuration in a
// directory of the test's own, `named -g` in the foreground as the test's child process (logging to
// stderr), stopped by its own PID. Never the system's service.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { spawnDaemon } from './daemon.ts';
import { freePort, waitReady, type TransferKey } from './knot.ts';

export interface Named {
  readonly proc: ChildProcess;
  readonly port: number;
  /** named's log so far (stderr). */
  log(): string;
  stop(): Promise<void>;
}

/** named is in /usr/sbin, which a user's PATH may leave out. */
const NAMED = existsSync('/usr/sbin/named') ? '/usr/sbin/named' : 'named';

/** Throws (never skips) when named is missing: CI installs it, so its absence is a broken setup. */
export function requireNamed(): string {
  const r = spawnSync(NAMED, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    throw new Error(
      'named (BIND 9) is not installed or does not run: install the Debian package `bind9` ' +
        `(scripts/test.sh and .ci/run do). ${r.error?.message ?? r.stderr}`,
    );
  }
  return r.stdout.trim();
}

/** named.conf: secondaries of 127.0.0.1@primaryPort for `origins`, transfers signed with `key`, NOTIFY from it accepted. */
function config(dir: string, port: number, origins: readonly string[], primaryPort: number, key: TransferKey): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    `key ${q(key.name)} { algorithm ${key.algorithm}; secret ${q(key.secret)}; };`,
    'options {',
    `  directory ${q(dir)};`,
    `  pid-file ${q(path.join(dir, 'named.pid'))};`,
    `  session-keyfile ${q(path.join(dir, 'session.key'))};`,
    `  managed-keys-directory ${q(dir)};`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  notify no;',
    '  dnssec-validation no;',
    // As gslbd answers: no authority or additional section unless the answer needs one.
    '  minimal-responses yes;',
    '};',
    // No control channel: nothing listens on rndc's port 953.
    'controls { };',
    ...origins.map(
      (o) =>
        `zone ${q(o)} { type secondary; file ${q(path.join(dir, `${o}db`))}; ` +
        `primaries { 127.0.0.1 port ${primaryPort} key ${q(key.name)}; }; allow-notify { 127.0.0.1; }; };`,
    ),
    '',
  ].join('\n');
}

/**
 * named.conf of a catalog consumer (RFC 9432): the catalog `catalog` is its one configured zone,
 * pulled from 127.0.0.1@primaryPort; `catalog-zones` makes each member a secondary zone of the
 * same primary (`allow-new-zones` lets named add them), re-read at most every second.
 */
function catalogConfig(dir: string, port: number, catalog: string, primaryPort: number): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'options {',
    `  directory ${q(dir)};`,
    `  pid-file ${q(path.join(dir, 'named.pid'))};`,
    `  session-keyfile ${q(path.join(dir, 'session.key'))};`,
    `  managed-keys-directory ${q(dir)};`,
    `  listen-on port ${port} { 127.0.0.1; };`,
    '  listen-on-v6 { none; };',
    '  recursion no;',
    '  notify no;',
    '  dnssec-validation no;',
    '  minimal-responses yes;',
    '  allow-new-zones yes;',
    `  catalog-zones { zone ${q(catalog)} default-primaries { 127.0.0.1 port ${primaryPort}; } in-memory yes min-update-interval 1; };`,
    '};',
    'controls { };',
    `zone ${q(catalog)} { type secondary; file ${q(path.join(dir, 'catalog.db'))}; ` +
      `primaries { 127.0.0.1 port ${primaryPort}; }; allow-notify { 127.0.0.1; }; };`,
    '',
  ].join('\n');
}

/** named as a catalog consumer of gslbd on 127.0.0.1@primaryPort; resolves once it serves the catalog. */
export async function startNamedCatalog(
  dir: string,
  catalog: string,
  primaryPort: number,
  timeoutMs = 15_000,
): Promise<Named> {
  requireNamed();
  const conf = path.join(dir, 'named.conf');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    await writeFile(conf, catalogConfig(dir, port, catalog, primaryPort));
    const { proc, log, stop } = spawnDaemon(NAMED, ['-g', '-n', '1', '-c', conf]);
    try {
      await waitReady(proc, port, [{ origin: catalog }], log, timeoutMs, 'named');
    } catch (e) {
      lastError = e;
      await stop();
      continue;
    }
    return { proc, port, log, stop };
  }
  throw lastError;
}

/**
 * Writes `dir/named.conf` and runs `named -g -c` on a free loopback port; resolves once every zone
 * answers SOA (its first transfer done). Retries with another port if named cannot start.
 */
export async function startNamed(
  dir: string,
  origins: readonly string[],
  primaryPort: number,
  key: TransferKey,
  timeoutMs = 15_000,
): Promise<Named> {
  requireNamed();
  const conf = path.join(dir, 'named.conf');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    await writeFile(conf, config(dir, port, origins, primaryPort, key));
    // -g: foreground, everything logged to stderr; -n 1: one worker thread is plenty here.
    const { proc, log, stop } = spawnDaemon(NAMED, ['-g', '-n', '1', '-c', conf]);
    try {
      await waitReady(
        proc,
        port,
        origins.map((origin) => ({ origin })),
        log,
        timeoutMs,
        'named',
      );
    } catch (e) {
      lastError = e;
      await stop();
      continue;
    }
    return { proc, port, log, stop };
  }
  throw lastError;
}
