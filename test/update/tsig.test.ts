// TSIG (RFC 8945): a MAC computed by hand from the RFC's digest layout, every verdict of
// verifyRequest, our signed and unsigned answers, and interop with the real `nsupdate`
// (it signs requests we verify, and verifies the answers we sign).

import { createHmac } from 'node:crypto';
import dgram from 'node:dgram';
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Rcode, Type } from '../../src/0-base/constants.ts';
import { keyFromText } from '../../src/0-base/name.ts';
import {
  FUDGE,
  sign,
  signRequest,
  tsigAnswer,
  tsigKeyFromConfig,
  TsigError,
  verifyRequest,
  verifyResponse,
  type TsigAlgorithm,
  type TsigKey,
  type TsigVerdict,
} from '../../src/1-codec/tsig.ts';
import { makeKey } from './helpers.ts';

const NOW = 1_700_000_000_000;
const NOW_S = NOW / 1000;

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** A minimal UPDATE: id 0x1234, one zone `example.` SOA IN, nothing else. */
const MESSAGE = hex('1234 2800 0001 0000 0000 0000  07 6578616d706c65 00  0006 0001');

function kind(v: TsigVerdict): string {
  return v.kind === 'error' ? `${v.rcode}/${v.tsigError}` : v.kind;
}

/** `signed` with its TSIG MAC replaced by `mac` (MAC size and RDLENGTH follow). */
function withMac(signed: Buffer, mac: Buffer): Buffer {
  const v = verifyRequest(signed, [], NOW);
  if (v.kind !== 'error' || !v.record) throw new Error('expected a TSIG record');
  const r = v.record;
  const rdStart = r.start + r.keyName.length + 10;
  const sizeAt = rdStart + r.algorithm.length + 8;
  const size = Buffer.from([mac.length >> 8, mac.length & 0xff]);
  const out = Buffer.concat([signed.subarray(0, sizeAt), size, mac, signed.subarray(sizeAt + 2 + r.mac.length)]);
  out.writeUInt16BE(out.length - rdStart, rdStart - 2);
  return out;
}

describe('TSIG MAC (RFC 8945 §4.3)', () => {
  it('matches a MAC computed by hand over the message and the canonical TSIG variables', () => {
    const secret = Buffer.from('0123456789abcdef0123456789abcdef');
    const key: TsigKey = { name: keyFromText('Key.Example.'), algorithm: 'hmac-sha256', secret, zones: null };
    const { message, mac } = signRequest(MESSAGE, key, NOW);
    // §4.3.3: key name and algorithm lower case, uncompressed; CLASS ANY, TTL 0; time (48 bits),
    // fudge, error, other length (no other data).
    const variables = hex(`03 6b6579 07 6578616d706c65 00  00ff  00000000  0b 686d61632d736861323536 00
      ${NOW_S.toString(16).padStart(12, '0')}  012c  0000  0000`);
    const expected = createHmac('sha256', secret).update(MESSAGE).update(variables).digest();
    expect(mac.toString('hex')).toBe(expected.toString('hex'));
    // The TSIG RR appended: owner, TYPE 250, CLASS ANY, TTL 0, RDLENGTH, then the RDATA fields.
    const rdata = Buffer.concat([
      hex(`0b 686d61632d736861323536 00  ${NOW_S.toString(16).padStart(12, '0')} 012c 0020`),
      expected,
      hex('1234 0000 0000'),
    ]);
    const rr = Buffer.concat([
      hex('03 6b6579 07 6578616d706c65 00  00fa 00ff 00000000'),
      Buffer.from([0, rdata.length]),
      rdata,
    ]);
    const header = Buffer.from(MESSAGE.subarray(0, 12));
    header.writeUInt16BE(1, 10);
    expect(message.toString('hex')).toBe(Buffer.concat([header, MESSAGE.subarray(12), rr]).toString('hex'));
  });

  it('covers the request MAC, with its length, first in a response (§4.3.2)', () => {
    const key = makeKey('k.');
    const requestMac = Buffer.alloc(32, 7);
    const response = Buffer.from(MESSAGE);
    response.writeUInt16BE(0xa800, 2);
    const { mac } = sign(response, key, requestMac, NOW);
    const variables = hex(
      `01 6b 00  00ff 00000000  0b 686d61632d736861323536 00 ${NOW_S.toString(16).padStart(12, '0')} 012c 0000 0000`,
    );
    const expected = createHmac('sha256', key.secret)
      .update(hex('0020'))
      .update(requestMac)
      .update(response)
      .update(variables)
      .digest();
    expect(mac.equals(expected)).toBe(true);
  });
});

