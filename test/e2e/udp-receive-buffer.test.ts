// The UDP receive buffer (SO_RCVBUF, `--udp-receive-buffer` / `udp-receive-buffer:`): a real
// gslbd logs the size the kernel granted, warns when net.core.rmem_max cut it down, and refuses a
// nonsensical size before it binds anything.
//
// Linux grants min(asked, net.core.rmem_max) and doubles it (socket(7): the kernel keeps the other
// half for its bookkeeping), so each expected size is computed from this machine's rmem_max.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { ROOT, runCli, startGslbd } from '../helpers/gslbd.ts';

const RMEM_MAX = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
const ZONES = ['--zones', path.join(ROOT, 'zones')];
const granted = (asked: number) => 2 * Math.min(asked, RMEM_MAX);

async function listening(
  args: string[],
): Promise<{ listening: Record<string, unknown>; capped: Record<string, unknown>[]; answer: string[] }> {
  const s = await startGslbd([...ZONES, ...args]);
  try {
    const answer = (await dig(s.port, ['www.example.com', 'A'])).answer.map((r) => r.data);
    return {
      listening: s.logs.find((l) => l.msg === 'listening')!,
      capped: s.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('rmem_max')),
      answer,
    };
  } finally {
    await s.stop();
  }
}

describe('gslbd serve --udp-receive-buffer', () => {
  it('logs the receive buffer the kernel granted for the size asked', async () => {
    const asked = Math.min(1 << 20, RMEM_MAX);
    const r = await listening(['--udp-receive-buffer', String(asked)]);
    expect(r.listening.udpReceiveBuffer).toBe(granted(asked));
    expect(r.capped).toEqual([]);
    expect(r.answer).toEqual(['192.0.2.10']);
  });

  it('asks for 4 MiB by default', async () => {
    const r = await listening([]);
    expect(r.listening.udpReceiveBuffer).toBe(granted(4 << 20));
  });

  it('warns, naming rmem_max, when the kernel granted less than asked', async () => {
    const asked = RMEM_MAX + 65536;
    const r = await listening(['--udp-receive-buffer', String(asked)]);
    expect(r.listening.udpReceiveBuffer).toBe(2 * RMEM_MAX);
    expect(r.capped).toHaveLength(1);
    expect(r.capped[0]).toMatchObject({
      level: 40 /* pino: warn */,
      requested: asked,
      granted: 2 * RMEM_MAX,
      rmemMax: RMEM_MAX,
    });
  });

  it('leaves the kernel default (net.core.rmem_default) with 0', async () => {
    const rmemDefault = Number(readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));
    const r = await listening(['--udp-receive-buffer', '0']);
    expect(r.listening.udpReceiveBuffer).toBe(rmemDefault);
  });

  it('refuses a size that is not a byte count, or too small to hold a query', async () => {
    for (const bad of ['lots', '-1', '1.5', '100']) {
      // `=`: parseArgs takes a value starting with '-' only that way.
      const r = await runCli(['serve', ...ZONES, '--listen', '127.0.0.1:0', `--udp-receive-buffer=${bad}`], 10_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `gslbd: --udp-receive-buffer ${bad}: expected 0 (the kernel's default) or 4096..1073741824 bytes\n`,
      );
    }
  });

  it('refuses a nonsensical udp-receive-buffer in gslbd.yaml with file:line', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'gslbd-config-')), 'gslbd.yaml');
    writeFileSync(file, 'zones: ./zones\nudp-receive-buffer: 12\n');
    const r = await runCli(['serve', '--config', file, '--listen', '127.0.0.1:0'], 10_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `gslbd: ${file}:2: udp-receive-buffer: expected 0 (the kernel's default) or 4096..1073741824 bytes, got "12"\n`,
    );
  });
});
