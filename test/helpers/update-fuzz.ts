// Fuzzed RFC 2136 UPDATEs signed with TSIG, for test/e2e/fuzz-update.test.ts and bench/fuzz.ts:
// valid UPDATEs of test/fixtures/update's dyn.example.net. of many shapes, mutated and then signed
// with the right key (the mutation reaches the update code past authentication), signed and then
// mutated (the TSIG parser and verification), signed with an unknown key, a wrong secret or a
// clock far off, and signed untouched.

import { signRequest, type TsigKey } from '../../src/1-codec/tsig.ts';
import {
  add,
  deleteName,
  deleteRR,
  deleteRRset,
  makeKey,
  nameInUse,
  nameNotInUse,
  rrsetAbsent,
  rrsetEquals,
  rrsetExists,
  updateMessage,
} from '../update/helpers.ts';
import { mutateBytes, type Fuzzed, type Rng } from './fuzz.ts';
import { decodeMessage } from './message.ts';

export const ZONE = 'dyn.example.net.';
/** The key the server is given (`--tsig-key`, flagOf below), and two it does not accept. */
export const key = makeKey('fuzz-key.', 'hmac-sha256', [ZONE]);
/** Same name, another secret: every MAC it makes is wrong (BADSIG). */
const wrongSecret = makeKey('fuzz-key.', 'hmac-sha256', [ZONE]);
const unknown = makeKey('nobody.', 'hmac-sha256');
/** The `--tsig-key` value of `key`. */
export const KEY_FLAG = `fuzz-key.:hmac-sha256:${key.base64}:${ZONE}`;

/** RFC 2136 UPDATEs of dyn.example.net. of every kind, valid as sent. */
export async function baseUpdates(): Promise<Buffer[]> {
  const n = `f.${ZONE}`;
  return [
    updateMessage(ZONE, { update: [await add(`${n} 60 IN A 192.0.2.99`)] }),
    updateMessage(ZONE, { update: [await add(`${n} 60 IN TXT "fuzz"`), await add(`${n} 60 IN AAAA 2001:db8::99`)] }),
    updateMessage(ZONE, {
      prereq: [nameNotInUse(`new.${ZONE}`)],
      update: [await add(`new.${ZONE} 60 IN MX 10 mx1.${ZONE}`)],
    }),
    updateMessage(ZONE, { prereq: [rrsetExists(`static.${ZONE}`, 1)], update: [deleteRRset(n, 16)] }),
    updateMessage(ZONE, { prereq: [await rrsetEquals(`multi.${ZONE} 0 IN A 192.0.2.11`)], update: [deleteName(n)] }),
    updateMessage(ZONE, {
      prereq: [nameInUse(`static.${ZONE}`), rrsetAbsent(n, 5)],
      update: [await deleteRR(`${n} 0 IN A 192.0.2.99`)],
    }),
    updateMessage(ZONE, { update: [await add(`www.${ZONE} 60 IN A 198.51.100.77`)] }),
    updateMessage(ZONE, { update: [await deleteRR(`www.${ZONE} 0 IN A 198.51.100.77`)] }),
    updateMessage(ZONE, {
      update: [await add(`${ZONE} 60 IN NS ns3.${ZONE}`), await add(`ns3.${ZONE} 60 IN A 192.0.2.55`)],
    }),
    updateMessage(ZONE, { update: [await add(`c.${ZONE} 60 IN CNAME static.${ZONE}`)] }),
  ];
}

const sign = (msg: Buffer, k: TsigKey, skewMs = 0) => signRequest(msg, k, Date.now() + skewMs).message;

/** One fuzzed UPDATE with the ID `id`, and how it was made. */
export function fuzzedUpdate(rng: Rng, bases: readonly Buffer[], id: number): Fuzzed {
  const base = Buffer.from(rng.pick(bases));
  base.writeUInt16BE(id, 0);
  const r = rng.int(20);
  if (r < 8) {
    // Mutated, then signed: the mutation gets past authentication. Signing needs a header.
    const m = mutateBytes(rng, base);
    if (m.msg.length < 12) return { kind: `unsigned ${m.kind}`, msg: m.msg };
    m.msg.writeUInt16BE(id, 0);
    // A mutated ARCOUNT of 65535 leaves no room for the TSIG record: sent unsigned.
    if (m.msg.readUInt16BE(10) === 0xffff) return { kind: `unsigned ${m.kind}`, msg: m.msg };
    return { kind: `${m.kind} then signed`, msg: sign(m.msg, key) };
  }
  if (r < 14) {
    const m = mutateBytes(rng, sign(base, key));
    if (m.msg.length >= 2) m.msg.writeUInt16BE(id, 0);
    return { kind: `signed then ${m.kind}`, msg: m.msg };
  }
  if (r < 15) return { kind: 'unknown key', msg: sign(base, unknown) };
  if (r < 16) return { kind: 'wrong secret', msg: sign(base, wrongSecret) };
  if (r < 17) return { kind: 'clock off', msg: sign(base, key, rng.pick([-1, 1]) * rng.range(301, 10_000) * 1000) };
  return { kind: 'signed', msg: sign(base, key) };
}

/** Why `reply` is not an acceptable answer to `query` (undefined when it is). */
export function badUpdateReply(query: Buffer, reply: Buffer): string | undefined {
  if (reply.length < 12) return `reply of ${reply.length} bytes`;
  if (!(reply[2]! & 0x80)) return 'reply has QR=0';
  if (reply.readUInt16BE(0) !== query.readUInt16BE(0)) return 'reply ID differs';
  if ((reply[3]! & 0xf) === 2) return 'SERVFAIL';
  try {
    decodeMessage(reply);
  } catch (err) {
    return `reply does not decode: ${(err as Error).message}`;
  }
  return undefined;
}
