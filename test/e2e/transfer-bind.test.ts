// BIND 9 `named` as a secondary of gslbd over loopback, transferring with TSIG: after its first
// transfer, named answers every static name of the example zones as gslbd does; an nsupdate to
// gslbd reaches named within 2 s through NOTIFY and an IXFR (named's log counts the records of
// that transfer: the difference, not the zone); and each pools-in-transfer mode gives named what
// it promises, the checks test/helpers/pool-modes.ts has for every secondary (Knot's too).

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { differentAnswers, digTransfer, staticQuestions, updateReachesSecondary } from '../helpers/axfr.ts';
import type { DigResult } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { requireNamed, startNamed, type Named } from '../helpers/named.ts';
import { tsigKeyYaml, type Key } from '../helpers/nsupdate.ts';
import {
  POOL_MODE_ORIGINS,
  poolModeOptions,
  runPoolModeSuite,
  writePoolModeZones,
  type PoolModeZones,
} from '../helpers/pool-modes.ts';
import { makeKey } from '../update/helpers.ts';

requireNamed();

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-xfr-bind-'));
const zones = path.join(work, 'zones');
const key: Key = makeKey('bind-xfr.', 'hmac-sha256', []);
const updateKey: Key = makeKey('bind-update.', 'hmac-sha256', ['gslb.example.com.']);
const examples = ['example.com.', 'gslb.example.com.'];
const origins = [...examples, ...POOL_MODE_ORIGINS];
const y = ['-y', `${key.algorithm}:${nameToText(key.name)}:${key.base64}`];

/** gslbd.yaml: every zone transferred to 127.0.0.1 signed with `key` only; with `notifyPort`, NOTIFY to named there. */
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
      ...(notifyPort !== null ? [`    notify: ["127.0.0.1:${notifyPort}"]`] : []),
    ]),
    '',
  ].join('\n');
}

let gslbd: Gslbd;
let named: Named;
let pools: PoolModeZones;

beforeAll(async () => {
  cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
  rmSync(path.join(zones, 'README.md'), { force: true });
  pools = await writePoolModeZones(zones);
  writeFileSync(path.join(work, 'gslbd.yaml'), config(null));
  gslbd = await startGslbd(['--config', path.join(work, 'gslbd.yaml')]);
  // The healthy mode transfers the targets in service: wait until gslbd itself answers only the up one.
  await pools.settled(gslbd.port);
  named = await startNamed(path.join(work), origins, gslbd.port, {
    name: nameToText(key.name),
    algorithm: key.algorithm,
    secret: key.base64,
  });
}, 60_000);

afterAll(async () => {
  await named?.stop();
  await gslbd?.stop();
  await pools?.close();
  rmSync(work, { recursive: true, force: true });
});

/**
 * What is compared: rcode, AA, the answer section sorted, and the authority section of answers
 * without one (the SOA of a negative answer, a referral). The authority of a positive answer is
 * each server's choice: with both zones, named leaves out the child's NS after a CNAME into it,
 * where gslbd (as Knot) adds them.
 */
const normal = (r: DigResult) => ({
  status: r.status,
  aa: r.flags.includes('aa'),
  answer: r.answer.map((a) => a.text.replace(/\s+/g, ' ')).sort(),
  authority: r.answer.length ? [] : r.authority.map((a) => a.text.replace(/\s+/g, ' ')).sort(),
});

describe('named as a secondary of gslbd (TSIG-signed transfers)', () => {
  it.each(examples)(
    'answers every static name of %s as gslbd does',
    async (zone) => {
      const xfr = await digTransfer(gslbd.port, zone, y);
      expect(xfr.ok).toBe(true);
      const questions = staticQuestions(xfr.records, zone, ['nowhere', 'a.wild', 'x.y.cdn', 'deep.sub']);
      expect(questions.size).toBeGreaterThan(5);
      const differences = await differentAnswers(questions, gslbd.port, { name: 'named', port: named.port }, normal);
      expect(differences).toEqual([]);
    },
    60_000,
  );

  it('gets an nsupdate to gslbd within 2 s: NOTIFY signed with the transfer key, then an IXFR', async () => {
    writeFileSync(path.join(work, 'gslbd.yaml'), config(named.port));
    gslbd.proc.kill('SIGHUP');
    await gslbd.waitForLog((l) => l.msg === 'config reloaded: zones-options');
    await gslbd.waitForLog((l) => l.msg === 'NOTIFY answered' && l.zone === 'gslb.example.com.');
    const mark = named.log().length;
    const seen = await updateReachesSecondary(
      gslbd.port,
      named.port,
      'gslb.example.com.',
      'bind.gslb.example.com.',
      'hi',
      updateKey,
    );
    expect(seen).toEqual(['"hi"']);
    // named logs no transfer type at this level: an IXFR of one added RR is 5 records (SOA new, SOA
    // old, SOA new, the TXT, SOA new), where the whole zone is tens.
    const refresh = named.log().slice(mark);
    expect(refresh, refresh).toMatch(
      /transfer of 'gslb\.example\.com\/IN' from 127\.0\.0\.1#\d+: Transfer status: success/,
    );
    expect(refresh, refresh).toMatch(
      /transfer of 'gslb\.example\.com\/IN' .*Transfer completed: 1 messages, 5 records/,
    );
  }, 30_000);
});

// After the NOTIFY test: gslbd sends NOTIFY for every zone to named from then on.
runPoolModeSuite('named', () => ({
  gslbd,
  zones: pools,
  port: named.port,
  log: () => named.log(),
  // xfrin's lines when an IXFR does not apply or goes wrong (it then falls back to AXFR).
  ixfrFailed: /failed while receiving responses|IXFR out of sync|retrying with AXFR/,
  signed: y,
}));
