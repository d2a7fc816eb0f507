// A server process a test starts (knotd, named): its stderr kept as it comes, and a stop that ends
// it by its own PID, SIGTERM first and SIGKILL after 5 s.

import { spawn, type ChildProcess } from 'node:child_process';

export interface Daemon {
  readonly proc: ChildProcess;
  /** Its stderr so far (and a spawn error, if any). */
  log(): string;
  stop(): Promise<void>;
}

export function spawnDaemon(command: string, args: readonly string[]): Daemon {
  const proc = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  proc.once('error', (e) => (stderr += `spawn: ${e.message}\n`));
  return {
    proc,
    log: () => stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
