// The status page in a real browser: Debian's chromium, headless, driven by playwright-core. It
// opens `/`, enters a token, shows every pool and target with its share of the answers given
// before the page opened, turns a target "down" within seconds of its listener stopping, drains
// and undrains a target with its button, `dig` confirming each, and lists each change. Its charts
// (uPlot, sampled every second here: GSLBD_HISTORY_STEP) draw the queries, the shares and the
// state timelines with data and move as queries and changes happen; a screenshot is saved. /docs
// (Swagger UI) renders the API's operations with nothing fetched from elsewhere.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { until } from '../helpers/listeners.ts';
import { bothProbed, fqdn, READ, startOps, WRITE, type OpsServer } from '../helpers/ops.ts';

const SCREENSHOT = path.join(os.tmpdir(), 'gslbd-status-page.png');

let s: OpsServer;
let context: BrowserContext;
let page: Page;
const profile = mkdtempSync(path.join(os.tmpdir(), 'gslbd-chromium-'));

beforeAll(async () => {
  s = await startOps({ env: { GSLBD_HISTORY_STEP: '1s' } });
  await bothProbed(s);
  // Answers given before the page opens: its share column shows them at once.
  for (let i = 0; i < 4; i++) await dig(s.gslbd.port, [fqdn('both'), 'A']);
  // A persistent context is how playwright takes a user data directory: a fresh one per run.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = context.pages()[0] ?? (await context.newPage());
}, 60_000);
afterAll(async () => {
  await context?.close();
  await s?.stop();
  rmSync(profile, { recursive: true, force: true });
});

/** The state cell of a target in a pool's table. */
const stateCell = (pool: string, address: string) =>
  `table[data-pool="${fqdn(pool)}"] tr[data-target="${address}"] td.state`;
const button = (pool: string, address: string) =>
  `table[data-pool="${fqdn(pool)}"] tr[data-target="${address}"] button.drain`;

/** Waits (bounded) until the selector's text is `text`; the page re-renders every second. */
async function waitForText(selector: string, text: string, timeout = 10_000): Promise<void> {
  await until(
    async () => (await page.textContent(selector, { timeout: 1000 }).catch(() => null)) === text,
    timeout,
    `"${text}" in ${selector}`,
    100,
  );
}

const shareCell = (pool: string, address: string) =>
  `table[data-pool="${fqdn(pool)}"] tr[data-target="${address}"] td.share`;

interface ChartData {
  labels: string[];
  times: number[];
  series: (number | null)[][];
  canvas: boolean;
}

/** What a uPlot chart on the page holds: `queries`, or `shares` of a pool. */
const chart = (kind: 'queries' | 'shares', pool?: string): Promise<ChartData | null> =>
  page.evaluate(
    ([kind, pool]) => {
      const charts = (globalThis as unknown as { gslbdCharts: Record<string, any> }).gslbdCharts;
      const u = kind === 'queries' ? charts.queries : charts.shares[pool!];
      if (!u) return null;
      return {
        labels: u.series.slice(1).map((x: { label: string }) => x.label),
        times: [...u.data[0]],
        series: u.data.slice(1).map((v: (number | null)[]) => [...v]),
        canvas: u.root.querySelector('canvas') !== null,
      };
    },
    [kind, pool ? fqdn(pool) : undefined] as const,
  );

/** A target's timeline, as `state because` per span. */
const segments = (pool: string, address: string) =>
  page.$$eval(`[data-chart-pool="${fqdn(pool)}"] .tl-row[data-target="${address}"] .seg`, (els) =>
    els.map((e) => {
      const d = (e as unknown as { dataset: Record<string, string> }).dataset;
      return `${d.state} ${d.because}`;
    }),
  );

/** The text of every element `selector` matches. */
const texts = (selector: string) => page.$$eval(selector, (els) => els.map((e) => e.textContent ?? ''));

async function useToken(token: string): Promise<void> {
  await page.fill('#token', token);
  await page.click('#auth button');
}

const answers = async (pool: string) => (await dig(s.gslbd.port, [fqdn(pool), 'A'])).answer.map((rr) => rr.data).sort();

describe('/docs', { timeout: 60_000 }, () => {
  it("renders Swagger UI over the API's document (/docs/json, as /openapi.json), every request to gslbd itself", async () => {
    const docs = await context.newPage();
    const hosts = new Set<string>();
    docs.on('request', (r) => hosts.add(new URL(r.url()).host));
    try {
      await docs.goto(`${s.base}/docs`);
      await until(async () => (await docs.$$('.opblock')).length >= 24, 20_000, 'the operations listed', 200);
      expect(await docs.textContent('.info .title')).toContain('gslbd HTTP API');
      expect([...hosts].filter((h) => h !== new URL(s.base).host)).toEqual([]);
    } finally {
      await docs.close();
    }
  });
});

