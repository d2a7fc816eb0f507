// Fuzzing the zone-file parser and builder with mutated zone files: every input either loads or
// fails with clear errors (ERR_ZONE_*, the file, a line of the input, a reason in words), never
// an exception and never a hang. The seeds are every zone file of zones/ and test/fixtures/.
// bench/fuzz.ts runs many more inputs and reports the slowest; FUZZ_SEED=<seed> replays a run.

import { describe, expect, it } from 'vitest';
import { fuzzSeed, Rng } from '../helpers/fuzz.ts';
import { loadZoneText, mutated, ZONE_SEEDS, ZONE_TOKENS } from '../helpers/text-fuzz.ts';

const INPUTS = 2000;
const SEED = fuzzSeed();

describe('zone-file parser under mutated input', () => {
  it(`loads or rejects ${INPUTS} mutated zone files with clear errors, never an exception`, async () => {
    console.log(`zone fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    const rng = new Rng(SEED);
    let rejected = 0;
    let slowest = { ms: 0, bytes: 0 };
    for (let i = 0; i < INPUTS; i++) {
      const text = mutated(rng, ZONE_SEEDS, ZONE_TOKENS);
      const started = performance.now();
      let r: Awaited<ReturnType<typeof loadZoneText>>;
      try {
        r = await loadZoneText(text);
      } catch (err) {
        throw new Error(`input ${i} (seed ${SEED}) threw ${(err as Error).stack}\n--- input:\n${text.slice(0, 2000)}`, {
          cause: err,
        });
      }
      const ms = performance.now() - started;
      if (ms > slowest.ms) slowest = { ms, bytes: text.length };
      if (r.errors.length) rejected++;
      // One expect per input: thousands of inputs with hundreds of errors each.
      const bad = [
        ...r.unclear,
        ...r.errors.filter((e) => !/^ERR_ZONE_(SYNTAX|CONTENT)$/.test(e.code)).map((e) => e.code),
      ];
      if (bad.length) expect(bad, `input ${i} (seed ${SEED}):\n${text.slice(0, 2000)}`).toEqual([]);
    }
    console.log(
      `zone fuzz: ${INPUTS} inputs, ${rejected} rejected; slowest ${slowest.ms.toFixed(1)} ms (${slowest.bytes} bytes)`,
    );
    // The mutations must reach both outcomes, or the test proves nothing about one of them.
    expect(rejected).toBeGreaterThan(INPUTS * 0.2);
    expect(rejected).toBeLessThan(INPUTS);
  }, 60_000);
});
