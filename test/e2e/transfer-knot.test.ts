// Knot DNS as a secondary of gslbd over loopback, transferring with TSIG: after its first transfer,
// Knot answers every static name of the example zones as gslbd does; and each pools-in-transfer
// mode gives the secondary what it promises (all: every target not drained; healthy: the targets
// in service; omit: nothing at the pool's name), the checks test/helpers/pool-modes.ts has for
// every secondary.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { differentAnswers, digTransfer, staticQuestions, updateReachesSecondary } from '../helpers/axfr.ts';
import type { DigResult } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { requireKnot, startKnot, type Knot } from '../helpers/knot.ts';
import { tsigKeyYaml, type Key } from '../helpers/nsupdate.ts';
import {
  POOL_MODE_ORIGINS,
  poolModeOptions,
  runPoolModeSuite,
  writePoolModeZones,
  type PoolModeZones,
} from '../helpers/pool-modes.ts';
import { makeKey } from '../update/helpers.ts';

requireKnot();

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-xfr-knot-'));
const zones = path.join(work, 'zones');
const key: Key = makeKey('knot-xfr.', 'hmac-sha256', []);
/** Updates gslb.example.com. only; not a transfer key. */
const updateKey: Key = makeKey('knot-update.', 'hmac-sha256', ['gslb.example.com.']);
const origins = ['example.com.', 'gslb.example.com.', ...POOL_MODE_ORIGINS];
const signed = ['-y', `${key.algorithm}:${nameToText(key.name)}:${key.base64}`];

/**
 * gslbd.yaml: every zone transferred to 127.0.0.1 with `key`; with `notifyPort`, gslb.example.com.
 * and healthy.pools.test. notify Knot there.
 */
function config(notifyPort: number | null): string {
  return [
    `zones: ${zones}`,
    'tsig:',
    tsigKeyYaml(key),
    tsigKeyYaml(updateKey),
    'zones-options:',
    ...origins.flatMap((o) => [
      `  ${o}:`,
      `    transfer: { allow: ["127.0.0.1"], keys: [${nameToText(key.name)}] }`,
      ...poolModeOptions(o),
      ...((o === 'gslb.example.com.' || o === 'healthy.pools.test.') && notifyPort !== null
        ? [`    notify: ["127.0.0.1:${notifyPort}"]`]
        : []),
    ]),
    '',
  ].join('\n');
}

let gslbd: Gslbd;
let knot: Knot;
let pools: PoolModeZones;

beforeAll(async () => {
  cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
  rmSync(path.join(zones, 'README.md'), { force: true });
  pools = await writePoolModeZones(zones);
  writeFileSync(path.join(work, 'gslbd.yaml'), config(null));
  gslbd = await startGslbd(['--config', path.join(work, 'gslbd.yaml')]);
  // The healthy mode transfers the targets in service: wait until gslbd itself answers only the up one.
  await pools.settled(gslbd.port);
  knot = await startKnot(
    path.join(work, 'knot'),
    origins.map((origin) => ({ origin, file: '' })),
    15_000,
    {
      secondaryOf: {
        primaryPort: gslbd.port,
        key: { name: nameToText(key.name), algorithm: key.algorithm, secret: key.base64 },
      },
    },
  );
}, 60_000);

afterAll(async () => {
  await knot?.stop();
  await gslbd?.stop();
  await pools?.close();
  rmSync(work, { recursive: true, force: true });
});

/** What is compared: rcode, AA, and each section's records sorted. */
const normal = (r: DigResult) => ({
  status: r.status,
  aa: r.flags.includes('aa'),
  answer: r.answer.map((a) => a.text.replace(/\s+/g, ' ')).sort(),
  authority: r.authority.map((a) => a.text.replace(/\s+/g, ' ')).sort(),
});

describe('Knot as a secondary of gslbd (TSIG-signed AXFR)', () => {
  it('transferred with the key: its log shows the transfer of every zone', () => {
    expect(knot.log()).toMatch(/gslb\.example\.com\..*AXFR, incoming/);
  });

  it.each(['example.com.', 'gslb.example.com.'])(
    'answers every static name of %s as gslbd does',
    async (zone) => {
      const xfr = await digTransfer(gslbd.port, zone, signed);
      expect(xfr.ok).toBe(true);
      const questions = staticQuestions(xfr.records, zone, ['nowhere', 'a.wild', 'x.y.cdn', 'deep.sub', 'b.c']);
      expect(questions.size).toBeGreaterThan(10);
      const differences = await differentAnswers(questions, gslbd.port, { name: 'knot', port: knot.port }, normal);
      expect(differences).toEqual([]);
    },
    60_000,
  );
});

describe('NOTIFY (RFC 1996)', () => {
  it('brings an nsupdate to gslbd to Knot within 2 s: NOTIFY signed with the transfer key, then an IXFR', async () => {
    writeFileSync(path.join(work, 'gslbd.yaml'), config(knot.port));
    gslbd.proc.kill('SIGHUP');
    await gslbd.waitForLog((l) => l.msg === 'config reloaded: zones-options');
    // The first NOTIFY, for the serial Knot has already: answered, nothing to fetch.
    await gslbd.waitForLog((l) => l.msg === 'NOTIFY answered' && l.zone === 'gslb.example.com.');
    const mark = knot.log().length;
    const seen = await updateReachesSecondary(
      gslbd.port,
      knot.port,
      'gslb.example.com.',
      'notified.gslb.example.com.',
      'hello',
      updateKey,
    );
    expect(seen).toEqual(['"hello"']);
    expect(knot.log()).toMatch(/gslb\.example\.com\.\] notify, incoming, remote 127\.0\.0\.1@\d+, serial \d+/);
    // The refresh is incremental: Knot logs an IXFR that finished, and no AXFR (an AXFR-style
    // answer to its IXFR would show as "AXFR, incoming").
    const refresh = knot
      .log()
      .slice(mark)
      .split('\n')
      .filter((l) => l.includes('[gslb.example.com.]'))
      .join('\n');
    expect(refresh).toMatch(/IXFR, incoming, remote 127\.0\.0\.1@\d+, finished/);
    expect(refresh, refresh).not.toMatch(/AXFR|fallback|failed/);
  }, 30_000);
});

// After the NOTIFY test: gslbd sends NOTIFY for healthy.pools.test. to Knot from then on.
runPoolModeSuite('Knot', () => ({
  gslbd,
  zones: pools,
  port: knot.port,
  log: () => knot.log(),
  ixfrFailed: /failed to apply changes/,
  signed,
}));
