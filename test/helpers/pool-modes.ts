// The pools-in-transfer zones every secondary of gslbd is tested with (Knot, BIND named):
// `all.pools.test.`, `healthy.pools.test.` and `omit.pools.test.`, each with a pool `web` of an up
// target (127.0.0.1, whose TCP check finds a listener), a down one (127.0.0.2, whose check port has
// none) and a drained one (127.0.0.3, weight 0). writePoolModeZones makes the files and the
// listener; runPoolModeSuite registers the checks, made through the secondary's own answers, so
// each secondary's test file passes the same ones.

import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { digTransfer } from './axfr.ts';
import { dig } from './dig.ts';
import type { Gslbd } from './gslbd.ts';
import { until } from './listeners.ts';

export const POOL_MODES = ['all', 'healthy', 'omit'] as const;
export type PoolMode = (typeof POOL_MODES)[number];
export const poolModeOrigin = (mode: PoolMode): string => `${mode}.pools.test.`;
export const POOL_MODE_ORIGINS: readonly string[] = POOL_MODES.map(poolModeOrigin);

/**
 * What a secondary answers for `web.<mode>.pools.test. A` after its first transfer: each record's
 * `ttl address`, sorted; null for NXDOMAIN.
 */
export const EXPECTED: Readonly<Record<PoolMode, readonly string[] | null>> = {
  // Every configured target not drained (the down one too), with the pool's TTL.
  all: ['20 127.0.0.1', '20 127.0.0.2'],
  // The targets in service.
  healthy: ['20 127.0.0.1'],
  // No pool name at all.
  omit: null,
};

/** The zones-options lines (indented under `  <origin>:`) of a pool-mode zone; none for any other origin. */
export function poolModeOptions(origin: string): string[] {
  const mode = POOL_MODES.find((m) => poolModeOrigin(m) === origin);
  if (mode === undefined) return [];
  // healthy: a serial bump at most every second, so a target coming up reaches the secondary soon.
  return [`    pools-in-transfer: ${mode}`, ...(mode === 'healthy' ? ['    transfer-min-interval: 1s'] : [])];
}

export interface PoolModeZones {
  /** Resolves once the gslbd at `gslbdPort` answers the healthy pool with the up target alone (its checks have run). */
  settled(gslbdPort: number): Promise<void>;
  /** Listens on the down target's check port, so that it comes up; the function returned closes that listener. */
  revive(): Promise<() => Promise<void>>;
  /** Closes the up target's listener. */
  close(): Promise<void>;
}

async function listen(port: number, host: string): Promise<net.Server> {
  const s = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => s.once('error', reject).listen(port, host, resolve));
  return s;
}

const closeServer = (s: net.Server) => new Promise<void>((r) => s.close(() => r()));

/** Writes the zone and pools files of the three zones into `zones` and starts the up target's listener. */
export async function writePoolModeZones(zones: string): Promise<PoolModeZones> {
  const up = await listen(0, '127.0.0.1');
  const closed = await listen(0, '127.0.0.1');
  const downPort = (closed.address() as net.AddressInfo).port;
  await closeServer(closed);
  const upPort = (up.address() as net.AddressInfo).port;
  const check = (port: number) => `check: { type: tcp, port: ${port}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }`;
  for (const origin of POOL_MODE_ORIGINS) {
    writeFileSync(
      path.join(zones, `${origin}zone`),
      ['$TTL 300', '@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 30 )', '  IN NS ns1', 'ns1 IN A 192.0.2.1', ''].join('\n'),
    );
    writeFileSync(
      path.join(zones, `${origin}pools.yaml`),
      [
        'web:',
        '  ttl: 20',
        '  answers: 3',
        '  targets:',
        `    - { address: 127.0.0.1, ${check(upPort)} }`,
        `    - { address: 127.0.0.2, ${check(downPort)} }`,
        '    - { address: 127.0.0.3, weight: 0 }',
        '',
      ].join('\n'),
    );
  }
  return {
    async settled(gslbdPort) {
      const healthy = `web.${poolModeOrigin('healthy')}`;
      await until(
        async () => (await dig(gslbdPort, [healthy, 'A'])).answer.map((a) => a.data).join() === '127.0.0.1',
        10_000,
        `gslbd answering ${healthy} with the up target alone`,
        200,
      );
    },
    async revive() {
      const revived = await listen(downPort, '127.0.0.2');
      return () => closeServer(revived);
    },
    close: () => closeServer(up),
  };
}

