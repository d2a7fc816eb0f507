// IXFR history end to end (RFC 1995): a real gslbd (one process, then --workers 2), changes made by
// the real `nsupdate` and by a changed zone file and SIGHUP, and the real `dig ixfr=N` reading the
// answers (and verifying their TSIG with -y): the incremental form for a serial in the history, the
// whole zone for one older than the history, the SOA alone for the current serial.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { digTransfer } from '../helpers/axfr.ts';
import { dig } from '../helpers/dig.ts';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { nsupdate, tsigKeyYaml, type Key } from '../helpers/nsupdate.ts';
import { makeKey } from '../update/helpers.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-ixfr-'));
const xfrKey: Key = makeKey('ixfr-xfr.', 'hmac-sha256', []);
const updKey: Key = makeKey('ixfr-upd.', 'hmac-sha256', ['ixfr.test.', 'short.test.']);
const y = (k: Key) => ['-y', `${k.algorithm}:${nameToText(k.name)}:${k.base64}`];

const zoneFile = (origin: string, serial: number, www: string) =>
  [
    '$TTL 300',
    `@ IN SOA ns1 hostmaster ( ${serial} 2h 15m 2w 30 )`,
    '  IN NS ns1',
    'ns1 IN A 192.0.2.1',
    `www IN A ${www}`,
    'mail IN A 192.0.2.25',
    '',
  ].join('\n');

