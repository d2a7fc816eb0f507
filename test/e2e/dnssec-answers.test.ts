// What a signing gslbd sends, read off the wire: queries without DO get the very bytes a gslbd
// without `dnssec:` sends (answer cache included, whichever came first); referrals carry the DS or
// the NSEC proving there is none; a name that does not exist is NOERROR with NXNAME unless the query
// set CO; a signed answer too large for the UDP size is TC=1 and whole over TCP.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forTests } from '../helpers/fixture.ts';
import { ROOT, startGslbd, type Gslbd } from '../helpers/gslbd.ts';
import { decodeMessage } from '../helpers/message.ts';
import { buildQuery, tcpExchange, udpExchange } from '../helpers/raw.ts';

const ZONE = 'gslb.example.com';
const TOKEN = 'dnssec-read-token-0123456789';
const T = { A: 1, NS: 2, TXT: 16, AAAA: 28, SRV: 33, DS: 43, DNSKEY: 48 } as const;

const h = forTests(
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-dnssec-wire-'));
    const zones = path.join(dir, 'zones');
    cpSync(path.join(ROOT, 'test/fixtures/dnssec/zones'), zones, { recursive: true });
    const config = path.join(dir, 'gslbd.yaml');
    writeFileSync(
      config,
      `dnssec: { zones: [${ZONE}., not-served.example.], algorithm: ed25519 }\napi: { listen: 127.0.0.1:0, tokens: [{ token: ${TOKEN} }] }\n`,
    );
    const signing = await startGslbd(['--config', config, '--zones', zones]);
    const plain = await startGslbd(['--zones', zones]);
    return { dir, signing, plain };
  },
  async (it) => {
    await it.signing.stop();
    await it.plain.stop();
    rmSync(it.dir, { recursive: true, force: true });
  },
);

async function ask(server: Gslbd, q: Buffer): Promise<Buffer> {
  const reply = await udpExchange(server.port, q, 2000);
  if (!reply) throw new Error('no reply');
  return reply;
}

const typesIn = (records: readonly string[]) => records.map((r) => r.split(' ')[3]);

