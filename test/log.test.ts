import { describe, expect, it } from 'vitest';
import { prettyLine } from '../src/0-base/log.ts';
import { runCli } from './helpers/gslbd.ts';

describe('log format', () => {
  it('turns a JSON log line into one readable line with its fields', () => {
    const line = JSON.stringify({
      level: 40,
      time: '2026-11-22T05:50:22.611Z',
      pid: 7,
      msg: 'health: a up -> down',
      targets: ['a'],
      reason: 'connect ECONNREFUSED',
    });
    expect(prettyLine(line)).toBe('05:50:22.611 WARN  health: a up -> down  targets=["a"] reason=connect ECONNREFUSED');
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('not json')).toBe('not json');
  });

  it('refuses an unknown --log-format', async () => {
    const r = await runCli(['serve', '--log-format', 'xml', '--listen', '127.0.0.1:0', '--workers', '1'], 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--log-format xml: json or pretty');
  });
});
