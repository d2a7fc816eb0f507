// The checks every catalog consumer (RFC 9432) of gslbd must pass, run over real Knot and BIND:
// started with nothing but gslbd's catalog configured, it serves the zones the catalog lists; a
// zone file and its zones-options added to gslbd and a SIGHUP make it serve the new zone; the zone
// removed and a SIGHUP make it drop the zone. The consumer's own configuration never changes.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from './dig.ts';
import { startGslbd, type Gslbd } from './gslbd.ts';
import { until } from './listeners.ts';

export const CATALOG = 'catalog.gslb.invalid.';

/** A consumer of gslbd's catalog, started once gslbd listens on `primaryPort`. */
export interface Consumer {
  readonly port: number;
  log(): string;
  stop(): Promise<void>;
}

export interface ConsumerSuite {
  /** Knot, BIND… */
  readonly name: string;
  readonly start: (dir: string, primaryPort: number) => Promise<Consumer>;
  /** More `gslbd serve` flags (`--workers 2`). */
  readonly gslbdArgs?: readonly string[];
  /** The consumer's log lines of a finished IXFR and AXFR of the catalog, where its log tells them apart. */
  readonly catalogTransfers?: { readonly ixfr: RegExp; readonly axfr: RegExp };
}

/** `zones/<origin>zone`: SOA, NS, and www A `address`. */
function writeZone(zones: string, origin: string, address: string): void {
  writeFileSync(
    path.join(zones, `${origin}zone`),
    [
      `$ORIGIN ${origin}`,
      '$TTL 300',
      '@ IN SOA ns1 hostmaster ( 7 2h 15m 2w 30 )',
      '  IN NS ns1',
      'ns1 IN A 192.0.2.53',
      `www IN A ${address}`,
      '',
    ].join('\n'),
  );
}

/** gslbd.yaml: the catalog and `members`, each transferable from loopback; NOTIFY of the catalog to `notifyPort`. */
function gslbdYaml(zones: string, members: readonly string[], notifyPort: number | null): string {
  return [
    `zones: ${zones}`,
    'catalog:',
    `  zone: ${CATALOG}`,
    'zones-options:',
    `  ${CATALOG}:`,
    '    transfer: { allow: ["127.0.0.1"] }',
    ...(notifyPort === null ? [] : [`    notify: ["127.0.0.1:${notifyPort}"]`]),
    ...members.flatMap((m) => [`  ${m}:`, '    transfer: { allow: ["127.0.0.1"] }']),
    '',
  ].join('\n');
}

/** What the consumer answers for `www.<origin>` A: its status, and the address when authoritative. */
async function www(port: number, origin: string): Promise<string> {
  const r = await dig(port, [`www.${origin}`, 'A', '+timeout=1']).catch(() => null);
  if (!r) return 'no answer';
  return r.status === 'NOERROR' && r.flags.includes('aa') ? r.answer.map((a) => a.data).join() : r.status;
}

export function describeCatalogConsumer(suite: ConsumerSuite): void {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-catalog-'));
  const zones = path.join(work, 'zones');
  const yaml = path.join(work, 'gslbd.yaml');
  let gslbd: Gslbd;
  let consumer: Consumer;
  /** How many reloads were asked for (each logs one "config reloaded: zones-options"). */
  let reloads = 0;

  async function reload(members: readonly string[]): Promise<void> {
    writeFileSync(yaml, gslbdYaml(zones, members, consumer.port));
    const n = ++reloads;
    let seen = 0;
    const done = gslbd.waitForLog((l) => l.msg === 'config reloaded: zones-options' && ++seen === n, 20_000);
    gslbd.proc.kill('SIGHUP');
    await done;
  }

  beforeAll(async () => {
    rmSync(zones, { recursive: true, force: true });
    mkdirSync(zones);
    writeZone(zones, 'one.test.', '192.0.2.1');
    writeFileSync(yaml, gslbdYaml(zones, ['one.test.'], null));
    gslbd = await startGslbd(['--config', yaml, ...(suite.gslbdArgs ?? [])]);
    consumer = await suite.start(path.join(work, 'consumer'), gslbd.port);
    // Now that its port is known, the catalog's NOTIFY goes to it.
    await reload(['one.test.']);
  }, 60_000);

  afterAll(async () => {
    await consumer?.stop();
    await gslbd?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  describe(`${suite.name} as a catalog consumer of gslbd (RFC 9432)`, () => {
    it('serves the zone the catalog lists, transferred from gslbd', async () => {
      await until(
        async () => (await www(consumer.port, 'one.test.')) === '192.0.2.1',
        15_000,
        'one.test. at the consumer',
      );
    });

    it('serves a zone added to gslbd by a reload (zone file, zones-options, SIGHUP), its own configuration untouched', async () => {
      expect(await www(consumer.port, 'two.test.')).toBe('REFUSED');
      writeZone(zones, 'two.test.', '192.0.2.2');
      await reload(['one.test.', 'two.test.']);
      await until(
        async () => (await www(consumer.port, 'two.test.')) === '192.0.2.2',
        15_000,
        `two.test. at the consumer:\n${consumer.log()}`,
        200,
      );
      expect(await www(consumer.port, 'one.test.')).toBe('192.0.2.1');
    }, 30_000);

    it('drops a zone removed from gslbd by a reload, and keeps the others', async () => {
      expect(await www(consumer.port, 'two.test.')).toBe('192.0.2.2');
      rmSync(path.join(zones, 'two.test.zone'));
      await reload(['one.test.']);
      await until(
        async () => (await www(consumer.port, 'two.test.')) === 'REFUSED',
        15_000,
        `two.test. dropped by the consumer:\n${consumer.log()}`,
        200,
      );
      expect(await www(consumer.port, 'one.test.')).toBe('192.0.2.1');
    }, 30_000);

    const transfers = suite.catalogTransfers;
    if (transfers) {
      it('took each change of the catalog by IXFR, after the one AXFR at its start (the IXFR history)', () => {
        const log = consumer.log();
        expect(log.match(new RegExp(transfers.axfr, 'g'))).toHaveLength(1);
        expect(log.match(new RegExp(transfers.ixfr, 'g'))?.length).toBeGreaterThanOrEqual(2);
      });
    }
  });
}
