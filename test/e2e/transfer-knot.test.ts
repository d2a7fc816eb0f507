// Knot DNS as a secondary of gslbd over loopback, transferring with TSIG: after its first transfer,
// Knot answers every static name of the example zones as gslbd does; and each pools-in-transfer
// mode gives the secondary what it promises (all: every target not drained; healthy: the targets
// in service; omit: nothing at the pool's name).

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameToText } from '../../src/0-base/name.ts';
import { digTransfer, updateReachesSecondary } from '../helpers/axfr.ts';
import { dig, type DigResult } from '../helpers/dig.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { requireKnot, startKnot, type Knot } from '../helpers/knot.ts';
import type { Key } from '../helpers/nsupdate.ts';
import { makeKey } from '../update/helpers.ts';
import { tsigKeyYaml } from '../helpers/nsupdate.ts';

requireKnot();

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-xfr-knot-'));
const zones = path.join(work, 'zones');
const key: Key = makeKey('knot-xfr.', 'hmac-sha256', []);
const MODES = ['all', 'healthy', 'omit'] as const;
/** Updates gslb.example.com. only; not a transfer key. */
const updateKey: Key = makeKey('knot-update.', 'hmac-sha256', ['gslb.example.com.']);
const origins = ['example.com.', 'gslb.example.com.', ...MODES.map((m) => `${m}.pools.test.`)];

/** gslbd.yaml: every zone transferred to 127.0.0.1 with `key`; with `notifyPort`, gslb.example.com. notifies Knot there. */
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
      ...(o.endsWith('pools.test.') ? [`    pools-in-transfer: ${o.split('.')[0]}`] : []),
      ...((o === 'gslb.example.com.' || o === 'healthy.pools.test.') && notifyPort !== null
        ? [`    notify: ["127.0.0.1:${notifyPort}"]`]
        : []),
      ...(o === 'healthy.pools.test.' ? ['    transfer-min-interval: 1s'] : []),
    ]),
    '',
  ].join('\n');
}

let gslbd: Gslbd;
let knot: Knot;
/** A listener the up target's check connects to; the down target's port has none. */
let up: net.Server;
let downPort: number;

async function listen(): Promise<net.Server> {
  const s = net.createServer((c) => c.destroy());
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return s;
}

beforeAll(async () => {
  cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
  rmSync(path.join(zones, 'README.md'), { force: true });
  up = await listen();
  const closed = await listen();
  downPort = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const upPort = (up.address() as net.AddressInfo).port;
  const check = (port: number) => `check: { type: tcp, port: ${port}, interval: 1s, timeout: 500ms, rise: 1, fall: 1 }`;
  for (const mode of MODES) {
    const origin = `${mode}.pools.test`;
    writeFileSync(
      path.join(zones, `${origin}.zone`),
      ['$TTL 300', '@ IN SOA ns1 hostmaster ( 1 2h 15m 2w 30 )', '  IN NS ns1', 'ns1 IN A 192.0.2.1', ''].join('\n'),
    );
    writeFileSync(
      path.join(zones, `${origin}.pools.yaml`),
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
  writeFileSync(path.join(work, 'gslbd.yaml'), config(null));
  gslbd = await startGslbd(['--config', path.join(work, 'gslbd.yaml')]);
  // The healthy mode transfers the targets in service: wait until gslbd itself answers only the up one.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const r = await dig(gslbd.port, ['web.healthy.pools.test.', 'A']);
    if (r.answer.map((a) => a.data).join() === '127.0.0.1') break;
    await new Promise((res) => setTimeout(res, 200));
  }
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
  await new Promise<void>((r) => (up ? up.close(() => r()) : r()));
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
      const xfr = await digTransfer(gslbd.port, zone, ['-y', `${key.algorithm}:${nameToText(key.name)}:${key.base64}`]);
      expect(xfr.ok).toBe(true);
      const pools = new Set(['www', 'rr', 'near', 'regional', 'primary', 'sticky', 'api'].map((p) => `${p}.${zone}`));
      const questions = new Map<string, string>();
      for (const line of xfr.records) {
        const [owner, , , type] = line.split(' ');
        if (zone === 'gslb.example.com.' && pools.has(owner!)) continue;
        questions.set(`${owner} ${type}`, '');
        questions.set(`${owner} TXT`, '');
      }
      for (const extra of ['nowhere', 'a.wild', 'x.y.cdn', 'deep.sub', 'b.c']) questions.set(`${extra}.${zone} A`, '');
      expect(questions.size).toBeGreaterThan(10);
      const differences: string[] = [];
      for (const q of questions.keys()) {
        const args = q.split(' ');
        const [a, b] = await Promise.all([dig(gslbd.port, args), dig(knot.port, args)]);
        const [na, nb] = [normal(a), normal(b)];
        if (JSON.stringify(na) !== JSON.stringify(nb))
          differences.push(`${q}\n  gslbd: ${JSON.stringify(na)}\n  knot:  ${JSON.stringify(nb)}`);
      }
      expect(differences).toEqual([]);
    },
    60_000,
  );
});

describe('pools-in-transfer', () => {
  const answer = async (mode: string) =>
    (await dig(knot.port, [`web.${mode}.pools.test.`, 'A'])).answer.map((a) => `${a.ttl} ${a.data}`).sort();

  it('all: every configured target not drained, with the pool TTL', async () => {
    expect(await answer('all')).toEqual(['20 127.0.0.1', '20 127.0.0.2']);
  });

  it('healthy: the targets in service when the secondary transferred', async () => {
    expect(await answer('healthy')).toEqual(['20 127.0.0.1']);
  });

  it('omit: no pool name at all (the secondary answers NXDOMAIN for it)', async () => {
    const r = await dig(knot.port, ['web.omit.pools.test.', 'A']);
    expect(r.status).toBe('NXDOMAIN');
    expect(
      (
        await digTransfer(gslbd.port, 'omit.pools.test.', [
          '-y',
          `${key.algorithm}:${nameToText(key.name)}:${key.base64}`,
        ])
      ).records.some((l) => l.startsWith('web.')),
    ).toBe(false);
  });
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

describe('the serial follows the pools a transfer sends', () => {
  it('healthy: a target coming up bumps the serial, and NOTIFY brings it to Knot', async () => {
    const soa = async (port: number) =>
      Number((await dig(port, ['healthy.pools.test.', 'SOA'])).answer[0]!.data.split(' ')[2]);
    const before = await soa(gslbd.port);
    expect(await soa(knot.port)).toBe(before);
    // The down target's check port starts answering: its check comes up within a probe or two.
    const revived = net.createServer((c) => c.destroy());
    await new Promise<void>((r) => revived.listen(downPort, '127.0.0.2', r));
    try {
      const deadline = Date.now() + 10_000;
      let answer: string[] = [];
      while (Date.now() < deadline) {
        answer = (await dig(knot.port, ['web.healthy.pools.test.', 'A'])).answer.map((a) => a.data).sort();
        if (answer.length === 2) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer).toEqual(['127.0.0.1', '127.0.0.2']);
      expect(await soa(knot.port)).toBeGreaterThan(before);
      // Knot took its first AXFR after health had changed the pools, under the start's serial: no
      // IXFR difference was sent that did not apply to what it holds (it got the zone in full).
      expect(knot.log()).not.toMatch(/failed to apply changes/);
      expect(
        gslbd.logs.some(
          (l) => l.msg === 'serial bumped: the pools a transfer sends changed' && l.zone === 'healthy.pools.test.',
        ),
      ).toBe(true);
    } finally {
      await new Promise<void>((r) => revived.close(() => r()));
    }
  }, 30_000);
});