describe('a signing gslbd on the wire', () => {
  const questions: [string, number][] = [
    ['static', T.A],
    ['chain', T.A],
    ['x.wild', T.A],
    ['www.moved', T.A],
    ['nx', T.A],
    ['static', T.SRV],
    ['x.plain-away', T.A],
    ['x.signed-away', T.A],
    ['failover', T.A],
    ['v6only', T.A],
    ['big', T.TXT],
  ];
  it.each(questions)(
    '%s type %i without DO: the bytes of a gslbd without dnssec, cached or not',
    async (name, type) => {
      for (const edns of [undefined, { do: false }, { do: false, payload: 1200 }]) {
        const q = buildQuery(`${name}.${ZONE}`, type, { id: 4242, ...(edns && { edns }) });
        const want = await ask(h.plain, q);
        // The second answer of each comes from the answer cache (when the name has no pool).
        for (let i = 0; i < 2; i++) expect((await ask(h.signing, q)).toString('hex')).toBe(want.toString('hex'));
        // Asked with DO in between, the unsigned answer is still the one given without DO.
        await ask(h.signing, buildQuery(`${name}.${ZONE}`, type, { id: 4242, edns: { do: true } }));
        expect((await ask(h.signing, q)).toString('hex')).toBe(want.toString('hex'));
      }
    },
  );

  it('answers DO after a cached unsigned answer with the signed one', async () => {
    await ask(h.signing, buildQuery(`static.${ZONE}`, T.TXT, { edns: {} }));
    const signed = decodeMessage(await ask(h.signing, buildQuery(`static.${ZONE}`, T.TXT, { edns: { do: true } })));
    expect(typesIn(signed.answer)).toEqual(['TXT', 'RRSIG']);
  });

  it('warns of a zone listed to sign that is not served', async () => {
    const line = await h.signing.waitForLog(
      (l) => l.msg === 'dnssec: a zone to sign is not served: nothing signed for it',
    );
    expect(line.zone).toBe('not-served.example.');
  });

  it('publishes the DNSKEY at the apex, signed with DO', async () => {
    const plain = decodeMessage(await ask(h.signing, buildQuery(ZONE, T.DNSKEY, { edns: {} })));
    expect(typesIn(plain.answer)).toEqual(['DNSKEY']);
    const signed = decodeMessage(await ask(h.signing, buildQuery(ZONE, T.DNSKEY, { edns: { do: true } })));
    expect(typesIn(signed.answer)).toEqual(['DNSKEY', 'RRSIG']);
  });

  it('refers to a signed child with its DS and RRSIG, to an unsigned one with a signed NSEC at the cut', async () => {
    const secure = decodeMessage(
      await ask(h.signing, buildQuery(`x.signed-away.${ZONE}`, T.A, { edns: { do: true } })),
    );
    expect(secure.flags & 0x0400).toBe(0);
    expect(typesIn(secure.authority)).toEqual(['NS', 'DS', 'RRSIG']);
    const insecure = decodeMessage(
      await ask(h.signing, buildQuery(`x.plain-away.${ZONE}`, T.A, { edns: { do: true } })),
    );
    expect(typesIn(insecure.authority)).toEqual(['NS', 'NSEC', 'RRSIG']);
    // RFC 4034 §4.1.2: NS, RRSIG, NSEC; no DS, no SOA.
    expect(insecure.authority[1]).toMatch(/^plain-away\.gslb\.example\.com\. \d+ IN NSEC /);
  });

  it('denies a name compactly: NOERROR, one NSEC with NXNAME; NXDOMAIN and CO when the query set CO', async () => {
    const q = (co: boolean) => buildQuery(`nx.${ZONE}`, T.A, { edns: { do: true, co } });
    const compact = decodeMessage(await ask(h.signing, q(false)));
    expect(compact.rcode).toBe(0);
    expect(typesIn(compact.authority)).toEqual(['SOA', 'RRSIG', 'NSEC', 'RRSIG']);
    expect(compact.authority[2]).toMatch(/^nx\.gslb\.example\.com\. /);
    // Next name \000.nx.gslb.example.com., then window 0 with RRSIG (46), NSEC (47), NXNAME (128).
    const nsec = await ask(h.signing, q(false));
    const bitmap = Buffer.from([0, 17, ...Array<number>(5).fill(0), 0x03, ...Array<number>(10).fill(0), 0x80]);
    expect(
      nsec.includes(Buffer.concat([Buffer.from('\x01\x00\x02nx\x04gslb\x07example\x03com\x00', 'latin1'), bitmap])),
    ).toBe(true);
    const withCo = await ask(h.signing, q(true));
    expect(decodeMessage(withCo).rcode).toBe(3);
    expect(withCo.subarray(-11)[0]).toBe(0);
    expect(withCo.subarray(-11).readUInt16BE(7) & 0x4000).toBe(0x4000);
    // Without DO, the NXDOMAIN of old.
    expect(decodeMessage(await ask(h.signing, buildQuery(`nx.${ZONE}`, T.A, { edns: {} }))).rcode).toBe(3);
  });

  it('counts the signatures made and the signature cache hits in /metrics', async () => {
    const line = await h.signing.waitForLog((l) => l.msg === 'api listening');
    const scrape = async () => {
      const res = await fetch(`http://127.0.0.1:${line.port as number}/metrics`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const text = await res.text();
      const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
      return {
        made: value(/^gslbd_dnssec_signatures_total (\d+)/m),
        hit: value(/^gslbd_dnssec_signature_cache_total\{result="hit"\} (\d+)/m),
        miss: value(/^gslbd_dnssec_signature_cache_total\{result="miss"\} (\d+)/m),
      };
    };
    const before = await scrape();
    const q = buildQuery(`failover.${ZONE}`, T.A, { edns: { do: true } });
    for (let i = 0; i < 3; i++) await ask(h.signing, q);
    const after = await scrape();
    // The first answer may have been signed earlier in this window: one signature at most, the rest hits.
    expect(after.made - before.made).toBeLessThanOrEqual(1);
    expect(after.hit - before.hit).toBeGreaterThanOrEqual(2);
    expect(after.hit + after.miss - before.hit - before.miss).toBe(3);
  });

  it('sets TC=1 on a signed answer larger than the UDP size, and gives it whole over TCP', async () => {
    const q = buildQuery(`big.${ZONE}`, T.TXT, { edns: { do: true, payload: 1200 } });
    const udp = decodeMessage(await ask(h.signing, q));
    expect(udp.flags & 0x0200).toBe(0x0200);
    expect(udp.answer).toEqual([]);
    const [tcp] = await tcpExchange(h.signing.port, [q]);
    const whole = decodeMessage(tcp!);
    expect(whole.flags & 0x0200).toBe(0);
    expect(typesIn(whole.answer)).toEqual(['TXT', 'TXT', 'TXT', 'TXT', 'RRSIG']);
    // Unsigned, the same answer fits.
    const plain = decodeMessage(await ask(h.signing, buildQuery(`big.${ZONE}`, T.TXT, { edns: { payload: 1200 } })));
    expect(plain.flags & 0x0200).toBe(0);
  });
});
