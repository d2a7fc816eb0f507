// What response rate limiting and DNS Cookies cost on the query path: the whole handler (parse →
// answer cache → encode) on `www.example.com A` with an OPT from one address, with neither
// configured, with RRL on and the query within the rate (every query through a bucket), with RRL
// on and the client far over the rate (dropped or slipped), with cookies on and a client cookie
// (one SipHash to make a server cookie), with a valid server cookie (one SipHash to check it), and
// with both on and a valid cookie (exempt). `--base DIR`: also the handler of another checkout's
// src/ (e.g. `git archive` of the commit before this work) on the same plain query, to see that a
// query with neither configured costs what it did.
//
// Run: scripts/node24.sh node bench/rrl.ts [--base DIR]

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { AnswerCache } from '../src/6-serve/cache.ts';
import { createHandler, type HandlerOptions } from '../src/6-serve/handler.ts';
import { ResponseLimiter, RRL_DEFAULTS } from '../src/6-serve/rrl.ts';
import { CookieSecrets } from '../src/1-codec/cookie.ts';
import { loadZones } from '../src/4-gslb/load.ts';
import { ZoneStore } from '../src/2-zone/store.ts';
import type { PooledZone } from '../src/4-gslb/pool.ts';
import { buildQuery } from '../test/helpers/raw.ts';
import { consume, HEADER, measure, row } from './measure.ts';

const { values } = parseArgs({ options: { base: { type: 'string' } } });
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const zones = (await loadZones(path.join(ROOT, 'zones'))).zones;
const store = new ZoneStore<PooledZone>();
store.put(...zones);
const handler = (more: Partial<HandlerOptions> = {}) =>
  createHandler({ zones: store, cache: new AnswerCache(), ...more });
const rrl = (rate: number) => new ResponseLimiter({ ...RRL_DEFAULTS, whitelist: [], rate }, Date.now);
// Made up for the run: any 16 octets do.
const cookies = CookieSecrets.of({ secret: '00112233445566778899aabbccddeeff' });

const via = { tcp: false, address: '192.0.2.1' };
const withCookie = (hex: string) => {
  const o = Buffer.alloc(4 + hex.length / 2);
  o.writeUInt16BE(10, 0);
  o.writeUInt16BE(hex.length / 2, 2);
  Buffer.from(hex, 'hex').copy(o, 4);
  return buildQuery('www.example.com', 1, { edns: { options: o } });
};
const plain = buildQuery('www.example.com', 1, { edns: {} });
const clientOnly = withCookie('0102030405060708');
// The server cookie this server gives that client: asked once, then presented on every query.
const first = handler({ cookies })(clientOnly, via) as Buffer;
const valid = withCookie(first.subarray(first.length - 24).toString('hex'));

type Handle = (msg: Buffer, v: typeof via) => unknown;
const run = (name: string, handle: Handle, msg: Buffer) =>
  measure(name, () => {
    const out = handle(msg, via);
    consume(out instanceof Buffer ? out.length : 0);
  });

const cases: [string, Handle, Buffer][] = [];
if (values.base) {
  const url = pathToFileURL(path.resolve(values.base, 'src/6-serve/handler.ts')).href;
  const cacheUrl = pathToFileURL(path.resolve(values.base, 'src/6-serve/cache.ts')).href;
  const base = (await import(url)) as typeof import('../src/6-serve/handler.ts');
  const baseCache = (await import(cacheUrl)) as typeof import('../src/6-serve/cache.ts');
  const baseHandler = base.createHandler({ zones: store, cache: new baseCache.AnswerCache() });
  cases.push(
    ['base checkout: neither', baseHandler, plain],
    ['base checkout: neither, a COOKIE', baseHandler, clientOnly],
  );
}
cases.push(
  ['neither configured', handler(), plain],
  ['neither configured, a COOKIE (ignored)', handler(), clientOnly],
  ['RRL on, within the rate', handler({ rrl: rrl(1e9) }), plain],
  ['RRL on, over the rate (dropped/slipped)', handler({ rrl: rrl(1) }), plain],
  ['cookies on, client cookie only', handler({ cookies }), clientOnly],
  ['cookies on, valid server cookie', handler({ cookies }), valid],
  ['RRL and cookies on, valid cookie (exempt)', handler({ rrl: rrl(1), cookies }), valid],
);

console.log(
  `RRL and cookies on the query path, node ${process.version}, median of 7 rounds of 300 ms after 500 ms warm-up\n`,
);
console.log(HEADER);
for (const [name, handle, msg] of cases) console.log(row(run(name, handle, msg)));
