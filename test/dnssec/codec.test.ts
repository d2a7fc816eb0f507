// The DNSSEC wire forms (1-codec/dnssec.ts) against references made elsewhere: the NSEC of RFC 4034
// §4.3, and a key tag and DS that BIND's dnssec-dsfromkey computed for a DNSKEY gslbd published.

import { createPublicKey, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyFromText } from '../../src/0-base/name.ts';
import {
  Algorithm,
  dsRdata,
  generatePrivateKey,
  keyTag,
  nsecRdata,
  rrsigLabels,
  rrsigRdata,
  signingKey,
} from '../../src/1-codec/dnssec.ts';

describe('DNSSEC wire forms', () => {
  it('writes the NSEC type bitmap of RFC 4034 §4.3 (A MX RRSIG NSEC TYPE1234)', () => {
    const rdata = nsecRdata(keyFromText('host.example.com.'), [1, 15, 46, 47, 1234]);
    const bitmap = rdata.subarray(18);
    // Window 0: 6 octets (A, MX, RRSIG, NSEC); window 4: 27 octets, type 1234 being bit 210 (octet 26, 0x20).
    const w4 = Buffer.alloc(32);
    w4[26] = 0x20;
    expect(bitmap.toString('hex')).toBe(
      Buffer.concat([
        Buffer.from([0x00, 0x06, 0x40, 0x01, 0x00, 0x00, 0x00, 0x03]),
        Buffer.from([0x04, 0x1b]),
        w4.subarray(0, 27),
      ]).toString('hex'),
    );
    expect(rdata.subarray(0, 18)).toEqual(Buffer.from('\x04host\x07example\x03com\x00', 'latin1'));
  });

  it('computes the key tag and SHA-256 DS that BIND computes for the same DNSKEY', () => {
    // dnssec-dsfromkey -2 of `gslb.example.com. IN DNSKEY 257 3 13 eVgr…oQw==` (a public key).
    const pub = Buffer.from(
      'eVgrOvsENQvHyihA1J9NbCwcdun+c9NwWUQtVyq3hsq/geNOrx5x7YkPdktVssJ0ZwwYjBPgD4Te2Mc0YvaoQw==',
      'base64',
    );
    const dnskey = Buffer.concat([Buffer.from([1, 1, 3, 13]), pub]);
    expect(keyTag(dnskey)).toBe(51058);
    const ds = dsRdata(keyFromText('gslb.example.com.'), {
      algorithm: 13,
      dnskey,
      tag: 51058,
      private: null as never,
    });
    expect(ds.toString('hex').toUpperCase()).toBe(
      'C7720D02' + '32D565CB442160C14A8D4AC78369560EA58276828C18ABE77483CEA73C5CA181',
    );
  });

  it('counts RRSIG labels without the root or a leading wildcard (RFC 4034 §3.1.3)', () => {
    expect(rrsigLabels(keyFromText('www.example.com.'))).toBe(3);
    expect(rrsigLabels(keyFromText('*.example.com.'))).toBe(2);
    expect(rrsigLabels(keyFromText('.'))).toBe(0);
  });

  for (const algorithm of [Algorithm.ECDSAP256SHA256, Algorithm.ED25519]) {
    it(`signs with algorithm ${algorithm} a signature the DNSKEY's public key verifies`, () => {
      const key = signingKey(algorithm, generatePrivateKey(algorithm));
      expect(key.dnskey.length).toBe(4 + (algorithm === Algorithm.ED25519 ? 32 : 64));
      const owner = keyFromText('www.example.com.');
      const rdata = [Buffer.from([192, 0, 2, 2]), Buffer.from([192, 0, 2, 1])];
      const validity = { inception: 1_800_000_000, expiration: 1_800_259_200 };
      const sig = rrsigRdata({ owner, type: 1, ttl: 60, rdata, labels: 3 }, keyFromText('example.com.'), key, validity);
      const signerEnd = 18 + 13;
      const signed = Buffer.concat([
        sig.subarray(0, signerEnd),
        // RFC 4034 §6.3: RRs in canonical order (192.0.2.1 first), each owner TYPE CLASS TTL RDLENGTH RDATA.
        ...[1, 2].flatMap((last) => [
          Buffer.from('\x03www\x07example\x03com\x00', 'latin1'),
          Buffer.from([0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, last]),
        ]),
      ]);
      const pub = createPublicKey(key.private);
      const ok =
        algorithm === Algorithm.ED25519
          ? verify(null, signed, pub, sig.subarray(signerEnd))
          : verify('sha256', signed, { key: pub, dsaEncoding: 'ieee-p1363' }, sig.subarray(signerEnd));
      expect(ok).toBe(true);
      expect(sig.readUInt16BE(16)).toBe(key.tag);
    });
  }
});
