// Fuzzing the transfer path in process: fuzzed messages (test/helpers/fuzz.ts) made AXFR or IXFR
// for the example zones, some signed, through a handler whose transfers are allowed to anyone,
// over "TCP" and "UDP". Nothing may throw; every answer, and every message of every transfer
// (read to its end), must be a well-formed response to its query; a complete transfer starts and
// ends with the zone's SOA. FUZZ_SEED=<seed> replays a run.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Type } from '../../src/0-base/constants.ts';
import { keyFromText, keyToWire } from '../../src/0-base/name.ts';
import { parseQuery } from '../../src/1-codec/query.ts';
import { signRequest } from '../../src/1-codec/tsig.ts';
import { ZoneStore } from '../../src/2-zone/store.ts';
import { allUp } from '../../src/4-gslb/health-view.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { createHandler } from '../../src/6-serve/handler.ts';
import { createTransferHandler, MessageStream, type ZoneTransferAcl } from '../../src/6-serve/transfer.ts';
import { checkReply, fuzzSeed, nextPacket, Rng } from '../helpers/fuzz.ts';
import { ROOT } from '../helpers/gslbd.ts';
import { decodeMessage } from '../helpers/message.ts';
import { makeKey } from '../update/helpers.ts';

const PACKETS = 2000;
const SEED = fuzzSeed();
const ZONES = ['example.com.', 'gslb.example.com.', '2.0.192.in-addr.arpa.'];

describe('fuzz, the transfer path', () => {
  it(`answers ${PACKETS} fuzzed AXFR/IXFR messages without an exception, every message well-formed`, async () => {
    console.log(`transfer fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED})`);
    const store = new ZoneStore<PooledZone>();
    store.put(...(await loadZones(path.join(ROOT, 'zones'))).zones);
    const key = makeKey('fuzz-key.');
    const errors: unknown[] = [];
    const handler = createHandler({ zones: store, onError: (e) => errors.push(e) });
    handler.tsig = { keys: [key], maxFudge: 300 };
    const modes = ['all', 'healthy', 'omit'] as const;
    const acls = new Map<string, ZoneTransferAcl>(
      ZONES.map((z, i) => [keyFromText(z), { allow: null, keys: null, pools: modes[i % 3]! }]),
    );
    handler.onTransfer = createTransferHandler({
      zones: store,
      acls: () => acls,
      tsig: () => handler.tsig,
      health: () => allUp,
      now: () => Date.now(),
      logRefused: () => {},
      logTransfer: () => {},
      onError: (e) => errors.push(e),
    });
    const rng = new Rng(SEED);
    let streams = 0;
    let complete = 0;
    for (let i = 0; i < PACKETS; i++) {
      const p = nextPacket(rng);
      const parsed = parseQuery(p.msg);
      if (parsed.kind !== 'query') continue;
      // Made a transfer, mostly of one of our zones (the question replaced, the rest kept: what
      // follows may point into the old question), sometimes signed.
      const q = parsed.query;
      const qtype = rng.chance(0.5) ? Type.AXFR : Type.IXFR;
      const name = rng.chance(0.8) ? keyToWire(keyFromText(rng.pick(ZONES))) : p.msg.subarray(12, q.questionEnd - 4);
      const tail = Buffer.alloc(4);
      tail.writeUInt16BE(qtype, 0);
      const qclass = rng.chance(0.9) ? 1 : rng.int(0x10000);
      tail.writeUInt16BE(qclass, 2);
      const msg = Buffer.concat([p.msg.subarray(0, 12), name, tail, p.msg.subarray(q.questionEnd)]);
      const sent = rng.chance(0.2) ? signRequest(msg, key, Date.now()).message : msg;
      const tcp = rng.chance(0.7);
      const out = handler(sent, { tcp, address: '127.0.0.1' });
      if (errors.length)
        throw new Error(`${(errors[0] as Error).stack}\n  packet ${sent.toString('hex')} seed ${SEED}`);
      if (out === null) continue;
      if (out instanceof Promise) throw new Error('a Promise for a query');
      if (!(out instanceof MessageStream)) {
        checkReply(sent, out, !tcp);
        continue;
      }
      // Only over TCP, only class IN (a zone of another class is not ours).
      expect(tcp).toBe(true);
      expect(qclass).toBe(1);
      streams++;
      const messages = [...iterate(out)];
      if (errors.length)
        throw new Error(`${(errors[0] as Error).stack}\n  packet ${sent.toString('hex')} seed ${SEED}`);
      expect(messages.length).toBeGreaterThan(0);
      checkReply(sent, messages[0]!, false);
      const answers = messages.flatMap((m) => {
        expect(m.length).toBeLessThanOrEqual(65535);
        return decodeMessage(m).answer;
      });
      expect(answers[0]).toMatch(/ SOA /);
      expect(answers.at(-1)).toBe(answers[0]);
      complete++;
    }
    console.log(`transfer fuzz: ${streams} transfers, ${complete} complete`);
    expect(streams).toBeGreaterThan(10);
    expect(handler.stats.errors).toBe(0);
  }, 60_000);
});

function* iterate(s: MessageStream): Generator<Buffer> {
  for (let r = s.messages.next(); !r.done; r = s.messages.next()) yield r.value;
}
