// HTTP and HTTPS checks end to end: a real gslbd probes real listeners on 127.0.0.x that the test
// breaks (HTTP 500, a body without the expected text, an answer slower than the timeout, stopped)
// and mends; dig shows the target leave and come back, until it flaps too often and is held down. HTTPS with a self-signed certificate passes
// only with `insecure`, and the server sees `hostname` as Host and as the TLS server name.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { ask, healthLines, targetId, transition, zonesDir, type CheckYaml } from '../helpers/health.ts';
import {
  httpListener,
  selfSignedCert,
  tcpListener,
  until,
  type HttpListener,
  type HttpMode,
  type Listener,
} from '../helpers/listeners.ts';
import { USER_AGENT } from '../../src/3-health/probers/http.ts';

const TIMING: CheckYaml = { interval: '1s', timeout: '500ms', rise: 1, fall: 1 };

let server: Gslbd;
let web: HttpListener;
/** Stopped and restarted: another check than `web`'s, so flap damping does not mix the two. */
let other: HttpListener;
/** Flips until flap damping holds it down. */
let flappy: HttpListener;
let tls: HttpListener;
let steady: Listener;

beforeAll(async () => {
  web = await httpListener('127.0.0.4');
  other = await httpListener('127.0.0.7');
  flappy = await httpListener('127.0.0.8');
  tls = await httpListener('127.0.0.5', { tls: selfSignedCert() });
  steady = await tcpListener('127.0.0.6');
  const steadyTarget = { address: '127.0.0.6', check: { type: 'tcp', port: steady.port, ...TIMING } };
  server = await startGslbd([
    '--zones',
    zonesDir({
      web: {
        answers: 4,
        targets: [
          {
            address: '127.0.0.4',
            check: {
              type: 'http',
              port: web.port,
              path: '/healthz',
              body: 'status: OK',
              hostname: 'app.health.test',
              ...TIMING,
            },
          },
          { address: '127.0.0.7', check: { type: 'http', port: other.port, ...TIMING } },
          { address: '127.0.0.8', check: { type: 'http', port: flappy.port, ...TIMING } },
          steadyTarget,
        ],
      },
      secure: {
        answers: 4,
        targets: [
          {
            address: '127.0.0.5',
            check: {
              type: 'https',
              port: tls.port,
              hostname: 'secure.health.test',
              insecure: true,
              expect: [200, 204],
              ...TIMING,
            },
          },
          steadyTarget,
        ],
      },
      // The same self-signed server, checked without `insecure`: never up.
      strict: {
        fallback: 'none',
        targets: [{ address: '192.0.2.5', check: { type: 'https', host: '127.0.0.5', port: tls.port, ...TIMING } }],
      },
    }),
  ]);
  await until(() => web.requests.length >= 1 && tls.requests.length >= 1, 5000, 'a first probe of each listener');
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await Promise.all([web?.stop(), other?.stop(), flappy?.stop(), tls?.stop(), steady?.stop()]);
});

/** `brk` must take the target out with `reason`; after `mend` it must come back. */
async function breakAndMend(
  pool: string,
  address: string,
  brk: () => unknown,
  reason: string | RegExp,
  mend: () => unknown,
): Promise<void> {
  const id = targetId(pool, address);
  expect((await ask(server, pool)).addresses).toContain(address);
  let mark = server.logs.length;
  await brk();
  const down = await transition(server, mark, id, 'down');
  expect(down.reason).toMatch(reason);
  expect((await ask(server, pool)).addresses).not.toContain(address);
  mark = server.logs.length;
  await mend();
  await transition(server, mark, id, 'up');
  expect((await ask(server, pool)).addresses).toContain(address);
}

const set = (l: HttpListener, mode: HttpMode) => () => {
  l.mode = mode;
};
const OK: HttpMode = { kind: 'ok' };

describe('http checks', () => {
  it('send GET path with `hostname` as Host and our User-Agent', () => {
    expect(web.requests[0]).toMatchObject({
      path: '/healthz',
      host: 'app.health.test',
      userAgent: USER_AGENT,
      servername: undefined,
    });
  });

  it('a target answering HTTP 500 leaves, and comes back when it answers 200 again', async () => {
    await breakAndMend('web', '127.0.0.4', set(web, { kind: 'status', status: 500 }), /^HTTP 500$/, set(web, OK));
  }, 20_000);

  it('a target whose body lacks the expected text leaves, and comes back when it has it again', async () => {
    await breakAndMend(
      'web',
      '127.0.0.4',
      set(web, { kind: 'wrong-body' }),
      'HTTP 200, body lacks "status: OK"',
      set(web, OK),
    );
  }, 20_000);

  it('a target answering slower than the timeout leaves, and comes back when it is fast again', async () => {
    await breakAndMend('web', '127.0.0.4', set(web, { kind: 'slow', ms: 1500 }), 'timeout after 500 ms', set(web, OK));
  }, 20_000);

  it('a target whose server stops leaves, and comes back when it restarts', async () => {
    await breakAndMend(
      'web',
      '127.0.0.7',
      () => other.stop(),
      // Refused once it is gone; reset when a probe's connection meets the server closing.
      /^http ECONN(REFUSED|RESET)$/,
      () => other.start(),
    );
  }, 20_000);

  it('a target that keeps flapping is held down even once it passes again (flap damping)', async () => {
    const id = targetId('web', '127.0.0.8');
    // Six changes (down, up three times) within 120 s; the seventh, going down, holds it down.
    for (let i = 0; i < 3; i++) {
      let mark = server.logs.length;
      flappy.mode = { kind: 'status', status: 500 };
      await transition(server, mark, id, 'down');
      mark = server.logs.length;
      flappy.mode = OK;
      await transition(server, mark, id, 'up');
    }
    let mark = server.logs.length;
    flappy.mode = { kind: 'status', status: 500 };
    const down = await transition(server, mark, id, 'down');
    expect(down.reason).toBe('HTTP 500; flapping (7 changes in 120s): held down 60s');
    flappy.mode = OK;
    mark = server.logs.length;
    const passes = flappy.requests.length;
    await until(() => flappy.requests.length >= passes + 3, 6000, 'three passing probes');
    expect(healthLines(server, mark).filter((l) => l.targets.includes(id))).toEqual([]);
    expect((await ask(server, 'web')).addresses).not.toContain('127.0.0.8');
  }, 40_000);
});

describe('https checks', () => {
  it('with `insecure`, a self-signed server is up, and sees `hostname` as SNI and Host', () => {
    expect(tls.requests[0]).toMatchObject({
      servername: 'secure.health.test',
      host: 'secure.health.test',
      userAgent: USER_AGENT,
    });
  });

  it('without `insecure`, the same server never passes: the pool falls back to none', async () => {
    const down = await transition(server, 0, targetId('strict', '192.0.2.5'), 'down');
    expect(down.reason).toMatch(/SELF_SIGNED/);
    expect(await ask(server, 'strict')).toMatchObject({ status: 'NOERROR', addresses: [] });
  });

  it('a status outside `expect` takes an HTTPS target out; one inside brings it back', async () => {
    await breakAndMend(
      'secure',
      '127.0.0.5',
      set(tls, { kind: 'status', status: 503 }),
      /^HTTP 503$/,
      set(tls, { kind: 'ok', status: 204 }),
    );
    tls.mode = OK;
  }, 20_000);
});
