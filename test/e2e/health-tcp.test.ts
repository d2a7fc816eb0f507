// TCP checks end to end: a real gslbd probes real listeners on 127.0.0.x; dig shows a target leave
// when its listener stops and come back when it restarts, per rise/fall; every target down gives the
// pool's fallback; the TTL shrinks to the time until the next possible change, never below min-ttl.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { ask, askFast, healthLines, targetId, transition, zonesDir, type CheckYaml } from '../helpers/health.ts';
import { tcpListener, until, type Listener } from '../helpers/listeners.ts';

const FAST: CheckYaml = { type: 'tcp', interval: '1s', timeout: '500ms', rise: 2, fall: 2 };

let server: Gslbd;
let a: Listener;
let b: Listener;
/** A port on 127.0.0.7 nothing listens on: every probe there is refused. */
let closed: number;
/** An always-up listener for the TTL pools. */
let steady: Listener;

beforeAll(async () => {
  a = await tcpListener('127.0.0.2');
  b = await tcpListener('127.0.0.3');
  steady = await tcpListener('127.0.0.8');
  const gone = await tcpListener('127.0.0.7');
  await gone.stop();
  closed = gone.port;
  const dead: CheckYaml = {
    type: 'tcp',
    host: '127.0.0.7',
    port: closed,
    interval: '1s',
    timeout: '500ms',
    rise: 1,
    fall: 1,
  };
  server = await startGslbd([
    '--zones',
    zonesDir({
      www: {
        policy: 'round-robin',
        answers: 4,
        ttl: 30,
        targets: [
          { address: '127.0.0.2', check: { ...FAST, port: a.port } },
          { address: '127.0.0.3', check: { ...FAST, port: b.port } },
        ],
      },
      'fail-open': {
        fallback: 'all',
        answers: 4,
        check: dead,
        targets: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
      },
      'fail-closed': {
        fallback: 'none',
        answers: 4,
        check: dead,
        targets: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
      },
      sorry: {
        fallback: ['192.0.2.99'],
        answers: 4,
        check: dead,
        targets: [{ address: '192.0.2.1' }, { address: '192.0.2.2' }],
      },
      // Probed every 10 s: an up target can change at its next probe, so the TTL is at most 10.
      'ttl-next-probe': {
        ttl: 30,
        'min-ttl': 2,
        targets: [
          {
            address: '127.0.0.8',
            check: { type: 'tcp', port: steady.port, interval: '10s', timeout: '1s', rise: 1, fall: 1 },
          },
        ],
      },
      // Probed every second: the next change is under a second away, so the floor wins.
      'ttl-floor': {
        ttl: 30,
        'min-ttl': 3,
        targets: [
          {
            address: '127.0.0.8',
            check: { type: 'tcp', port: steady.port, interval: '1s', timeout: '500ms', rise: 1, fall: 1 },
          },
        ],
      },
      // Down and needing 5 passes 4 s apart: no change for at least 16 s.
      'ttl-down': {
        ttl: 60,
        'min-ttl': 1,
        targets: [
          {
            address: '192.0.2.7',
            check: { type: 'tcp', host: '127.0.0.7', port: closed, interval: '4s', timeout: '1s', rise: 5, fall: 1 },
          },
        ],
      },
      'no-check': { ttl: 30, targets: [{ address: '192.0.2.8' }] },
      // The issue 14 reproduction: steady and up, fall 3 probes 5 s apart before it could go down.
      'ttl-steady': {
        ttl: 30,
        targets: [
          {
            address: '127.0.0.8',
            check: { type: 'tcp', port: steady.port, interval: '5s', timeout: '1s', rise: 2, fall: 3 },
          },
        ],
      },
      // The same with fast-fail: a lost connection or a refusal takes it down at once.
      'ttl-fast-fail': {
        ttl: 30,
        'min-ttl': 2,
        targets: [
          {
            address: '127.0.0.8',
            check: {
              type: 'tcp',
              port: steady.port,
              interval: '5s',
              timeout: '1s',
              rise: 2,
              fall: 3,
              'fast-fail': true,
            },
          },
        ],
      },
    }),
  ]);
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all([a?.stop(), b?.stop(), steady?.stop()]);
});

