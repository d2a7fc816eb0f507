// The catalog's serial (9-main/catalog.ts) never goes back, with an injected clock and a real data
// directory: the time of a change, one more than the last when the time is not newer (a clock set
// back, two changes in a second), kept across restarts with the members it was given to, so a
// restart with the same members keeps the serial and one with other members goes forward.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { serialNewer } from '../../src/0-base/serial.ts';
import { CATALOG_FILE, CatalogSerials, nextCatalogSerial } from '../../src/9-main/catalog.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-catalog-serial-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const ZONE = 'catalog.gslb.invalid.';
const T0 = 1_796_000_000; // seconds

function make(dir: string | null, clock: { s: number }) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const serials = new CatalogSerials({ zone: ZONE, dataDir: dir, now: () => clock.s * 1000, log: pino(sink) });
  return { serials, lines };
}

describe('nextCatalogSerial', () => {
  it('is the time when that is newer than the last serial, else the last plus one (RFC 1982)', () => {
    expect(nextCatalogSerial(null, T0)).toBe(T0);
    expect(nextCatalogSerial(T0, T0 + 5)).toBe(T0 + 5);
    expect(nextCatalogSerial(T0, T0)).toBe(T0 + 1);
    expect(nextCatalogSerial(T0, T0 - 3600)).toBe(T0 + 1);
    // Past 2^32 - 1 it wraps, and is still newer.
    expect(nextCatalogSerial(0xffffffff, 5)).toBe(5);
    expect(nextCatalogSerial(0xffffffff, 0xfffffff0)).toBe(0);
    expect(serialNewer(0, 0xffffffff)).toBe(true);
  });
});

describe('CatalogSerials', () => {
  it('gives a new serial only when the members change, and never an older one', async () => {
    const clock = { s: T0 };
    const { serials } = make(null, clock);
    await serials.open();
    expect(await serials.next(['b.test.', 'a.test.'])).toEqual({
      zone: ZONE,
      serial: T0,
      members: ['a.test.', 'b.test.'],
    });
    clock.s += 10;
    expect(await serials.next(['a.test.', 'b.test.'])).toBeNull();
    expect((await serials.next(['a.test.']))?.serial).toBe(T0 + 10);
    // Same second, then a clock set back an hour: one more each time.
    expect((await serials.next(['a.test.', 'c.test.']))?.serial).toBe(T0 + 11);
    clock.s -= 3600;
    expect((await serials.next([]))?.serial).toBe(T0 + 12);
  });

  it('keeps the serial and members under the data directory: a restart with the same members keeps the serial', async () => {
    const dir = mkdtempSync(path.join(work, 'same-'));
    const clock = { s: T0 };
    const first = make(dir, clock).serials;
    await first.open();
    await first.next(['a.test.']);
    expect(JSON.parse(readFileSync(path.join(dir, CATALOG_FILE), 'utf8'))).toEqual({
      zone: ZONE,
      serial: T0,
      members: ['a.test.'],
    });
    clock.s += 600;
    const again = make(dir, clock).serials;
    await again.open();
    expect(await again.next(['a.test.'])).toEqual({ zone: ZONE, serial: T0, members: ['a.test.'] });
    expect(await again.next(['a.test.'])).toBeNull();
  });

  it('after a restart with other members and a clock set back, goes forward from the kept serial', async () => {
    const dir = mkdtempSync(path.join(work, 'back-'));
    const clock = { s: T0 };
    const first = make(dir, clock).serials;
    await first.open();
    await first.next(['a.test.']);
    clock.s = T0 - 86_400;
    const again = make(dir, clock).serials;
    await again.open();
    expect((await again.next(['a.test.', 'b.test.']))?.serial).toBe(T0 + 1);
  });

  it("starts from the time, with a warning, from an unreadable file; ignores another catalog's", async () => {
    const dir = mkdtempSync(path.join(work, 'bad-'));
    writeFileSync(path.join(dir, CATALOG_FILE), '{"zone":');
    const clock = { s: T0 };
    const bad = make(dir, clock);
    await bad.serials.open();
    expect(bad.lines.map((l) => l.msg)).toEqual(['catalog: serial not read: it starts from the time']);
    expect((await bad.serials.next(['a.test.']))?.serial).toBe(T0);

    writeFileSync(
      path.join(dir, CATALOG_FILE),
      JSON.stringify({ zone: 'other.invalid.', serial: T0 + 99, members: [] }),
    );
    const other = make(dir, clock);
    await other.serials.open();
    expect(other.lines).toEqual([]);
    expect((await other.serials.next([]))?.serial).toBe(T0);
  });
});