describe('verifyRequest (RFC 8945 §5.2)', () => {
  const key = makeKey('monitor-key.');
  const keys = [makeKey('other.'), key];

  it('accepts a message signed with a known key, and tells which', () => {
    const v = verifyRequest(signRequest(MESSAGE, key, NOW).message, keys, NOW);
    expect(v.kind).toBe('ok');
    expect(v.kind === 'ok' && v.key).toBe(key);
  });

  it('is "unsigned" when there is no TSIG', () => {
    expect(verifyRequest(MESSAGE, keys, NOW)).toEqual({ kind: 'unsigned' });
  });

  for (const algorithm of [
    'hmac-sha1',
    'hmac-sha224',
    'hmac-sha256',
    'hmac-sha384',
    'hmac-sha512',
  ] as TsigAlgorithm[]) {
    it(`verifies ${algorithm}`, () => {
      const k = makeKey('k.', algorithm);
      expect(kind(verifyRequest(signRequest(MESSAGE, k, NOW).message, [k], NOW))).toBe('ok');
    });
  }

  it('is BADKEY for a key name it does not know', () => {
    const stranger = makeKey('stranger.');
    expect(kind(verifyRequest(signRequest(MESSAGE, stranger, NOW).message, keys, NOW))).toBe(
      `${Rcode.NOTAUTH}/${TsigError.BADKEY}`,
    );
  });

  it('is BADKEY for a known name with another algorithm (§5.2.1)', () => {
    const same = { ...key, algorithm: 'hmac-sha512' as const };
    expect(kind(verifyRequest(signRequest(MESSAGE, same, NOW).message, keys, NOW))).toBe(
      `${Rcode.NOTAUTH}/${TsigError.BADKEY}`,
    );
  });

  it('is BADSIG for the wrong secret', () => {
    const forged = { ...key, secret: Buffer.alloc(32, 1) };
    expect(kind(verifyRequest(signRequest(MESSAGE, forged, NOW).message, keys, NOW))).toBe(
      `${Rcode.NOTAUTH}/${TsigError.BADSIG}`,
    );
  });

  it('is BADSIG when one octet of the signed message changed', () => {
    const signed = signRequest(MESSAGE, key, NOW).message;
    signed[15]! ^= 0x20;
    expect(kind(verifyRequest(signed, keys, NOW))).toBe(`${Rcode.NOTAUTH}/${TsigError.BADSIG}`);
  });

  it('is BADTIME outside Time Signed ± fudge, after the MAC checked out (§5.2.3)', () => {
    const signed = signRequest(MESSAGE, key, NOW).message;
    expect(kind(verifyRequest(signed, keys, NOW + FUDGE * 1000))).toBe('ok');
    expect(kind(verifyRequest(signed, keys, NOW - FUDGE * 1000))).toBe('ok');
    expect(kind(verifyRequest(signed, keys, NOW + (FUDGE + 1) * 1000))).toBe(`${Rcode.NOTAUTH}/${TsigError.BADTIME}`);
    expect(kind(verifyRequest(signed, keys, NOW - (FUDGE + 1) * 1000))).toBe(`${Rcode.NOTAUTH}/${TsigError.BADTIME}`);
    // A forged message is BADSIG whatever its time: the clock is told only to key holders.
    const forged = signRequest(MESSAGE, { ...key, secret: Buffer.alloc(32) }, NOW).message;
    expect(kind(verifyRequest(forged, keys, NOW + 3600_000))).toBe(`${Rcode.NOTAUTH}/${TsigError.BADSIG}`);
  });

  it('uses the fudge of the request', () => {
    const signed = signRequest(MESSAGE, key, NOW, 10).message;
    expect(kind(verifyRequest(signed, keys, NOW + 11_000))).toBe(`${Rcode.NOTAUTH}/${TsigError.BADTIME}`);
  });

  it('verifies with the Original ID when a forwarder changed the message ID (§4.2, Original ID)', () => {
    const signed = signRequest(MESSAGE, key, NOW).message;
    signed.writeUInt16BE(0x9999, 0);
    expect(kind(verifyRequest(signed, keys, NOW))).toBe('ok');
  });

  it('accepts a key name written in another case (canonical form in the MAC)', () => {
    const signed = signRequest(MESSAGE, key, NOW).message;
    const at = signed.indexOf(Buffer.from('monitor-key', 'latin1'), 12);
    signed.write('MONITOR-KEY', at, 'latin1');
    expect(kind(verifyRequest(signed, keys, NOW))).toBe('ok');
  });

  it('accepts a MAC truncated to max(10, half the hash) and no shorter (§5.2.2.1)', () => {
    const signed = signRequest(MESSAGE, key, NOW);
    expect(kind(verifyRequest(withMac(signed.message, signed.mac.subarray(0, 16)), keys, NOW))).toBe('ok');
    expect(kind(verifyRequest(withMac(signed.message, signed.mac.subarray(0, 15)), keys, NOW))).toBe(
      `${Rcode.FORMERR}/0`,
    );
    const wrong = Buffer.from(signed.mac.subarray(0, 16));
    wrong[15]! ^= 1;
    expect(kind(verifyRequest(withMac(signed.message, wrong), keys, NOW))).toBe(`${Rcode.NOTAUTH}/${TsigError.BADSIG}`);
    expect(kind(verifyRequest(withMac(signed.message, Buffer.concat([signed.mac, Buffer.alloc(1)])), keys, NOW))).toBe(
      `${Rcode.FORMERR}/0`,
    );
    const sha1 = makeKey('k.', 'hmac-sha1');
    const s1 = signRequest(MESSAGE, sha1, NOW);
    expect(kind(verifyRequest(withMac(s1.message, s1.mac.subarray(0, 10)), [sha1], NOW))).toBe('ok');
    expect(kind(verifyRequest(withMac(s1.message, s1.mac.subarray(0, 9)), [sha1], NOW))).toBe(`${Rcode.FORMERR}/0`);
  });

  it('is FORMERR when the TSIG is not the last record, or there are two (§5.2)', () => {
    const signed = signRequest(MESSAGE, key, NOW).message;
    const opt = hex('00 0029 04d0 00000000 0000');
    const after = Buffer.concat([signed, opt]);
    after.writeUInt16BE(2, 10);
    expect(kind(verifyRequest(after, keys, NOW))).toBe(`${Rcode.FORMERR}/0`);
    const twice = signRequest(signed, key, NOW).message;
    expect(kind(verifyRequest(twice, keys, NOW))).toBe(`${Rcode.FORMERR}/0`);
    expect(kind(verifyRequest(Buffer.concat([signed, Buffer.alloc(1)]), keys, NOW))).toBe(`${Rcode.FORMERR}/0`);
  });

  it('is FORMERR, not an exception, for a TSIG outside the additional section (found by bench/fuzz.ts)', () => {
    // The same bytes with ARCOUNT 0 and the record counted in the authority (update) section.
    const signed = signRequest(MESSAGE, key, NOW).message;
    const counts = signed.readUInt16BE(8);
    signed.writeUInt16BE(counts + signed.readUInt16BE(10), 8);
    signed.writeUInt16BE(0, 10);
    expect(kind(verifyRequest(signed, keys, NOW))).toBe(`${Rcode.FORMERR}/0`);
  });

  it('is FORMERR for a TSIG RR that is cut short', () => {
    const signed = signRequest(MESSAGE, key, NOW).message;
    const cut = signed.subarray(0, signed.length - 3);
    expect(kind(verifyRequest(cut, keys, NOW))).toBe(`${Rcode.FORMERR}/0`);
  });
});

