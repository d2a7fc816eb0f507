// What the config tests share: the errors gslbd.yaml's reader gives for a text, and the check
// that `serve` and `gslbd check` both refuse a file with the same error.

import path from 'node:path';
import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/7-config/load.ts';
import { runCli } from '../helpers/gslbd.ts';

/** The messages of the ConfigError `text` (as `gslbd.yaml`) raises; throws if it raises none. */
export function configErrors(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, 'gslbd.yaml', env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('ERR_CONFIG');
    return (e as ConfigError).errors.map((x) => x.message);
  }
  throw new Error('no error');
}

/** `gslbd serve --config file` does not start and `gslbd check --config file` exits 1, each saying `message`. */
export async function serveAndCheckRefuse(file: string, message: RegExp | string): Promise<void> {
  const r = await runCli(
    [
      'serve',
      '--config',
      file,
      '--listen',
      '127.0.0.1:0',
      '--data',
      path.join(path.dirname(file), 'data'),
      '--workers',
      '1',
    ],
    20_000,
  );
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(message);
  const c = await runCli(['check', '--config', file]);
  expect(c.code).toBe(1);
  expect(c.stderr).toMatch(message);
}
