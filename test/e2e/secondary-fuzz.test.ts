// A fake primary that answers gslbd's transfers with garbage: random bytes, streams cut short,
// another ID, bytes flipped in the headers, the same serial again. gslbd never crashes, and the
// good copy it has stays in service, unchanged. Then streams of a newer serial with any byte
// flipped: gslbd takes a valid one or keeps its copy, and answers throughout. Seeded: a failure
// gives the seed and the iteration to replay (FUZZ_SEED=...).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { axfrAnswer, sendNotify, startFakePrimary, type FakePrimary } from '../helpers/fake-primary.ts';
import { fuzzSeed } from '../helpers/fuzz.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { until } from '../helpers/listeners.ts';
import { mulberry32 } from '../policy/helpers.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-secondary-fuzz-'));
const SEED = fuzzSeed();
const ZONE = 'fuzz.test.';
const axfr = (id: number, serial: number) => axfrAnswer(id, ZONE, serial);

let primary: FakePrimary;
let gslbd: Gslbd;

/** Tells gslbd (NOTIFY from the primary's address) to ask again, and waits for the refresh to end. */
async function refresh(): Promise<void> {
  const ends = (l: Record<string, unknown>) =>
    typeof l.msg === 'string' &&
    (l.msg.startsWith('secondary: refresh failed') ||
      l.msg === 'secondary: zone transferred' ||
      l.msg === 'secondary: the copy is current' ||
      l.msg.startsWith('secondary: the primary sent a serial'));
  const before = gslbd.logs.filter(ends).length;
  await sendNotify(gslbd.port, ZONE);
  await until(() => gslbd.logs.filter(ends).length > before, 10_000, 'a refresh after NOTIFY', 5);
}

const www = async () =>
  (await dig(gslbd.port, [`www.${ZONE}`, 'A', '+timeout=2', '+tries=1'])).answer.map((a) => a.data);

beforeAll(async () => {
  primary = await startFakePrimary(ZONE);
  mkdirSync(path.join(work, 'zones'));
  writeFileSync(
    path.join(work, 'gslbd.yaml'),
    [
      `zones: ${path.join(work, 'zones')}`,
      'zones-options:',
      `  ${ZONE}:`,
      `    primary: "127.0.0.1:${primary.port}"`,
      '',
    ].join('\n'),
  );
  gslbd = await startGslbd(['--config', path.join(work, 'gslbd.yaml')]);
  await gslbd.waitForLog((l) => l.msg === 'secondary: zone transferred', 10_000);
  // It goes in service right after the transfer is logged.
  await until(async () => (await www()).length > 0, 5000, 'the transferred zone served', 50);
}, 30_000);

afterAll(async () => {
  await gslbd?.stop();
  await primary?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('a fake primary sending garbage', () => {
  it('never replaces the good copy, and gslbd keeps answering', async () => {
    expect(await www()).toEqual(['192.0.2.1']);
    const random = mulberry32(SEED);
    const kinds = ['random', 'cut', 'id', 'header', 'same-serial'] as const;
    const seen = new Map<string, number>();
    for (let i = 0; i < 150; i++) {
      const kind = kinds[Math.floor(random() * kinds.length)]!;
      seen.set(kind, (seen.get(kind) ?? 0) + 1);
      primary.reply = (q) => {
        const id = q.readUInt16BE(0);
        const good = axfr(id, 2);
        switch (kind) {
          case 'random':
            return Buffer.from(Array.from({ length: Math.floor(random() * 300) }, () => Math.floor(random() * 256)));
          case 'cut':
            return good.subarray(0, 1 + Math.floor(random() * (good.length - 2)));
          case 'id':
            return axfr((id + 1) & 0xffff, 2);
          case 'header': {
            // A field no valid answer can change: the length, the ID, QR and the opcode, the rcode,
            // the answer count. (Flipping AA, or a letter's case in a name, leaves a valid answer.)
            const out = Buffer.from(good);
            const [at, mask] = [
              [0, 0xff],
              [1, 0xff],
              [2, 0xff],
              [3, 0xff],
              [4, 0xf8],
              [5, 0x0f],
              [8, 0xff],
              [9, 0xff],
            ][Math.floor(random() * 8)]!;
            out[at!]! ^= (1 + Math.floor(random() * 255)) & mask! || mask!;
            return out;
          }
          case 'same-serial':
            return axfr(id, 1);
        }
      };
      try {
        await refresh();
        expect(await www()).toEqual(['192.0.2.1']);
      } catch (e) {
        throw new Error(`seed ${SEED}, iteration ${i} (${kind}): ${(e as Error).message}`, { cause: e });
      }
    }
    expect(seen.size).toBe(kinds.length);
    expect(gslbd.proc.exitCode).toBeNull();
  }, 120_000);

  it('takes a newer serial with any byte flipped only when it is a valid zone, and answers throughout', async () => {
    const random = mulberry32(SEED + 1);
    for (let i = 0; i < 60; i++) {
      primary.reply = (q) => {
        const out = axfr(q.readUInt16BE(0), 3 + i);
        out[2 + Math.floor(random() * (out.length - 2))]! ^= 1 + Math.floor(random() * 255);
        return out;
      };
      await refresh();
      const r = await dig(gslbd.port, [`txt.${ZONE}`, 'TXT', '+timeout=2', '+tries=1']);
      expect(r.status, `seed ${SEED}, iteration ${i}`).toMatch(/NOERROR|NXDOMAIN/);
    }
    // The real thing is taken at once after all that.
    primary.reply = (q) => axfr(q.readUInt16BE(0), 200);
    await refresh();
    expect(await www()).toEqual(['192.0.2.200']);
    expect(gslbd.proc.exitCode).toBeNull();
  }, 120_000);
});
