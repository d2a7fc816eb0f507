// Starts a real gslbd process (src/9-main/cli.ts) for end-to-end tests and finds the ports it bound.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forTests } from './fixture.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'src/9-main/cli.ts');

export interface Gslbd {
  readonly proc: ChildProcess;
  /** UDP/TCP port of the first listener. */
  readonly port: number;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  /** Resolves with the first log line (present or future) that matches. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<number | null>;
}

/**
 * Runs `gslbd serve` with `args` (default listen 127.0.0.1:0, or gslbd's own defaults with
 * `defaultListen`; `--workers 1` unless given) and waits until it listens.
 */
export async function startGslbd(
  args: string[],
  env: Record<string, string> = {},
  opts: { defaultListen?: boolean; wrap?: readonly string[]; cli?: string } = {},
): Promise<Gslbd> {
  let withListen = args.includes('--listen') || opts.defaultListen ? args : [...args, '--listen', '127.0.0.1:0'];
  // Each server keeps its journal in a directory of its own unless the test names one; that
  // directory goes when the server is stopped.
  const ownData = args.includes('--data') ? null : mkdtempSync(path.join(os.tmpdir(), 'gslbd-data-'));
  if (ownData) withListen = [...withListen, '--data', ownData];
  // One process, as before --workers existed, unless the test asks for workers: the suite keeps its
  // behaviour and its cost (test/e2e/workers.test.ts tests the workers).
  if (!args.includes('--workers')) withListen = [...withListen, '--workers', '1'];
  // GSLBD_IO=dgram|batched: the UDP I/O the suite's servers use unless a test names one
  // (test/e2e/io-dgram.test.ts runs the core tests over dgram; the default is batched).
  const io = process.env.GSLBD_IO;
  if (io && !args.includes('--io')) withListen = [...withListen, '--io', io];
  // `wrap`: a command that runs gslbd, e.g. `ip netns exec NS` (it execs, so the PID is gslbd's).
  const command = [
    ...(opts.wrap ?? []),
    process.execPath,
    '--disable-warning=ExperimentalWarning',
    opts.cli ?? CLI,
    'serve',
    ...withListen,
  ];
  const proc = spawn(command[0]!, command.slice(1), {
    cwd: ROOT,
    env: { ...process.env, GSLBD_LOG_LEVEL: 'debug', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const waiters: { match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] =
    [];
  let buffered = '';
  let stderrText = '';
  proc.stderr!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      stderrText += line + '\n';
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        parsed = { msg: line, raw: true };
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.match(parsed)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const waitForLog = (match: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line in ${timeoutMs} ms; stderr:\n${stderrText}`)),
        timeoutMs,
      );
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`gslbd exited (${code}); stderr:\n${stderrText}`));
      });
    });
  };
  const listening = await waitForLog((l) => l.msg === 'listening', 20_000);
  return {
    proc,
    port: listening.port as number,
    logs,
    waitForLog,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      if (ownData) rmSync(ownData, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * Runs the gslbd CLI to completion (for `check` and other one-shot commands). A run still going
 * after `timeoutMs` (e.g. a `serve` expected to fail) is killed and resolves with code null. `env`
 * is laid over this process's environment.
 */
export function runCli(
  args: string[],
  timeoutMs = 30_000,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // 'close', not 'exit': it comes once stdout and stderr are fully read.
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Starts gslbd with `args` before the tests of the enclosing file (or describe block) and stops it
 * after them; the tests read `.server` once it runs.
 */
export function gslbdForTests(args: string[]): { readonly server: Gslbd } {
  return {
    server: forTests(
      () => startGslbd(args),
      (server) => server.stop(),
    ),
  };
}
