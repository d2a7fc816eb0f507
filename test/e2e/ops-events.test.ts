// "Recent state changes" (/v1/status events, the status page's list) holds every kind of change,
// each with who made it: an override (a drain), a monitor's health report, a load report (the
// latest per target only), a weight, a target added and removed, an RRset put by the API (not the
// SOA serial bumps that come with it); a probe verdict as before.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { READ, startOps, ZONE, type OpsServer } from '../helpers/ops.ts';

let s: OpsServer;
beforeAll(async () => {
  s = await startOps();
}, 30_000);
afterAll(async () => {
  await s?.stop();
});

interface Event {
  kind: string;
  source: string;
  targets: string[];
  change: string;
  reason: string;
  to?: string;
}

const events = async (): Promise<Event[]> => (await s.api('GET', '/v1/status', undefined, READ)).body.events;
const target = (pool: string, address: string) => `/v1/zones/${ZONE}/pools/${pool}/targets/${address}`;
const ok = (r: { status: number; text: string }) => expect(r.status, r.text).toBeLessThan(300);

describe('recent changes', { timeout: 30_000 }, () => {
  it('lists overrides, reports, loads, weights, members and RRsets, each with its source and result', async () => {
    ok(await s.api('PUT', `${target('rr', '198.51.100.1')}/override`, { state: 'drain', reason: 'kernel upgrade' }));
    ok(await s.api('PUT', `${target('rr', '198.51.100.2')}/health`, { state: 'down', reason: 'monitor says 500' }));
    ok(await s.api('PUT', `${target('least', '198.51.100.31')}/load`, { load: 1, capacity: 10, valid_for: 30 }));
    ok(await s.api('PUT', `${target('least', '198.51.100.31')}/load`, { load: 2, capacity: 10, valid_for: 30 }));
    ok(await s.api('PUT', `${target('weighted', '198.51.100.21')}/weight`, { weight: 0 }));
    ok(await s.api('POST', `/v1/zones/${ZONE}/pools/rr/targets`, { address: '198.51.100.9' }));
    ok(await s.api('DELETE', target('rr', '198.51.100.9')));
    ok(await s.api('PUT', `/v1/zones/${ZONE}/rrsets/extra/A`, { ttl: 60, records: ['192.0.2.9'] }));
    ok(await s.api('DELETE', `${target('rr', '198.51.100.1')}/override`));

    const list = (await events()).map((e) => [e.kind, e.source, e.targets.join(), e.change, e.reason, e.to ?? null]);
    const rr = `rr.${ZONE}`;
    expect(list).toEqual([
      ['override', 'api:operator', `${rr}/198.51.100.1`, 'override drain', 'kernel upgrade', 'drain'],
      ['report', 'api:operator', `${rr}/198.51.100.2`, 'health report down', 'monitor says 500', 'down'],
      // Two load reports, one line: the latest.
      ['load', 'api:operator', `least.${ZONE}/198.51.100.31`, 'load 2 of 10', '', 'up'],
      ['weight', 'api:operator', `weighted.${ZONE}/198.51.100.21`, 'weight 0', '', 'drain'],
      ['target', 'api:operator', `${rr}/198.51.100.9`, 'target added', '', 'up'],
      ['target', 'api:operator', `${rr}/198.51.100.9`, 'target removed', '', null],
      ['rrset', 'api:operator', '', `extra.${ZONE} A set (1 records)`, ZONE, null],
      ['override', 'api:operator', `${rr}/198.51.100.1`, 'override cleared', '', 'up'],
    ]);
  });

  it('lists a probe verdict as from → to', async () => {
    await s.a.stop();
    try {
      const deadline = Date.now() + 10_000;
      let probe: Event | undefined;
      while (!probe && Date.now() < deadline) {
        probe = (await events()).find((e) => e.kind === 'probe' && e.targets.includes(`checked.${ZONE}/127.0.0.2`));
        if (!probe) await new Promise((r) => setTimeout(r, 100));
      }
      expect(probe).toMatchObject({ source: 'probe', change: 'up → down', to: 'down' });
    } finally {
      await s.a.start();
    }
  });
});
