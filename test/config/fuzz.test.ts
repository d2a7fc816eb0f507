// Fuzzing the two YAML formats with mutated files: a pools file (<origin>.pools.yaml) and
// gslbd.yaml. Each input either reads or fails with clear errors (the code, the file, a line of
// the input, a reason in words), never another exception and never a hang. The seeds are every
// pools file of zones/ and test/fixtures/, and gslbd.yaml with every key the README documents.
// FUZZ_SEED=<seed> replays a run.

import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/7-config/load.ts';
import { parsePoolsFile } from '../../src/4-gslb/pools-file.ts';
import { fuzzSeed, Rng } from '../helpers/fuzz.ts';
import { CONFIG_SEEDS, mutated, POOLS_SEEDS, unclear, YAML_TOKENS } from '../helpers/text-fuzz.ts';
import type { SourceError } from '../../src/0-base/errors.ts';

const INPUTS = 400;
const SEED = fuzzSeed();
const ENV = { GSLBD_FUZZ: 'an-api-token-of-32-characters-xx', GSLBD_API_TOKEN: 'an-api-token-of-32-characters-xx' };

/** The unclear ones among `errors`, each with its message. */
const unclearOf = (errors: readonly SourceError[], file: string, text: string): string[] =>
  errors.flatMap((e) => {
    const why = unclear(e, file, text);
    return why ? [`${e.message}: ${why}`] : [];
  });

describe('YAML files under mutated input', () => {
  it(`reads or rejects ${INPUTS} mutated pools files with clear errors, never an exception`, () => {
    console.log(`pools fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    const rng = new Rng(SEED);
    let rejected = 0;
    let slowest = { ms: 0, bytes: 0 };
    for (let i = 0; i < INPUTS; i++) {
      const seed = rng.pick(POOLS_SEEDS);
      const text = mutated(rng, [seed.text], YAML_TOKENS);
      const file = `${seed.origin}pools.yaml`;
      let errors: SourceError[];
      const started = performance.now();
      try {
        errors = parsePoolsFile(text, file, seed.wire).errors;
        const ms = performance.now() - started;
        if (ms > slowest.ms) slowest = { ms, bytes: text.length };
      } catch (err) {
        throw new Error(`input ${i} (seed ${SEED}) threw ${(err as Error).stack}\n--- input:\n${text.slice(0, 2000)}`, {
          cause: err,
        });
      }
      if (errors.length) rejected++;
      // One expect per input: thousands of inputs with hundreds of errors each.
      const bad = [
        ...unclearOf(errors, file, text),
        ...errors.filter((e) => e.code !== 'ERR_POOLS').map((e) => e.code),
      ];
      if (bad.length) expect(bad, `input ${i} (seed ${SEED}):\n${text.slice(0, 2000)}`).toEqual([]);
    }
    console.log(
      `pools fuzz: ${INPUTS} inputs, ${rejected} rejected; slowest ${slowest.ms.toFixed(1)} ms (${slowest.bytes} bytes)`,
    );
    expect(rejected).toBeGreaterThan(INPUTS * 0.2);
    expect(rejected).toBeLessThan(INPUTS);
  }, 60_000);

  it(`reads or rejects ${INPUTS} mutated gslbd.yaml files with a ConfigError, never another exception`, () => {
    const rng = new Rng(SEED ^ 0x51515151);
    let rejected = 0;
    for (let i = 0; i < INPUTS; i++) {
      const text = mutated(rng, CONFIG_SEEDS, YAML_TOKENS);
      try {
        parseConfig(text, 'gslbd.yaml', ENV);
      } catch (err) {
        if (!(err instanceof ConfigError))
          throw new Error(
            `input ${i} (seed ${SEED}) threw ${(err as Error).stack}\n--- input:\n${text.slice(0, 2000)}`,
            {
              cause: err,
            },
          );
        rejected++;
        const bad = err.errors.length ? unclearOf(err.errors, 'gslbd.yaml', text) : ['a ConfigError without errors'];
        if (bad.length) expect(bad, `input ${i} (seed ${SEED}):\n${text.slice(0, 2000)}`).toEqual([]);
      }
    }
    console.log(`gslbd.yaml fuzz: ${INPUTS} inputs, ${rejected} rejected`);
    expect(rejected).toBeGreaterThan(INPUTS * 0.2);
    expect(rejected).toBeLessThan(INPUTS);
  }, 60_000);
});