describe('tsigAnswer: how a response is signed (RFC 8945 §5.3)', () => {
  const key = makeKey('monitor-key.');
  const response = (req: Buffer) => {
    const r = Buffer.from(req.subarray(0, MESSAGE.length));
    r.writeUInt16BE(0xa800 | 9, 2);
    r.writeUInt16BE(0, 10);
    return r;
  };

  it('signs with the request key over the request MAC; the client verifies it', () => {
    const req = signRequest(MESSAGE, key, NOW);
    const v = verifyRequest(req.message, [key], NOW);
    const answer = tsigAnswer(response(req.message), v, NOW + 1000);
    expect(kind(verifyResponse(answer, key, req.mac, NOW + 1000))).toBe('ok');
    expect(kind(verifyResponse(answer, key, Buffer.alloc(32), NOW + 1000))).toBe(
      `${Rcode.NOTAUTH}/${TsigError.BADSIG}`,
    );
  });

  it('answers BADTIME signed, echoing Time Signed, with the server clock in Other Data', () => {
    const clientNow = NOW - 600_000;
    const req = signRequest(MESSAGE, key, clientNow);
    const v = verifyRequest(req.message, [key], NOW);
    expect(kind(v)).toBe(`${Rcode.NOTAUTH}/${TsigError.BADTIME}`);
    const answer = tsigAnswer(response(req.message), v, NOW);
    // The client, with its own (wrong) clock, can check the answer and learn the server time.
    const r = verifyResponse(answer, key, req.mac, clientNow);
    expect(kind(r)).toBe(`${Rcode.NOTAUTH}/${TsigError.BADTIME}`);
    expect(r.kind === 'error' && r.record?.timeSigned).toBe(clientNow / 1000);
    expect(r.kind === 'error' && r.record?.other.readUIntBE(0, 6)).toBe(NOW_S);
  });

  it('answers BADSIG and BADKEY unsigned: MAC size 0, the error in the TSIG (§5.3.2)', () => {
    for (const [signer, error] of [
      [{ ...key, secret: Buffer.alloc(32) }, TsigError.BADSIG],
      [makeKey('stranger.'), TsigError.BADKEY],
    ] as const) {
      const req = signRequest(MESSAGE, signer, NOW);
      const answer = tsigAnswer(response(req.message), verifyRequest(req.message, [key], NOW), NOW);
      const r = verifyResponse(answer, signer, req.mac, NOW);
      expect(r.kind === 'error' && r.record?.mac.length).toBe(0);
      expect(r.kind === 'error' && r.record?.error).toBe(error);
      expect(answer.readUInt16BE(10)).toBe(1);
    }
  });

  it('adds nothing to the answer of an unsigned request or a malformed TSIG', () => {
    const plain = response(MESSAGE);
    expect(tsigAnswer(plain, verifyRequest(MESSAGE, [key], NOW), NOW)).toBe(plain);
    const bad = Buffer.concat([signRequest(MESSAGE, key, NOW).message, Buffer.alloc(1)]);
    expect(tsigAnswer(plain, verifyRequest(bad, [key], NOW), NOW)).toBe(plain);
  });
});

