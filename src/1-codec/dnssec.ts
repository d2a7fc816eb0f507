// DNSSEC wire forms and signatures (RFC 4034): DNSKEY RDATA and its key tag, DS, RRSIG over an
// RRset in canonical form, NSEC with its type bitmap. node:crypto signs; nothing here knows zones.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { Type } from '../0-base/constants.ts';
import { keyToWire, labelCount, type NameKey } from '../0-base/name.ts';

/** RFC 8624 §3.1 algorithms we sign with: both are small and fast (RSA is neither). */
export const Algorithm = { ECDSAP256SHA256: 13, ED25519: 15 } as const;
export type AlgorithmNumber = (typeof Algorithm)[keyof typeof Algorithm];

/** RFC 4034 §2.1.1: Zone Key (bit 7) and Secure Entry Point (bit 15): a combined signing key. */
export const CSK_FLAGS = 257;
/** RFC 9824 §2: the NXNAME meta-type, only ever in an NSEC bitmap of a name that does not exist. */
export const NXNAME = 128;

/** A zone's signing key, ready to sign: the private key and the DNSKEY RDATA it is published as. */
export interface SigningKey {
  readonly algorithm: AlgorithmNumber;
  readonly private: KeyObject;
  /** DNSKEY RDATA: flags, protocol 3, algorithm, public key (RFC 4034 §2.1). */
  readonly dnskey: Buffer;
  readonly tag: number;
}

/** A new private key of `algorithm`, as PKCS#8 PEM (the form keys are stored in). */
export function generatePrivateKey(algorithm: AlgorithmNumber): string {
  const pair =
    algorithm === Algorithm.ED25519
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** The signing key of a stored private key (PEM); throws if it is not a key of `algorithm`. */
export function signingKey(algorithm: AlgorithmNumber, pem: string, flags = CSK_FLAGS): SigningKey {
  const priv = createPrivateKey(pem);
  const jwk = createPublicKey(priv).export({ format: 'jwk' });
  let pub: Buffer;
  if (algorithm === Algorithm.ED25519) {
    // RFC 8080 §3: the 32-octet public key.
    if (jwk.crv !== 'Ed25519') throw new Error('not an Ed25519 key');
    pub = Buffer.from(jwk.x!, 'base64url');
  } else {
    // RFC 6605 §4: Q as x | y, 32 octets each.
    if (jwk.crv !== 'P-256') throw new Error('not a P-256 key');
    pub = Buffer.concat([Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
  }
  const dnskey = Buffer.alloc(4 + pub.length);
  dnskey.writeUInt16BE(flags, 0);
  dnskey[2] = 3;
  dnskey[3] = algorithm;
  pub.copy(dnskey, 4);
  return { algorithm, private: priv, dnskey, tag: keyTag(dnskey) };
}

/** RFC 4034 Appendix B: the key tag of DNSKEY RDATA (algorithms other than 1). */
export function keyTag(rdata: Uint8Array): number {
  let ac = 0;
  for (let i = 0; i < rdata.length; i++) ac += i & 1 ? rdata[i]! : rdata[i]! << 8;
  ac += (ac >> 16) & 0xffff;
  return ac & 0xffff;
}

/** RFC 4509 §2.1 / RFC 4034 §5.1.4: DS RDATA with a SHA-256 digest of owner | DNSKEY RDATA. */
export function dsRdata(owner: NameKey, key: SigningKey): Buffer {
  const digest = createHash('sha256').update(keyToWire(owner)).update(key.dnskey).digest();
  const out = Buffer.alloc(4 + digest.length);
  out.writeUInt16BE(key.tag, 0);
  out[2] = key.algorithm;
  out[3] = 2; // SHA-256
  digest.copy(out, 4);
  return out;
}

/** What an RRSIG is made over: one RRset as sent (owner and TTL as written in the answer). */
export interface SignedRRset {
  readonly owner: NameKey;
  readonly type: number;
  readonly ttl: number;
  /** RDATA of each RR, already canonical (canonicalRdata), in any order. */
  readonly rdata: readonly Buffer[];
  /** RFC 4034 §3.1.3: the owner's labels, less a leading `*` when it is a wildcard expansion. */
  readonly labels: number;
}

export interface Validity {
  /** Seconds since the epoch (RFC 4034 §3.1.5; serial arithmetic, RFC 1982, past 2106). */
  readonly inception: number;
  readonly expiration: number;
}

/**
 * RRSIG RDATA (RFC 4034 §3.1) over `set`, signed by `key` for zone `signer`. The signed data is
 * RRSIG RDATA without the signature, then every RR in canonical form (§3.1.8.1, §6.2), sorted by
 * RDATA (§6.3), duplicates once.
 */
export function rrsigRdata(set: SignedRRset, signer: NameKey, key: SigningKey, validity: Validity): Buffer {
  const signerWire = keyToWire(signer);
  const head = Buffer.alloc(18 + signerWire.length);
  head.writeUInt16BE(set.type, 0);
  head[2] = key.algorithm;
  head[3] = set.labels;
  head.writeUInt32BE(set.ttl, 4);
  head.writeUInt32BE(validity.expiration >>> 0, 8);
  head.writeUInt32BE(validity.inception >>> 0, 12);
  head.writeUInt16BE(key.tag, 16);
  signerWire.copy(head, 18);
  const owner = keyToWire(signedOwner(set.owner, set.labels));
  const rrHead = Buffer.alloc(10);
  rrHead.writeUInt16BE(set.type, 0);
  rrHead.writeUInt16BE(1, 2); // class IN
  rrHead.writeUInt32BE(set.ttl, 4);
  const sorted = [...set.rdata].sort(Buffer.compare);
  const parts: Buffer[] = [head];
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i]!.equals(sorted[i - 1]!)) continue;
    const rr = Buffer.from(rrHead);
    rr.writeUInt16BE(sorted[i]!.length, 8);
    parts.push(owner, rr, sorted[i]!);
  }
  const data = Buffer.concat(parts);
  // RFC 6605 §4: r | s, 32 octets each (IEEE P1363), not DER; RFC 8080 §4: Ed25519 over the data.
  const signature =
    key.algorithm === Algorithm.ED25519
      ? sign(null, data, key.private)
      : sign('sha256', data, { key: key.private, dsaEncoding: 'ieee-p1363' });
  return Buffer.concat([head, signature]);
}