/** A directory with the zones and gslbd.yaml: ixfr.test. (signed transfers), short.test. (history of 2), file.test. (reloaded). */
function setup(name: string): string {
  const dir = path.join(work, name);
  const zones = path.join(dir, 'zones');
  mkdirSync(zones, { recursive: true });
  for (const origin of ['ixfr.test', 'short.test', 'file.test'])
    writeFileSync(path.join(zones, `${origin}.zone`), zoneFile(origin, 1, '192.0.2.10'));
  writeFileSync(
    path.join(dir, 'gslbd.yaml'),
    [
      `zones: ${zones}`,
      'tsig:',
      tsigKeyYaml(xfrKey),
      tsigKeyYaml(updKey),
      'zones-options:',
      '  ixfr.test.:',
      `    transfer: { allow: ["127.0.0.1"], keys: [${nameToText(xfrKey.name)}] }`,
      '  short.test.:',
      '    transfer: { allow: ["127.0.0.1"] }',
      '    ixfr-history: 2',
      '  file.test.:',
      '    transfer: { allow: ["127.0.0.1"] }',
      '',
    ].join('\n'),
  );
  return dir;
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/** The records of a transfer with each run between two SOAs sorted (the order of RRs within a step is free). */
const steps = (records: readonly string[]): string[] => {
  const out: string[] = [];
  let run: string[] = [];
  for (const r of records) {
    if (/ SOA /.test(r)) {
      out.push(...run.sort(), r);
      run = [];
    } else run.push(r);
  }
  return [...out, ...run.sort()];
};

const soaOf = (zone: string, serial: number) =>
  `${zone} 300 IN SOA ns1.${zone} hostmaster.${zone} ${serial} 7200 900 1209600 30`;

for (const workers of [1, 2]) {
  describe(`--workers ${workers}`, () => {
    let g: Gslbd;
    let dir: string;
    beforeAll(async () => {
      dir = setup(`w${workers}`);
      g = await startGslbd(['--config', path.join(dir, 'gslbd.yaml'), '--workers', String(workers)]);
      // A worker that starts after a change has no history before it (and answers in full, rightly).
      if (workers > 1) await g.waitForLog((l) => l.msg === 'workers ready');
    }, 30_000);
    afterAll(async () => {
      await g?.stop();
    });

    const serialOf = async (zone: string) => Number((await dig(g.port, [zone, 'SOA'])).answer[0]!.data.split(' ')[2]);
    /** An update to `zone`, then (bounded) until every worker serves the serial after `from`. */
    const update = async (zone: string, lines: string[]) => {
      const from = await serialOf(zone);
      const r = await nsupdate(g.port, zone, lines, { key: updKey });
      expect(r.code, r.out).toBe(0);
      // Workers are told after the primary: SO_REUSEPORT may hand a query to either.
      for (let i = 0, seen = 0; i < 100 && seen < 6; i++) {
        if ((await serialOf(zone)) !== from) seen++;
        else seen = 0;
        if (seen < 6) await new Promise((res) => setTimeout(res, 20));
      }
      const to = await serialOf(zone);
      expect(to).not.toBe(from);
      return { from, to };
    };

    it('answers an IXFR from the serial before an UPDATE with the difference, signed on every message', async () => {
      const z = 'ixfr.test.';
      const { from, to } = await update(z, [
        `update delete www.${z} A 192.0.2.10`,
        `update add www.${z} 300 A 192.0.2.11`,
        `update add new.${z} 60 TXT "one"`,
      ]);
      // Each IXFR over a new connection: with two workers either may take it, each with its own history.
      for (let i = 0; i < (workers > 1 ? 6 : 1); i++) {
        const r = await digTransfer(g.port, z, y(xfrKey), `IXFR=${from}`);
        expect(r.ok, r.out).toBe(true);
        expect(r.tsigFailed).toBe(false);
        expect(steps(r.records)).toEqual([
          soaOf(z, to),
          soaOf(z, from),
          `www.${z} 300 IN A 192.0.2.10`,
          soaOf(z, to),
          `new.${z} 60 IN TXT "one"`,
          `www.${z} 300 IN A 192.0.2.11`,
          soaOf(z, to),
        ]);
      }
      // At our serial: the SOA alone. Unsigned: refused (the zone's transfer.keys).
      const current = await digTransfer(g.port, z, y(xfrKey), `IXFR=${to}`);
      expect(current.records).toEqual([soaOf(z, to)]);
      expect((await digTransfer(g.port, z, [], `IXFR=${from}`)).records).toEqual([]);
    }, 30_000);

    it('chains the steps of several changes, and answers a serial it never had with the whole zone', async () => {
      const z = 'ixfr.test.';
      const first = await update(z, [`update add a.${z} 60 A 192.0.2.51`]);
      const second = await update(z, [`update delete a.${z} A`, `update add b.${z} 60 A 192.0.2.52`]);
      const r = await digTransfer(g.port, z, y(xfrKey), `IXFR=${first.from}`);
      expect(steps(r.records)).toEqual([
        soaOf(z, second.to),
        soaOf(z, first.from),
        soaOf(z, first.to),
        `a.${z} 60 IN A 192.0.2.51`,
        soaOf(z, first.to),
        `a.${z} 60 IN A 192.0.2.51`,
        soaOf(z, second.to),
        `b.${z} 60 IN A 192.0.2.52`,
        soaOf(z, second.to),
      ]);
      // A serial never served here (they start at 1): AXFR form (RFC 1995 §4), the second record no SOA.
      const unknown = await digTransfer(g.port, z, y(xfrKey), 'IXFR=0');
      expect(unknown.records[0]).toBe(soaOf(z, second.to));
      expect(unknown.records[1]).not.toMatch(/ SOA /);
      expect(unknown.records).toContain(`b.${z} 60 IN A 192.0.2.52`);
      expect(unknown.records.at(-1)).toBe(soaOf(z, second.to));
    }, 30_000);

    it('keeps ixfr-history steps: three changes later, an IXFR from the first serial gets the whole zone', async () => {
      const z = 'short.test.';
      const changes = [];
      for (let i = 1; i <= 3; i++) changes.push(await update(z, [`update add n${i}.${z} 60 A 192.0.2.${i}`]));
      const old = await digTransfer(g.port, z, [], `IXFR=${changes[0]!.from}`);
      expect(old.ok, old.out).toBe(true);
      expect(old.records[1]).not.toMatch(/ SOA /);
      expect(old.records.filter((l) => / A /.test(l)).length).toBe(6);
      // The last two steps are kept.
      const kept = await digTransfer(g.port, z, [], `IXFR=${changes[1]!.from}`);
      expect(steps(kept.records)).toEqual([
        soaOf(z, changes[2]!.to),
        soaOf(z, changes[1]!.from),
        soaOf(z, changes[1]!.to),
        `n2.${z} 60 IN A 192.0.2.2`,
        soaOf(z, changes[2]!.from),
        soaOf(z, changes[2]!.to),
        `n3.${z} 60 IN A 192.0.2.3`,
        soaOf(z, changes[2]!.to),
      ]);
    }, 30_000);

    it('gives the difference of a zone file changed and reloaded (SIGHUP)', async () => {
      const z = 'file.test.';
      writeFileSync(path.join(dir, 'zones', 'file.test.zone'), zoneFile('file.test', 2, '192.0.2.99'));
      g.proc.kill('SIGHUP');
      for (let i = 0, seen = 0; i < 200 && seen < 6; i++) {
        seen = (await serialOf(z)) === 2 ? seen + 1 : 0;
        if (seen < 6) await new Promise((res) => setTimeout(res, 20));
      }
      for (let i = 0; i < (workers > 1 ? 6 : 1); i++) {
        const r = await digTransfer(g.port, z, [], 'IXFR=1');
        expect(steps(r.records)).toEqual([
          soaOf(z, 2),
          soaOf(z, 1),
          `www.${z} 300 IN A 192.0.2.10`,
          soaOf(z, 2),
          `www.${z} 300 IN A 192.0.2.99`,
          soaOf(z, 2),
        ]);
      }
    }, 30_000);
  });
}