describe('tsigKeyFromConfig', () => {
  const secret = Buffer.alloc(32, 3).toString('base64');

  it('reads names with or without the final dot, in any case; zones absent means every zone', () => {
    const k = tsigKeyFromConfig({
      name: 'Monitor-Key',
      algorithm: 'HMAC-SHA256.',
      secret,
      zones: ['gslb.example.', 'Other.Example'],
    });
    expect(k).toEqual({
      name: keyFromText('monitor-key.'),
      algorithm: 'hmac-sha256',
      secret: Buffer.alloc(32, 3),
      zones: [keyFromText('gslb.example.'), keyFromText('other.example.')],
    });
    expect(tsigKeyFromConfig({ name: 'k', algorithm: 'hmac-sha1', secret }).zones).toBeNull();
  });

  it('rejects an unknown algorithm, a secret that is not base64, a bad name', () => {
    expect(() => tsigKeyFromConfig({ name: 'k', algorithm: 'hmac-md5', secret })).toThrow(
      /tsig key "k": algorithm "hmac-md5" is not one of/,
    );
    expect(() => tsigKeyFromConfig({ name: 'k', algorithm: 'toString', secret })).toThrow(/algorithm/);
    expect(() => tsigKeyFromConfig({ name: 'k', algorithm: 'hmac-sha256', secret: 'not base64!' })).toThrow(
      /secret is not base64/,
    );
    expect(() => tsigKeyFromConfig({ name: 'a..b', algorithm: 'hmac-sha256', secret })).toThrow(
      /tsig key "a..b": name/,
    );
    expect(() => tsigKeyFromConfig({ name: 'k', algorithm: 'hmac-sha256', secret, zones: ['x..y'] })).toThrow(
      /zone "x..y"/,
    );
  });
});