/**
 * RFC 4035 §5.3.2: the owner a signature covers. An RRset expanded from a wildcard is signed as the
 * wildcard's (`*.` and the rightmost `labels` labels), so a validator rebuilds the same data.
 */
function signedOwner(owner: NameKey, labels: number): NameKey {
  let extra = labelCount(owner) - labels;
  if (extra <= 0) return owner;
  let k = owner;
  for (; extra > 0; extra--) k = k.slice(k.charCodeAt(0) + 1);
  return '\x01*' + k;
}

/** RFC 4034 §3.1.3: the labels field of an RRset owned by `owner` (a wildcard's `*` not counted). */
export function rrsigLabels(owner: NameKey): number {
  const n = labelCount(owner);
  return owner.startsWith('\x01*') ? n - 1 : n;
}

/** NSEC RDATA (RFC 4034 §4.1): the next owner name, uncompressed, then the type bitmap (§4.1.2). */
export function nsecRdata(next: NameKey, types: Iterable<number>): Buffer {
  const sorted = [...new Set(types)].sort((a, b) => a - b);
  const windows: Buffer[] = [];
  let i = 0;
  while (i < sorted.length) {
    const window = sorted[i]! >> 8;
    const bits = Buffer.alloc(32);
    let last = 0;
    for (; i < sorted.length && sorted[i]! >> 8 === window; i++) {
      const low = sorted[i]! & 0xff;
      bits[low >> 3]! |= 0x80 >> (low & 7);
      last = low >> 3;
    }
    windows.push(Buffer.from([window, last + 1]), bits.subarray(0, last + 1));
  }
  return Buffer.concat([keyToWire(next), ...windows]);
}

/** The types an NSEC at a signed name always lists besides the name's own (RFC 4035 §2.3). */
export const NSEC_SELF = [Type.RRSIG, Type.NSEC];
