// Probe load end to end, counted at a real listener: pools sharing one endpoint cost one probe per
// interval between them; a reload that keeps them changes nothing; a reload that removes them stops
// their probes, and one that adds a pool starts its probes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { ask, writePools, zonesDir, type PoolsYaml } from '../helpers/health.ts';
import { tcpListener, until, type Listener } from '../helpers/listeners.ts';

const N = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let server: Gslbd;
let shared: Listener;
let added: Listener;
let dir: string;

function pools(withShared: boolean, withAdded: boolean): PoolsYaml {
  const check = { type: 'tcp', port: shared.port, interval: '1s', timeout: '500ms', rise: 1, fall: 1 };
  const out: PoolsYaml = { static: { targets: [{ address: '192.0.2.100' }] } };
  if (withShared) {
    for (let i = 1; i <= N; i++) out[`p${i}`] = { check, targets: [{ address: '127.0.0.9' }] };
    // Handed out as another address, checked at the same endpoint.
    out.elsewhere = { targets: [{ address: '192.0.2.9', check: { ...check, host: '127.0.0.9' } }] };
  }
  if (withAdded) {
    out.added = {
      targets: [{ address: '127.0.0.10', check: { type: 'tcp', port: added.port, interval: '1s', timeout: '500ms' } }],
    };
  }
  return out;
}

/** Sends SIGHUP after writing `p` and waits until the zone is loaded again. */
async function reload(p: PoolsYaml): Promise<void> {
  writePools(dir, p);
  const mark = server.logs.length;
  server.proc.kill('SIGHUP');
  await server.waitForLog((l) => server.logs.indexOf(l) >= mark && l.msg === 'zone loaded', 10_000);
}

/** Connections `l` accepts during `ms`. */
async function countOver(l: Listener, ms: number): Promise<number> {
  const before = l.accepted.length;
  await sleep(ms);
  return l.accepted.length - before;
}

beforeAll(async () => {
  shared = await tcpListener('127.0.0.9');
  added = await tcpListener('127.0.0.10');
  dir = zonesDir(pools(true, false));
  server = await startGslbd(['--zones', dir]);
  await until(() => shared.accepted.length >= 1, 5000, 'a first probe');
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all([shared?.stop(), added?.stop()]);
});

describe('probe load', () => {
  it(`${N + 1} pools sharing one endpoint cost one probe per interval, not ${N + 1}`, async () => {
    const n = await countOver(shared, 5000);
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(6);
    for (const p of ['p1', `p${N}`, 'elsewhere']) expect((await ask(server, p)).addresses).toHaveLength(1);
  }, 15_000);

  it('a reload that keeps the pools keeps one probe loop', async () => {
    await reload(pools(true, false));
    const n = await countOver(shared, 3000);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(n).toBeLessThanOrEqual(4);
  }, 15_000);

  it('a reload that removes the pools stops their probes; one that adds a pool starts its probes', async () => {
    expect(added.accepted).toEqual([]);
    await reload(pools(false, true));
    // A probe already under way when the reload landed may still connect.
    await sleep(300);
    expect(await countOver(shared, 3000)).toBe(0);
    // The watched idle connection of the last probe is closed too.
    await until(() => shared.open.size === 0, 2000, 'the last probe connection to close');
    expect(added.accepted.length).toBeGreaterThanOrEqual(2);
    expect((await ask(server, 'p1')).status).toBe('NXDOMAIN');
  }, 15_000);
});
