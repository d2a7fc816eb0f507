// YamlSource: what the YAML library reports becomes `file:line: reason` errors an operator can act
// on, including input the library gives up on (found by test/config/fuzz.test.ts).

import { describe, expect, it } from 'vitest';
import { YamlSource } from '../../src/0-base/yaml-reader.ts';

describe('YamlSource', () => {
  it('reports collections nested too deeply to read as one clear error at their line, not a stack overflow', () => {
    const text = `listen: ["127.0.0.1:53"]\nzones: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const src = new YamlSource('gslbd.yaml', text, 'ERR_CONFIG');
    expect(src.root).toBeNull();
    expect(src.errors.map((e) => e.message)).toEqual([
      'gslbd.yaml:2: nested too deeply to read (flow collections or blocks nested hundreds of levels deep)',
    ]);
  });

  it('reports a block map the library overflows its stack on (it throws) as a clear error at the deepest line', () => {
    // yaml 2.9: thousands of implicit keys on one line, then a key back at the top level.
    const text = `www:\n  policy: weighted\n  ${'p: r  '.repeat(20_000)}\nnext: 1\n`;
    const src = new YamlSource('x.pools.yaml', text, 'ERR_POOLS');
    expect(src.root).toBeNull();
    expect(src.errors.map((e) => e.message)).toEqual([
      'x.pools.yaml:3: nested too deeply to read (flow collections or blocks nested hundreds of levels deep)',
    ]);
  });
});
