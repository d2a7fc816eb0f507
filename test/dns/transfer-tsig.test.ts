// TSIG over a transfer of many messages (RFC 8945 §5.3.1) and the transfer writer: signNext and
// TsigStreamVerifier agree with each other for every algorithm; the verifier accepts a real Knot
// primary's signed multi-message AXFR (an independent signer) and refuses it altered, reordered or
// with the wrong key; it accepts unsigned messages between signed ones as the RFC requires, up to 99.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { keyFromText, nameToText } from '../../src/0-base/name.ts';
import { parseQuery, type Query } from '../../src/1-codec/query.ts';
import { makeRRset } from '../../src/1-codec/rrset.ts';
import { transferMessages } from '../../src/1-codec/transfer.ts';
import { sign, signNext, signRequest, TsigStreamVerifier, type TsigAlgorithm } from '../../src/1-codec/tsig.ts';
import { rawTransfer } from '../helpers/axfr.ts';
import { startKnot, type Knot } from '../helpers/knot.ts';
import { decodeMessage } from '../helpers/message.ts';
import { buildQuery } from '../helpers/raw.ts';
import { makeKey } from '../update/helpers.ts';

const ALGORITHMS: TsigAlgorithm[] = ['hmac-sha1', 'hmac-sha224', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'];
const NOW = 1_800_000_000_000;

function query(name: string): Query {
  const p = parseQuery(buildQuery(name, Type.AXFR, { id: 0x7777 }));
  if (p.kind !== 'query') throw new Error('not a query');
  return p.query;
}

/** `n` A records under `zone`, as transfer entries. */
function records(zone: string, n: number) {
  const origin = keyFromText(zone);
  return Array.from({ length: n }, (_, i) => {
    const owner = keyFromText(`h${i}.${zone}`);
    return { owner, rrset: makeRRset(owner, Type.A, 300, [Buffer.from([10, 0, (i >> 8) & 255, i & 255])]) };
  }).concat([{ owner: origin, rrset: makeRRset(origin, Type.TXT, 300, [Buffer.from('\x03end')]) }]);
}

describe('transferMessages', () => {
  it('cuts the records into messages of at most the room given, the question in the first only', () => {
    const msgs = [...transferMessages(query('big.test.'), records('big.test.', 5000), 16_000)];
    expect(msgs.length).toBeGreaterThan(3);
    expect(msgs.every((m) => m.length <= 16_000)).toBe(true);
    expect(msgs[0]!.readUInt16BE(4)).toBe(1);
    expect(msgs.slice(1).every((m) => m.readUInt16BE(4) === 0)).toBe(true);
    const all = msgs.flatMap((m) => decodeMessage(m).answer);
    expect(all).toHaveLength(5001);
    expect(all[4999]).toBe('h4999.big.test. 300 IN A 10.0.19.135');
  });
});

describe('signNext and TsigStreamVerifier', () => {
  it.each(ALGORITHMS)('agree on every message of a transfer signed with %s', (algorithm) => {
    const key = makeKey('k.', algorithm);
    const req = signRequest(buildQuery('big.test.', Type.AXFR), key, NOW);
    const msgs = [...transferMessages(query('big.test.'), records('big.test.', 3000), 20_000)];
    let prior: Buffer | null = null;
    const signed = msgs.map((m, i) => {
      const s: { message: Buffer; mac: Buffer } =
        i === 0 ? sign(m, key, req.mac, NOW) : signNext(m, key, prior!, NOW + i);
      prior = s.mac;
      return s.message;
    });
    const v = new TsigStreamVerifier(key, req.mac);
    for (const m of signed) expect(v.verify(m, NOW).kind).toBe('ok');
    // Two later messages swapped: the chain of MACs breaks.
    const swapped = new TsigStreamVerifier(key, req.mac);
    expect(swapped.verify(signed[0]!, NOW).kind).toBe('ok');
    expect(swapped.verify(signed[2]!, NOW).kind).toBe('error');
  });

  it('accepts up to 99 unsigned messages between signed ones, covered by the next MAC, and not 100', () => {
    const key = makeKey('k.');
    const req = signRequest(buildQuery('big.test.', Type.AXFR), key, NOW);
    const msgs = [...transferMessages(query('big.test.'), records('big.test.', 4000), 500)];
    expect(msgs.length).toBeGreaterThan(102);
    // First signed, the next 99 unsigned, the 101st signed over all of them (§5.3.1).
    const first = sign(msgs[0]!, key, req.mac, NOW);
    const h = signNextOver(msgs.slice(1, 100), msgs[100]!, key, first.mac);
    const v = new TsigStreamVerifier(key, req.mac);
    expect(v.verify(first.message, NOW).kind).toBe('ok');
    for (const m of msgs.slice(1, 100)) expect(v.verify(m, NOW).kind).toBe('unsigned');
    expect(v.pending).toBe(99);
    expect(v.verify(h, NOW).kind).toBe('ok');
    expect(v.pending).toBe(0);
    const tooMany = new TsigStreamVerifier(key, req.mac);
    tooMany.verify(first.message, NOW);
    const verdicts = msgs.slice(1, 101).map((m) => tooMany.verify(m, NOW).kind);
    expect(verdicts.at(-1)).toBe('error');
  });
});

/**
 * `last` signed as the message after `unsigned` ones: its MAC covers them (§5.3.1), which signNext
 * (which signs every message) never needs; made here from signNext over their concatenation.
 */
function signNextOver(unsigned: Buffer[], last: Buffer, key: ReturnType<typeof makeKey>, prior: Buffer): Buffer {
  const joined = Buffer.concat([...unsigned, last]);
  const s = signNext(joined, key, prior, NOW);
  // The TSIG RR signNext appended to the joined bytes, moved onto `last` (ARCOUNT + 1).
  const rr = s.message.subarray(joined.length);
  const out = Buffer.concat([last, rr]);
  out.writeUInt16BE(last.readUInt16BE(10) + 1, 10);
  return out;
}

describe('against Knot as a signing primary', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-knot-xfr-'));
  const key = makeKey('knot-primary.', 'hmac-sha384');
  let knot: Knot;

  beforeAll(async () => {
    const file = path.join(dir, 'big.test.zone');
    const lines = ['$TTL 300', '@ IN SOA ns1 hostmaster 1 2h 15m 2w 30', '  IN NS ns1', 'ns1 IN A 192.0.2.1'];
    for (let i = 0; i < 6000; i++) lines.push(`h${i} IN A 10.0.${(i >> 8) & 255}.${i & 255}`);
    writeFileSync(file, lines.join('\n') + '\n');
    knot = await startKnot(dir, [{ origin: 'big.test.', file }], 10_000, {
      transferKey: { name: nameToText(key.name), algorithm: key.algorithm, secret: key.base64 },
    });
  }, 30_000);

  afterAll(async () => {
    await knot?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("verifies every message of Knot's signed AXFR, and refuses it with another key or altered", async () => {
    const req = signRequest(buildQuery('big.test.', Type.AXFR, { id: 0x3131 }), key, Date.now());
    const msgs = await rawTransfer(knot.port, req.message);
    expect(msgs.length).toBeGreaterThan(1);
    const v = new TsigStreamVerifier(key, req.mac);
    const kinds = msgs.map((m) => v.verify(m, Date.now()).kind);
    expect(kinds[0]).toBe('ok');
    expect(kinds.at(-1)).toBe('ok');
    expect(kinds.every((k) => k === 'ok' || k === 'unsigned')).toBe(true);
    expect(v.pending).toBe(0);
    const other = new TsigStreamVerifier(makeKey('knot-primary.', 'hmac-sha384'), req.mac);
    expect(other.verify(msgs[0]!, Date.now()).kind).toBe('error');
    const altered = new TsigStreamVerifier(key, req.mac);
    altered.verify(msgs[0]!, Date.now());
    const second = Buffer.from(msgs[1]!);
    second[40] = second[40]! ^ 0x20;
    const rest = [second, ...msgs.slice(2)].map((m) => altered.verify(m, Date.now()).kind);
    expect(rest).toContain('error');
  }, 30_000);
});