describe('tcp checks', () => {
  const A = targetId('www', '127.0.0.2');

  it('removes a target whose listener stops and brings it back after `rise` passes when it restarts', async () => {
    expect((await ask(server, 'www')).addresses).toEqual(['127.0.0.2', '127.0.0.3']);
    // Let the loops settle into a passing rhythm before breaking one.
    await until(() => a.accepted.length >= 1 && b.accepted.length >= 1, 5000, 'a first probe of each listener');

    let mark = server.logs.length;
    await a.stop();
    const down = await transition(server, mark, A, 'down');
    expect(down).toMatchObject({ from: 'up', to: 'down', reason: 'connect ECONNREFUSED', targets: [A] });
    expect((await ask(server, 'www')).addresses).toEqual(['127.0.0.3']);

    mark = server.logs.length;
    const before = a.accepted.length;
    await a.start();
    // The first passing probe after the restart: with rise 2 the target must still be out.
    await until(() => a.accepted.length > before, 5000, 'the first probe after the restart');
    expect(await askFast(server, 'www')).toEqual(['127.0.0.3']);
    expect(healthLines(server, mark).filter((l) => l.targets.includes(A))).toEqual([]);

    const up = await transition(server, mark, A, 'up');
    expect(up).toMatchObject({ from: 'down', to: 'up', reason: 'connected' });
    // The transition came only after a second passing probe.
    await until(() => a.accepted.length - before >= 2, 1000, 'a second probe by the time of the transition');
    expect((await ask(server, 'www')).addresses).toEqual(['127.0.0.2', '127.0.0.3']);
  }, 30_000);

  it('logs each transition once, in order, with target, check, old and new state and reason', () => {
    const mine = healthLines(server).filter((l) => l.targets.includes(A));
    expect(mine.map((l) => `${l.from}->${l.to}`)).toEqual(['up->down', 'down->up']);
    expect(mine[0]).toMatchObject({
      check: `tcp 127.0.0.2:${a.port}`,
      msg: `health: ${A} up -> down (connect ECONNREFUSED)`,
    });
  });
});

describe('every target down: the pool fallback', () => {
  beforeAll(async () => {
    // One shared check (same host, port and settings) covers the six targets of the three pools.
    await transition(server, 0, targetId('sorry', '192.0.2.2'), 'down');
  }, 15_000);

  it('fallback all: answers every target (fail open)', async () => {
    expect(await ask(server, 'fail-open')).toMatchObject({ status: 'NOERROR', addresses: ['192.0.2.1', '192.0.2.2'] });
  });

  it('fallback none: answers NODATA', async () => {
    expect(await ask(server, 'fail-closed')).toMatchObject({ status: 'NOERROR', addresses: [] });
  });

  it('fallback sorry addresses: answers them instead', async () => {
    expect(await ask(server, 'sorry')).toMatchObject({ status: 'NOERROR', addresses: ['192.0.2.99'] });
  });

  it('the six targets shared one check: one transition line names them all', () => {
    const lines = healthLines(server).filter((l) => l.targets.includes(targetId('fail-open', '192.0.2.1')));
    expect(lines).toHaveLength(1);
    expect([...lines[0]!.targets].sort()).toEqual([
      targetId('fail-closed', '192.0.2.1'),
      targetId('fail-closed', '192.0.2.2'),
      targetId('fail-open', '192.0.2.1'),
      targetId('fail-open', '192.0.2.2'),
      targetId('sorry', '192.0.2.1'),
      targetId('sorry', '192.0.2.2'),
    ]);
  });
});

describe('TTL', () => {
  it('is the pool TTL for a pool without checks', async () => {
    expect((await ask(server, 'no-check')).ttl).toBe(30);
  });

  it('spans the `fall` probes a steady up target needs to go down (interval 5 s, fall 3: 9-14 s, pool TTL 30)', async () => {
    await until(() => steady.accepted.length >= 2, 8000, 'the first probes of the steady listener');
    for (let i = 0; i < 3; i++) {
      const { ttl, addresses } = await ask(server, 'ttl-steady');
      expect(addresses).toEqual(['127.0.0.8']);
      // Next probe within 5 s, then two more at least 4.75 s apart each.
      expect(ttl).toBeGreaterThanOrEqual(9);
      expect(ttl).toBeLessThanOrEqual(14);
    }
  }, 15_000);

  it('with fast-fail, an up target can go down any moment: min-ttl', async () => {
    for (let i = 0; i < 3; i++) expect((await ask(server, 'ttl-fast-fail')).ttl).toBe(2);
  });

  it('never outlives the next probe of an up target with fall 1 (interval 10 s, pool TTL 30)', async () => {
    for (let i = 0; i < 3; i++) {
      const { ttl, addresses } = await ask(server, 'ttl-next-probe');
      expect(addresses).toEqual(['127.0.0.8']);
      expect(ttl).toBeGreaterThanOrEqual(2);
      expect(ttl).toBeLessThanOrEqual(10);
    }
  });

  it('never goes below min-ttl however soon the next probe is', async () => {
    for (let i = 0; i < 3; i++) expect((await ask(server, 'ttl-floor')).ttl).toBe(3);
  });

  it('for a down target, spans the passes it needs to come back (rise 5, interval 4 s: 16-20 s, pool TTL 60)', async () => {
    await transition(server, 0, targetId('ttl-down', '192.0.2.7'), 'down', 10_000);
    const { ttl, addresses } = await ask(server, 'ttl-down');
    expect(addresses).toEqual(['192.0.2.7']); // fail open: its only target is down
    expect(ttl).toBeGreaterThanOrEqual(15);
    expect(ttl).toBeLessThanOrEqual(20);
  }, 15_000);
});
