// What TSIG costs on the query path (RFC 8945): the whole handler (parse → answer cache or resolve
// → encode) for an unsigned query with EDNS, the same query signed (verify, answer, sign), and one
// signed with a key the server does not have (verify fails early: NOTAUTH/BADKEY); and the unsigned
// query again through a handler with zone transfers configured (handler.onTransfer set).
//
// Run: scripts/node24.sh node bench/tsig.ts

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AnswerCache } from '../src/6-serve/cache.ts';
import { createHandler } from '../src/6-serve/handler.ts';
import { signRequest, tsigKeyFromConfig, type TsigKey } from '../src/1-codec/tsig.ts';
import { loadZones } from '../src/4-gslb/load.ts';
import { ZoneStore } from '../src/2-zone/store.ts';
import type { PooledZone } from '../src/4-gslb/pool.ts';
import { buildQuery } from '../test/helpers/raw.ts';
import { consume, HEADER, measure, row } from './measure.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const store = new ZoneStore<PooledZone>();
store.put(...(await loadZones(path.join(ROOT, 'zones'))).zones);
const handle = createHandler({ zones: store, cache: new AnswerCache() });
const key = (name: string): TsigKey =>
  tsigKeyFromConfig({ name, algorithm: 'hmac-sha256', secret: randomBytes(32).toString('base64') });
const known = key('bench-key.');
handle.tsig = { keys: [known], maxFudge: 300 };

const query = buildQuery('www.example.com', 1, { edns: {} });
// Signed once: the time check allows 300 s, far more than the run takes.
const signed = signRequest(query, known, Date.now()).message;
const stranger = signRequest(query, key('stranger-key.'), Date.now()).message;
const via = { tcp: false, address: '192.0.2.1' };

// The same handler with zone transfers configured: AXFR/IXFR take their own path, after one
// comparison of the query type on every query (6-serve/transfer.ts).
const withTransfers = createHandler({ zones: store, cache: new AnswerCache() });
withTransfers.onTransfer = () => {
  throw new Error('no transfer in this benchmark');
};

const run = (name: string, msg: Buffer, h = handle) =>
  measure(name, () => {
    const out = h(msg, via);
    consume(out instanceof Buffer ? out.length : 0);
  });

console.log(`TSIG on the query path, node ${process.version}, median of 7 rounds of 300 ms after 500 ms warm-up\n`);
console.log(HEADER);
for (const m of [
  run('unsigned, EDNS (answer cache)', query),
  run('unsigned, EDNS (answer cache), zone transfers configured', query, withTransfers),
  run('signed hmac-sha256, verified and signed', signed),
  run('signed with an unknown key: BADKEY', stranger),
]) {
  console.log(row(m));
}
