// A validating Unbound (Debian `unbound`) a test starts on loopback: the test's zones stubbed to
// gslbd (or to a proxy in front of it), a DS as the only trust anchor, ECS passed on to the stub
// (subnetcache), and a stop by its own PID. Its log is kept for the failure messages.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnDaemon, type Daemon } from './daemon.ts';
import { dig } from './dig.ts';
import { freePort } from './knot.ts';
import { until } from './listeners.ts';

export interface Unbound extends Daemon {
  readonly port: number;
}

/** The path of unbound, or a thrown error naming the package (CI installs it). */
export function requireUnbound(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v unbound || ls /usr/sbin/unbound'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('unbound is not installed: apt-get install unbound (scripts/test.sh does)');
  }
}

/**
 * Starts unbound in `dir` with `anchor` (lines `NAME. IN DS ...`) as trust anchor and each of
 * `stubs` (zone → port on 127.0.0.1) as a stub zone; resolves once it answers.
 */
export async function startUnbound(
  dir: string,
  anchor: string,
  stubs: readonly { readonly zone: string; readonly port: number }[],
): Promise<Unbound> {
  const bin = requireUnbound();
  writeFileSync(path.join(dir, 'anchor.txt'), anchor);
  const port = await freePort();
  const conf = [
    'server:',
    `  interface: 127.0.0.1@${port}`,
    `  port: ${port}`,
    '  do-daemonize: no',
    '  username: ""',
    '  chroot: ""',
    `  directory: "${dir}"`,
    '  pidfile: ""',
    '  use-syslog: no',
    '  logfile: ""',
    '  verbosity: 1',
    '  val-log-level: 2',
    '  do-ip6: no',
    '  access-control: 127.0.0.0/8 allow',
    '  do-not-query-localhost: no',
    '  qname-minimisation: no',
    `  trust-anchor-file: "${path.join(dir, 'anchor.txt')}"`,
    // ECS from the client is passed on to the stub (RFC 7871 §7.1), and answers cached by scope.
    '  module-config: "subnetcache validator iterator"',
    '  send-client-subnet: 127.0.0.1',
    '  max-client-subnet-ipv4: 24',
    // What the test asks should be what the stub answers now, not a cached earlier answer.
    '  cache-max-ttl: 1',
    '  cache-max-negative-ttl: 1',
    ...stubs.flatMap((s) => ['stub-zone:', `  name: "${s.zone}"`, `  stub-addr: 127.0.0.1@${s.port}`]),
  ].join('\n');
  const file = path.join(dir, 'unbound.conf');
  writeFileSync(file, conf + '\n');
  const daemon = spawnDaemon(bin, ['-d', '-c', file]);
  await until(
    async () => {
      if (daemon.proc.exitCode !== null) throw new Error(`unbound exited:\n${daemon.log()}`);
      return dig(port, ['version.server', 'CH', 'TXT', '+timeout=1']).then(
        () => true,
        () => false,
      );
    },
    10_000,
    'unbound to answer',
    100,
  );
  return { ...daemon, port };
}
