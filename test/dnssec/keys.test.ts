// The key file's rollover schedule (7-state/dnssec-keys.ts): a pending key is put on the clock when
// gslbd loads it, the old key given its retirement; keys past deletion dropped; a second rollover
// refused while one is under way.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { keyFromText } from '../../src/0-base/name.ts';
import { Algorithm } from '../../src/1-codec/dnssec.ts';
import { activeKey, addRolloverKey, keyFile, loadKeys, readKeys } from '../../src/7-state/dnssec-keys.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ZONE = keyFromText('roll.example.');
const T0 = Date.UTC(2026, 11, 7, 12, 0, 0);

describe('DNSSEC key files', () => {
  it('puts a rollover on the clock when loaded, then drops the old key once deleted', async () => {
    const [first] = await loadKeys(dir, [ZONE], Algorithm.ED25519, T0);
    expect(statSync(keyFile(dir, ZONE)).mode & 0o777).toBe(0o600);
    const next = await addRolloverKey(dir, ZONE, 3000, 5000, T0 + 1000);
    expect(next.pending).toEqual({ prepublishMs: 3000, retireMs: 5000 });
    await expect(addRolloverKey(dir, ZONE, 3000, 5000, T0 + 1500)).rejects.toThrow(/under way/);
    // Loaded at T0 + 2000: published now, signing 3 s later, the old key removed 5 s after that.
    const keys = await loadKeys(dir, [ZONE], Algorithm.ED25519, T0 + 2000);
    expect(keys.map((k) => [k.tag, k.publish, k.active, k.inactive, k.delete, k.pending])).toEqual([
      [first!.tag, undefined, undefined, T0 + 5000, T0 + 10_000, undefined],
      [next.tag, T0 + 2000, T0 + 5000, undefined, undefined, undefined],
    ]);
    expect((await readKeys(dir, ZONE)).map((k) => k.active)).toEqual([undefined, T0 + 5000]);
    expect(activeKey(keys, T0 + 4999)!.tag).toBe(first!.tag);
    expect(activeKey(keys, T0 + 5000)!.tag).toBe(next.tag);
    const after = await loadKeys(dir, [ZONE], Algorithm.ED25519, T0 + 10_000);
    expect(after.map((k) => k.tag)).toEqual([next.tag]);
    expect((await readKeys(dir, ZONE)).map((k) => k.tag)).toEqual([next.tag]);
  });
});
