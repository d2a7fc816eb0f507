// Why the query path has its own codec: dns2 (kept for tests and probes) against ours, on the
// same query bytes and the same answers.
//
//   dns2:            Packet.parse(query) → createResponseFromRequest + records → toBuffer()
//   ours, codec:     parseQuery(query) → encodeAnswer(query, prepared Answer)
//   ours, full path: parseQuery(query) → resolve(zones) → encodeAnswer  (what a query costs)
//
// Run: scripts/node24.sh node bench/codec.ts

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dns2 from 'dns2';
import { resolve, type Question } from '../src/5-answer/resolve.ts';
import { parseQuery, type Query } from '../src/1-codec/query.ts';
import { encodeAnswer } from '../src/1-codec/response.ts';
import { allUp } from '../src/4-gslb/health-view.ts';
import { makeClient } from '../src/4-gslb/client.ts';
import type { PolicyContext } from '../src/3-policy/types.ts';
import { loadZones } from '../src/4-gslb/load.ts';
import { ZoneStore } from '../src/2-zone/store.ts';
import type { PooledZone } from '../src/4-gslb/pool.ts';
import { buildQuery } from '../test/helpers/raw.ts';
import { consume, HEADER, measure, row, type Measurement } from './measure.ts';

const { Packet } = dns2;
/** What the benchmark fills and reads of a dns2 packet: plain records, as dns2 takes them. */
interface DnsResponse {
  header: { rcode: number };
  answers: object[];
  authorities: object[];
  additionals: object[];
}
type DnsRecord = { name: string; type: number; ttl: number; address?: string; exchange?: string; primary?: string };
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT = 1232;

const store = new ZoneStore<PooledZone>();
store.put(...(await loadZones(path.join(ROOT, 'zones'))).zones);
const ctx: PolicyContext = { client: makeClient('192.0.2.1', null, null), random: Math.random, now: Date.now };
const question = (q: Query): Question => ({ qname: q.qname, qtype: q.qtype, gslb: { ctx, health: allUp } });

function mustParse(msg: Buffer): Query {
  const p = parseQuery(msg);
  if (p.kind !== 'query') throw new Error(`bench query does not parse: ${p.kind}`);
  return p.query;
}

/** dns2 records for the same answers (zones/example.com.zone). */
const IN = Packet.CLASS.IN;
const opt = () => Object.assign(Packet.Resource.EDNS([], { udpPayloadSize: LIMIT }), { name: '' });
const soa = {
  name: 'example.com',
  type: Packet.TYPE.SOA,
  class: IN,
  ttl: 300,
  primary: 'ns1.example.com',
  admin: 'hostmaster.example.com',
  serial: 2024060101,
  refresh: 7200,
  retry: 900,
  expiration: 1209600,
  minimum: 300,
};

interface Case {
  readonly name: string;
  readonly query: Buffer;
  /** Fills a dns2 response for the parsed request. */
  readonly dns2: (res: DnsResponse) => void;
}

const CASES: Case[] = [
  {
    name: 'A (www.example.com)',
    query: buildQuery('www.example.com', 1, { edns: {} }),
    dns2: (res) => {
      res.answers.push({ name: 'www.example.com', type: Packet.TYPE.A, class: IN, ttl: 300, address: '192.0.2.10' });
    },
  },
  {
    name: 'MX + additional A (example.com)',
    query: buildQuery('example.com', 15, { edns: {} }),
    dns2: (res) => {
      res.answers.push({
        name: 'example.com',
        type: Packet.TYPE.MX,
        class: IN,
        ttl: 3600,
        priority: 10,
        exchange: 'mail.example.com',
      });
      res.additionals.push({
        name: 'mail.example.com',
        type: Packet.TYPE.A,
        class: IN,
        ttl: 3600,
        address: '192.0.2.25',
      });
    },
  },
  {
    name: 'NXDOMAIN + SOA (nothing.example.com)',
    query: buildQuery('nothing.example.com', 1, { edns: {} }),
    dns2: (res) => {
      res.header.rcode = Packet.RCODE.NXDOMAIN;
      res.authorities.push(soa);
    },
  },
];

function dns2Respond(c: Case, msg: Buffer): Buffer {
  const req = Packet.parse(msg);
  const res = Packet.createResponseFromRequest(req);
  res.header.aa = 1;
  c.dns2(res);
  res.additionals.push(opt());
  return res.toBuffer();
}

/** Both sides must produce the same answer, or the comparison means nothing. */
function summary(buf: Buffer): string {
  const p = Packet.parse(buf);
  const rr = (r: DnsRecord) => `${r.name} ${r.type} ${r.ttl} ${r.address ?? r.exchange ?? r.primary ?? ''}`;
  return JSON.stringify([p.header.rcode, p.header.aa, p.answers.map(rr), p.authorities.map(rr), p.additionals.map(rr)]);
}

const results: Measurement[] = [];
const factors: string[] = [];
for (const c of CASES) {
  const q = mustParse(c.query);
  const prepared = resolve(store, question(q));
  const ours = encodeAnswer(q, prepared, LIMIT);
  const theirs = dns2Respond(c, c.query);
  if (summary(ours) !== summary(theirs))
    throw new Error(`${c.name}: answers differ\n ours ${summary(ours)}\n dns2 ${summary(theirs)}`);

  const d = measure(`${c.name}: dns2 parse + build + toBuffer`, () => consume(dns2Respond(c, c.query).length));
  const codec = measure(`${c.name}: ours parseQuery + encodeAnswer`, () =>
    consume(encodeAnswer(mustParse(c.query), prepared, LIMIT).length),
  );
  const full = measure(`${c.name}: ours parseQuery + resolve + encodeAnswer`, () => {
    const query = mustParse(c.query);
    consume(encodeAnswer(query, resolve(store, question(query)), LIMIT).length);
  });
  results.push(d, codec, full);
  factors.push(
    `| ${c.name} | ${ours.length} / ${theirs.length} | ${(codec.opsPerSec / d.opsPerSec).toFixed(1)}× | ${(full.opsPerSec / d.opsPerSec).toFixed(1)}× |`,
  );
}

console.log(`codec micro-benchmark, node ${process.version}, median of 7 rounds of 300 ms after 500 ms warm-up\n`);
console.log(HEADER);
for (const r of results) console.log(row(r));
console.log('\n| case | response bytes ours / dns2 | codec vs dns2 | full path vs dns2 |\n|---|---|---:|---:|');
for (const f of factors) console.log(f);
