// Starts a real Knot DNS (knotd) on a loopback port, serving zone files as they are, as the
// reference server for differential tests. Foreground child process, stopped by its own PID.

import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { spawnDaemon } from './daemon.ts';
import { dig } from './dig.ts';

export interface KnotZone {
  /** Zone name with the final dot, e.g. `example.com.`. */
  readonly origin: string;
  /** Absolute path of its zone file. */
  readonly file: string;
}

export interface Knot {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly conf: string;
  /** Knot's log so far (warnings; info and above for a secondary). */
  log(): string;
  /** Every record of `origin` as Knot loaded it, one `owner ttl TYPE rdata` line each (`knotc zone-read`). */
  zoneRead(origin: string): Promise<string[]>;
  /** `knotc zone-reload`: the zone file read again (as a primary, its differences kept for IXFR). */
  reload(origin: string): Promise<void>;
  stop(): Promise<void>;
}

/** Throws (never skips) when knotd is missing: CI installs it, so its absence is a broken setup. */
export function requireKnot(): string {
  const r = spawnSync('knotd', ['-V'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error || r.status !== 0) {
    throw new Error(
      'knotd (Knot DNS) is not installed or does not run: install the Debian package `knot` ' +
        `(scripts/test.sh and .ci/run do). ${r.error?.message ?? r.stderr}`,
    );
  }
  return r.stdout.trim();
}

/** A port that was free for both UDP and TCP on 127.0.0.1 a moment ago (the caller retries on a race). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const udp = dgram.createSocket('udp4');
  const udpFree = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(port, '127.0.0.1', () => resolve(true));
  });
  udp.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return udpFree ? port : freePort();
}

/** A TSIG key Knot knows; as a primary, it allows transfers from loopback signed with it (and unsigned ones). */
export interface TransferKey {
  readonly name: string;
  readonly algorithm: string;
  readonly secret: string;
}

/** The server, log and database sections every Knot of the tests has: loopback, `dir`, stderr at `level`. */
function head(dir: string, port: number, level: 'warning' | 'info'): string[] {
  const q = (s: string) => JSON.stringify(s);
  return [
    'server:',
    `    rundir: ${q(path.join(dir, 'run'))}`,
    `    listen: 127.0.0.1@${port}`,
    // No CH TXT identity/version answers: gslbd has none, and they are not zone data.
    '    identity: ""',
    '    version: ""',
    'log:',
    '  - target: stderr',
    `    any: ${level}`,
    'database:',
    `    storage: ${q(path.join(dir, 'storage'))}`,
  ];
}

/** Knot as a primary of gslbd: NOTIFY sent to gslbd's port, and IXFR from the differences of reloaded files. */
export interface PrimaryFor {
  /** gslbd's port on 127.0.0.1, NOTIFY signed with the transfer key when there is one. */
  readonly notifyPort: number;
}

function config(
  dir: string,
  port: number,
  zones: readonly KnotZone[],
  key?: TransferKey,
  primaryFor?: PrimaryFor,
): string {
  const q = (s: string) => JSON.stringify(s);
  const notify = primaryFor
    ? [
        'remote:',
        '  - id: gslbd',
        `    address: 127.0.0.1@${primaryFor.notifyPort}`,
        ...(key ? [`    key: ${q(key.name)}`] : []),
      ]
    : [];
  const acl = key
    ? [
        'key:',
        `  - id: ${q(key.name)}`,
        `    algorithm: ${key.algorithm}`,
        `    secret: ${key.secret}`,
        'acl:',
        '  - id: transfer',
        '    address: 127.0.0.0/8',
        `    key: ${q(key.name)}`,
        '    action: transfer',
        // And unsigned from loopback too (benchmarks compare both).
        '  - id: transfer-unsigned',
        '    address: 127.0.0.0/8',
        '    action: transfer',
      ]
    : [];
  return [
    ...head(dir, port, 'warning'),
    ...acl,
    ...notify,
    'template:',
    '  - id: default',
    `    storage: ${q(path.join(dir, 'storage'))}`,
    // Serve the files as they are: never write them back. As gslbd's primary, a reloaded file's
    // differences go to the journal, for IXFR; otherwise no journal.
    '    zonefile-sync: -1',
    ...(primaryFor
      ? ['    zonefile-load: difference', '    journal-content: changes', '    notify: gslbd']
      : ['    zonefile-load: whole', '    journal-content: none']),
    '    semantic-checks: off',
    ...(key ? ['    acl: [transfer, transfer-unsigned]'] : []),
    'zone:',
    ...zones.flatMap((z) => [`  - domain: ${q(z.origin)}`, `    file: ${q(z.file)}`]),
    '',
  ].join('\n');
}

/** Knot as a secondary: where its zones come from, and the TSIG key it signs transfers with. */
export interface SecondaryOf {
  /** gslbd's port on 127.0.0.1. */
  readonly primaryPort: number;
  readonly key?: TransferKey;
}

/** A secondary of `primary` for `origins`: no zone files, every zone pulled at start; NOTIFY from the primary accepted. */
function secondaryConfig(dir: string, port: number, origins: readonly string[], primary: SecondaryOf): string {
  const q = (s: string) => JSON.stringify(s);
  const k = primary.key;
  return [
    ...head(dir, port, 'info'),
    ...(k ? ['key:', `  - id: ${q(k.name)}`, `    algorithm: ${k.algorithm}`, `    secret: ${k.secret}`] : []),
    'remote:',
    '  - id: primary',
    `    address: 127.0.0.1@${primary.primaryPort}`,
    ...(k ? [`    key: ${q(k.name)}`] : []),
    'acl:',
    '  - id: notify-from-primary',
    '    address: 127.0.0.1',
    ...(k ? [`    key: ${q(k.name)}`] : []),
    '    action: notify',
    'template:',
    '  - id: default',
    `    storage: ${q(path.join(dir, 'storage'))}`,
    // Keep what is transferred in memory and the journal only: nothing written to zone files.
    '    zonefile-sync: -1',
    '    zonefile-load: none',
    '    semantic-checks: off',
    'zone:',
    ...origins.flatMap((o) => [`  - domain: ${q(o)}`, '    master: primary', '    acl: notify-from-primary']),
    '',
  ].join('\n');
}

/**
 * A catalog consumer (RFC 9432, `catalog-role: interpret`): the catalog `catalog` is its one zone,
 * pulled from the primary, and each member the catalog lists becomes a secondary zone of the same
 * primary through the `member` template, without a word of this file changing.
 */
function catalogConfig(dir: string, port: number, catalog: string, primaryPort: number): string {
  const q = (s: string) => JSON.stringify(s);
  const secondary = [
    `    storage: ${q(path.join(dir, 'storage'))}`,
    '    master: primary',
    '    acl: notify-from-primary',
    '    zonefile-sync: -1',
    '    zonefile-load: none',
    '    semantic-checks: off',
  ];
  return [
    ...head(dir, port, 'info'),
    'remote:',
    '  - id: primary',
    `    address: 127.0.0.1@${primaryPort}`,
    'acl:',
    '  - id: notify-from-primary',
    '    address: 127.0.0.1',
    '    action: notify',
    'template:',
    '  - id: default',
    ...secondary,
    '  - id: member',
    ...secondary,
    'zone:',
    `  - domain: ${q(catalog)}`,
    '    catalog-role: interpret',
    '    catalog-template: member',
    '',
  ].join('\n');
}

/**
 * Knot as a catalog consumer of gslbd on 127.0.0.1@primaryPort; resolves once it answers queries
 * and has read the catalog (Knot does not answer queries for a catalog it interprets).
 */
export async function startKnotCatalog(
  dir: string,
  catalog: string,
  primaryPort: number,
  timeoutMs = 15_000,
): Promise<Knot> {
  requireKnot();
  await mkdir(path.join(dir, 'run'), { recursive: true });
  await mkdir(path.join(dir, 'storage'), { recursive: true });
  const conf = path.join(dir, 'knot.conf');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    await writeFile(conf, catalogConfig(dir, port, catalog, primaryPort));
    const { proc, log, stop } = spawnDaemon('knotd', ['-c', conf]);
    try {
      await waitReady(proc, port, [], log, timeoutMs);
      const deadline = Date.now() + timeoutMs;
      while (!log().includes(`[${catalog}] catalog reloaded`)) {
        if (Date.now() > deadline || proc.exitCode !== null)
          throw new Error(`knotd has not read the catalog ${catalog} after ${timeoutMs} ms:\n${log()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } catch (e) {
      lastError = e;
      await stop();
      continue;
    }
    const notKept = () => Promise.reject(new Error('not kept for a consumer'));
    return { proc, port, conf, log, zoneRead: notKept, reload: notKept, stop };
  }
  throw lastError;
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Polls SOA of every zone with dig until each answers authoritatively, or throws after `timeoutMs`. */
export async function waitReady(
  proc: ChildProcess,
  port: number,
  zones: readonly Pick<KnotZone, 'origin'>[],
  log: () => string,
  timeoutMs: number,
  what = 'knotd',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(zones.map((z) => z.origin));
  while (pending.size > 0) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`${what} exited (${proc.exitCode ?? proc.signalCode}):\n${log()}`);
    if (Date.now() > deadline)
      throw new Error(`${what} not answering SOA for ${[...pending].join(' ')} after ${timeoutMs} ms:\n${log()}`);
    for (const origin of [...pending]) {
      const r = await dig(port, [origin, 'SOA', '+timeout=1']).catch(() => null);
      if (r?.status === 'NOERROR' && r.flags.includes('aa') && r.answer.some((rr) => rr.type === 'SOA'))
        pending.delete(origin);
    }
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Writes `dir/knot.conf` for `zones` and runs `knotd -c` in the foreground on a free loopback
 * port; resolves once every zone answers SOA. Retries with another port if knotd cannot start.
 * With `secondaryOf`, Knot serves no files: it is a secondary of that primary (`file` unused) and
 * is ready once its first transfer of every zone is done.
 */
export async function startKnot(
  dir: string,
  zones: readonly KnotZone[],
  timeoutMs = 10_000,
  opts: {
    readonly secondaryOf?: SecondaryOf;
    readonly transferKey?: TransferKey;
    readonly primaryFor?: PrimaryFor;
    /** Listen on this port (a restart keeps its address); default: a free one. */
    readonly port?: number;
  } = {},
): Promise<Knot> {
  const { secondaryOf, transferKey, primaryFor } = opts;
  requireKnot();
  await mkdir(path.join(dir, 'run'), { recursive: true });
  await mkdir(path.join(dir, 'storage'), { recursive: true });
  const conf = path.join(dir, 'knot.conf');
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = opts.port ?? (await freePort());
    await writeFile(
      conf,
      secondaryOf
        ? secondaryConfig(
            dir,
            port,
            zones.map((z) => z.origin),
            secondaryOf,
          )
        : config(dir, port, zones, transferKey, primaryFor),
    );
    const { proc, log, stop } = spawnDaemon('knotd', ['-c', conf]);
    try {
      await waitReady(proc, port, zones, log, timeoutMs);
    } catch (e) {
      lastError = e;
      await stop();
      continue;
    }
    return {
      proc,
      port,
      conf,
      log,
      async zoneRead(origin) {
        const out = await run('knotc', ['-c', conf, '-t', '5', 'zone-read', origin], 10_000);
        // Lines read `[zone.] owner ttl TYPE rdata`.
        return out
          .split('\n')
          .filter(Boolean)
          .map((l) => l.replace(/^\[[^\]]*\]\s+/, ''));
      },
      async reload(origin) {
        await run('knotc', ['-c', conf, '-t', '5', 'zone-reload', origin], 10_000);
      },
      stop,
    };
  }
  throw lastError;
}