describe('status page', { timeout: 60_000 }, () => {
  it('asks for a token, then shows every zone, pool and target', async () => {
    const res = await page.goto(`${s.base}/`);
    expect(res?.status()).toBe(200);
    expect(await page.title()).toBe('gslbd status');
    await waitForText('#err', 'Enter an API token (read access is enough to watch; write access to drain).');
    await useToken(READ);
    await waitForText(stateCell('checked', '127.0.0.2'), 'up');
    const status = (await s.api('GET', '/v1/status')).body;
    const pools = status.zones[0].pools.map((p: { pool: string }) => p.pool);
    expect(await page.$$eval('table[data-pool]', (ts) => ts.map((t) => t.getAttribute('data-pool')))).toEqual(pools);
    for (const p of status.zones[0].pools) {
      const rows = await page.$$eval(`table[data-pool="${p.pool}"] tbody tr`, (trs) =>
        trs.map((tr) => tr.getAttribute('data-target')),
      );
      expect(rows).toEqual(p.targets.map((t: { address: string }) => t.address));
    }
    expect(await page.textContent('h2')).toMatch(/^ops\.example\.net\. serial \d+$/);
    expect(await page.textContent('#summary')).toBe(`1 zones, ${pools.length} pools`);
    expect(
      await page.textContent(`table[data-pool="${fqdn('checked')}"] tr[data-target="127.0.0.3"] td:nth-child(4)`),
    ).toMatch(/^pass: connected \(\d+(\.\d+)? ms, \d+s ago\)$/);
    // `both` hands out each of its two targets once a query: half each.
    await until(
      async () => (await page.textContent(shareCell('both', '198.51.100.61')))?.trim() === '50%',
      10_000,
      'the share of the answers given before the page opened',
      100,
    );
    expect((await page.textContent(shareCell('both', '198.51.100.62')))?.trim()).toBe('50%');
  });

  it("draws queries/s per zone and rcode, and each pool's share per target, and they move", async () => {
    for (let i = 0; i < 6; i++) await dig(s.gslbd.port, [fqdn('both'), 'A']);
    await dig(s.gslbd.port, [fqdn('nowhere'), 'A']);
    await until(
      async () => {
        const q = await chart('queries');
        return (
          (q?.labels.includes('ops.example.net. NXDOMAIN') && q.series.some((v) => v.some((x) => x! > 0))) ?? false
        );
      },
      15_000,
      'queries/s per zone and rcode with data',
      200,
    );
    const q = (await chart('queries'))!;
    expect(q.labels).toContain('ops.example.net. NOERROR');
    expect(q.canvas).toBe(true);
    // Shares of `both`: half each in the steps with answers.
    const share = (await chart('shares', 'both'))!;
    expect(share.labels).toEqual(['198.51.100.61', '198.51.100.62']);
    expect(share.series.flatMap((v) => v.filter((x) => x !== null))).toContain(0.5);
    // They move: a later sample comes in, and new answers show in it.
    const last = q.times.at(-1)!;
    for (let i = 0; i < 4; i++) await dig(s.gslbd.port, [fqdn('rr'), 'A']);
    await until(
      async () => {
        const rr = await chart('shares', 'rr');
        const now = await chart('queries');
        return (now?.times.at(-1) ?? 0) > last && (rr?.series.some((v) => v.some((x) => x! > 0)) ?? false);
      },
      15_000,
      'the charts to take a new sample with the rr answers',
      200,
    );
  });

  it('shows a target down within seconds of its listener stopping, and the change in the recent list', async () => {
    await s.a.stop();
    try {
      await waitForText(stateCell('checked', '127.0.0.2'), 'down');
      expect(await page.getAttribute(stateCell('checked', '127.0.0.2'), 'title')).toBe('probe: connect ECONNREFUSED');
      expect(await page.textContent(stateCell('checked', '127.0.0.3'))).toBe('up');
      await until(
        async () =>
          (await texts('#events tbody tr')).some((row) => row.includes('127.0.0.2') && row.includes('up → down')),
        10_000,
        'the change in the recent list',
        100,
      );
      // The state timeline of the target ends down, decided by the probe, after an up span.
      await until(
        async () => (await segments('checked', '127.0.0.2')).at(-1) === 'down probe',
        10_000,
        'a down span in the timeline',
        100,
      );
      expect(await segments('checked', '127.0.0.2')).toContain('up probe');
    } finally {
      await s.a.start();
    }
    await waitForText(stateCell('checked', '127.0.0.2'), 'up');
  });

  it("a read token cannot drain: the page shows the API's refusal", async () => {
    await page.click(button('both', '198.51.100.62'));
    await until(async () => (await page.textContent('#err'))!.includes('403'), 10_000, 'the refusal shown', 100);
    expect(await page.textContent('#err')).toBe(
      `PUT /v1/zones/ops.example.net./pools/${encodeURIComponent(fqdn('both'))}/targets/198.51.100.62/override: 403 token "viewer" may only read`,
    );
    expect(await answers('both')).toEqual(['198.51.100.61', '198.51.100.62']);
  });

  it('drains a target with its button (dig no longer gets it) and undrains it', async () => {
    await useToken(WRITE);
    await waitForText('#err', '');
    expect(await page.textContent(button('both', '198.51.100.62'))).toBe('drain');
    await page.click(button('both', '198.51.100.62'));
    await waitForText(stateCell('both', '198.51.100.62'), 'drain');
    await waitForText(button('both', '198.51.100.62'), 'undrain');
    expect(await answers('both')).toEqual(['198.51.100.61']);
    // The drain is in the recent list (it stayed empty before), and in the target's timeline.
    await until(
      async () =>
        (await texts('#events tbody tr')).some(
          (row) => row.includes(`${fqdn('both')}/198.51.100.62`) && row.includes('override drain → drain'),
        ),
      10_000,
      'the drain in the recent list',
      100,
    );
    await until(
      async () => (await segments('both', '198.51.100.62')).at(-1) === 'drain override',
      10_000,
      'a drain span in the timeline',
      100,
    );
    const t = (await s.api('GET', `/v1/zones/ops.example.net./pools/both/targets/198.51.100.62`)).body;
    expect(t).toMatchObject({ state: 'drain', because: 'override', reason: 'drained from the status page' });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`status page screenshot: ${SCREENSHOT}`);

    await page.click(button('both', '198.51.100.62'));
    await waitForText(stateCell('both', '198.51.100.62'), 'up');
    await waitForText(button('both', '198.51.100.62'), 'drain');
    expect(await answers('both')).toEqual(['198.51.100.61', '198.51.100.62']);
  });
});