/** A secondary of gslbd that transferred the three zones, as runPoolModeSuite sees it. */
export interface PoolModeSetup {
  readonly gslbd: Gslbd;
  readonly zones: PoolModeZones;
  /** The secondary's port on 127.0.0.1. */
  readonly port: number;
  /** The secondary's log so far. */
  log(): string;
  /** Its log line for an IXFR difference that did not apply to the zone it held. */
  readonly ixfrFailed: RegExp;
  /** dig's flags signing an AXFR from gslbd with the transfer key (`-y alg:name:secret`). */
  readonly signed: readonly string[];
}

/**
 * Registers the pools-in-transfer checks of the secondary `name`, which `setup()` gives inside the
 * tests. The secondary took its first transfer of each zone once `settled` had resolved, and by
 * the time these run gslbd sends it NOTIFY for healthy.pools.test. (the serial check needs it).
 * The serial check brings the down target up, so it comes last.
 */
export function runPoolModeSuite(name: string, setup: () => PoolModeSetup): void {
  describe('pools-in-transfer', () => {
    const answer = async (mode: PoolMode) =>
      (await dig(setup().port, [`web.${poolModeOrigin(mode)}`, 'A'])).answer.map((a) => `${a.ttl} ${a.data}`).sort();

    it('all: every configured target not drained, with the pool TTL', async () => {
      expect(await answer('all')).toEqual(EXPECTED.all);
    });

    it('healthy: the targets in service when the secondary transferred', async () => {
      expect(await answer('healthy')).toEqual(EXPECTED.healthy);
    });

    it(`omit: no pool name at all (${name} answers NXDOMAIN for it, and gslbd's AXFR has no pool record)`, async () => {
      const s = setup();
      expect((await dig(s.port, [`web.${poolModeOrigin('omit')}`, 'A'])).status).toBe('NXDOMAIN');
      const xfr = await digTransfer(s.gslbd.port, poolModeOrigin('omit'), [...s.signed]);
      expect(xfr.ok).toBe(true);
      expect(xfr.records.filter((l) => l.startsWith('web.'))).toEqual([]);
    });
  });

  describe('the serial follows the pools a transfer sends', () => {
    it(`healthy: a target coming up bumps the serial, and NOTIFY brings it to ${name}`, async () => {
      const s = setup();
      const zone = poolModeOrigin('healthy');
      const soa = async (port: number) => Number((await dig(port, [zone, 'SOA'])).answer[0]!.data.split(' ')[2]);
      const before = await soa(s.gslbd.port);
      expect(await soa(s.port)).toBe(before);
      // The down target's check port starts answering: its check comes up within a probe or two.
      const unrevive = await s.zones.revive();
      try {
        const deadline = Date.now() + 10_000;
        let seen: string[] = [];
        while (Date.now() < deadline) {
          seen = (await dig(s.port, [`web.${zone}`, 'A'])).answer.map((a) => a.data).sort();
          if (seen.length === 2) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        expect(seen).toEqual(['127.0.0.1', '127.0.0.2']);
        expect(await soa(s.port)).toBeGreaterThan(before);
        // Its first AXFR may have come after health changed the pools but before the serial
        // followed (Knot's has): no IXFR difference was sent that did not apply to what it holds.
        expect(s.log()).not.toMatch(s.ixfrFailed);
        expect(
          s.gslbd.logs.some((l) => l.msg === 'serial bumped: the pools a transfer sends changed' && l.zone === zone),
        ).toBe(true);
      } finally {
        await unrevive();
      }
    }, 30_000);
  });
}