/**
 * Runs `nsupdate -y` against a UDP socket of ours that answers with `answer(request)`; resolves
 * with the requests received and nsupdate's exit code and output.
 */
async function withNsupdate(key: TsigKey & { base64: string }, answer: (req: Buffer) => Buffer | null) {
  const sock = dgram.createSocket('udp4');
  const requests: Buffer[] = [];
  sock.on('message', (msg, rinfo) => {
    requests.push(msg);
    const out = answer(msg);
    if (out) sock.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const port = sock.address().port;
  const script = `server 127.0.0.1 ${port}\nzone example.\nupdate add a.example. 60 A 192.0.2.1\nsend\n`;
  const result = await new Promise<{ code: number; out: string }>((resolve) => {
    const child = execFile(
      'nsupdate',
      ['-y', `${key.algorithm}:${keyText(key)}:${key.base64}`, '-t', '3', '-u', '1', '-r', '0'],
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr });
      },
    );
    child.stdin!.end(script);
  });
  sock.close();
  return { requests, ...result };
}

const keyText = (k: TsigKey) => k.name.slice(1, 1 + k.name.charCodeAt(0));

describe('interop with nsupdate', () => {
  for (const algorithm of [
    'hmac-sha1',
    'hmac-sha224',
    'hmac-sha256',
    'hmac-sha384',
    'hmac-sha512',
  ] as TsigAlgorithm[]) {
    it(`verifies what nsupdate signs with ${algorithm}, and nsupdate accepts our signed answer`, async () => {
      const key = makeKey('interop-key.', algorithm);
      const { requests, code, out } = await withNsupdate(key, (req) => {
        const v = verifyRequest(req, [key], Date.now());
        const r = Buffer.from(req.subarray(0, req.indexOf(Buffer.from([0, Type.SOA, 0, 1]), 12) + 4));
        r.writeUInt16BE(0xa800, 2);
        r.writeUInt16BE(0, 6);
        r.writeUInt16BE(0, 8);
        r.writeUInt16BE(0, 10);
        return tsigAnswer(r, v, Date.now());
      });
      expect(requests).toHaveLength(1);
      expect(kind(verifyRequest(requests[0]!, [key], Date.now()))).toBe('ok');
      expect({ code, out }).toEqual({ code: 0, out: '' });
    });
  }

  it('nsupdate rejects an answer signed with another secret', async () => {
    const key = makeKey('interop-key.');
    const { code, out } = await withNsupdate(key, (req) => {
      const v = verifyRequest(req, [key], Date.now());
      const r = Buffer.from(req.subarray(0, req.indexOf(Buffer.from([0, Type.SOA, 0, 1]), 12) + 4));
      r.writeUInt16BE(0xa800, 2);
      r.fill(0, 6, 12);
      if (v.kind !== 'ok') return null;
      return tsigAnswer(r, { ...v, key: { ...key, secret: Buffer.alloc(32) } }, Date.now());
    });
    expect(code).not.toBe(0);
    expect(out).toMatch(/tsig|TSIG/);
  });
});
