// RFC 2136 UPDATE processing, driven through createUpdateHandler with hand-built messages against
// the zones of test/fixtures/update and an in-memory JournaledStore; every effect is read back
// through the answer path (createHandler), as a client would see it.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Class, Rcode, Type } from '../../src/0-base/constants.ts';
import { createHandler, type Handler } from '../../src/6-serve/handler.ts';
import { keyFromText, nameToText } from '../../src/0-base/name.ts';
import { signRequest, verifyResponse, TsigError, type TsigKey } from '../../src/1-codec/tsig.ts';
import { applyPoolEdits } from '../../src/4-gslb/edits.ts';
import { JournaledStore } from '../../src/7-state/store.ts';
import { NotDurableError, type Changeset, type StateStore } from '../../src/7-state/types.ts';
import { createUpdateHandler } from '../../src/8-update/rfc2136.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import { applyEdits } from '../../src/2-zone/overlay.ts';
import { ZoneStore } from '../../src/2-zone/store.ts';
import type { PooledZone } from '../../src/4-gslb/pool.ts';
import { ROOT } from '../helpers/gslbd.ts';
import { decodeMessage } from '../helpers/message.ts';
import { buildQuery } from '../helpers/raw.ts';
import {
  add,
  deleteName,
  deleteRR,
  deleteRRset,
  encodeRecord,
  makeKey,
  nameInUse,
  nameNotInUse,
  record,
  responseHeader,
  rrsetAbsent,
  rrsetEquals,
  rrsetExists,
  updateMessage,
  wireName,
  type UpdateSpec,
} from './helpers.ts';

const FIXTURES = path.join(ROOT, 'test/fixtures/update');
const ZONE = 'dyn.example.net.';
const NOW = 1_700_000_000_000;
const SERIAL = 2024060101;

const monitor = makeKey('monitor-key.', 'hmac-sha256', [ZONE]);
const otherKey = makeKey('other-key.', 'hmac-sha512', ['other.example.net.']);
const everyZone = makeKey('every-zone-key.', 'hmac-sha1');

const quiet = { info: () => {}, warn: () => {}, debug: () => {}, error: () => {} };

interface Harness {
  readonly zones: ZoneStore;
  readonly commits: Changeset[];
  /** Sends `spec` for `zone`, signed with `key` (null: unsigned). */
  update(spec: UpdateSpec, opts?: { key?: TsigKey | null; zone?: string; now?: number; raw?: Buffer }): Promise<Reply>;
  /** RDATA texts the answer path gives for `name` `type`, sorted. */
  lookup(name: string, type: number): string[];
  serial(zone?: string): number;
}

interface Reply {
  readonly rcode: number;
  readonly header: ReturnType<typeof responseHeader>;
  readonly response: Buffer;
  /** The response's TSIG as the client checks it. */
  readonly tsig: string;
}

/** Zones of the fixtures in a ZoneStore republished on each commit, as Service does. */
async function harness(opts: { state?: (s: JournaledStore) => StateStore } = {}): Promise<Harness> {
  const loaded = await loadZones(FIXTURES);
  expect(loaded.failures).toEqual([]);
  const zones = new ZoneStore<PooledZone>();
  const store = new JournaledStore(null, () => NOW);
  const commits: Changeset[] = [];
  const publish = () =>
    zones.put(...loaded.zones.map((z) => applyPoolEdits(applyEdits(z, store.rrsets(nameToText(z.origin))), store)));
  publish();
  store.onChange((cs) => {
    commits.push(cs);
    publish();
  });
  const state = opts.state ? opts.state(store) : store;
  const onUpdate = createUpdateHandler({
    zones,
    state,
    keys: [monitor, otherKey, everyZone],
    now: () => NOW,
    log: quiet,
  });
  const answers: Handler = createHandler({ zones });
  return {
    zones,
    commits,
    async update(spec, o = {}) {
      const key = o.key === undefined ? monitor : o.key;
      const plain = o.raw ?? updateMessage(o.zone ?? ZONE, spec);
      const signed = key ? signRequest(plain, key, o.now ?? NOW) : { message: plain, mac: Buffer.alloc(0) };
      const response = (await onUpdate(signed.message, { tcp: false, address: '127.0.0.1' }))!;
      const v = key ? verifyResponse(response, key, signed.mac, o.now ?? NOW) : null;
      const tsig =
        v === null
          ? response.readUInt16BE(10)
            ? 'unexpected TSIG'
            : 'none'
          : v.kind === 'error'
            ? `error ${v.tsigError}`
            : v.kind;
      return { rcode: responseHeader(response).rcode, header: responseHeader(response), response, tsig };
    },
    lookup(name, type) {
      const out = answers(buildQuery(name, type), { tcp: true, address: '192.0.2.99' }) as Buffer;
      return decodeMessage(out)
        .answer.map((a) => a.split(' ').slice(4).join(' '))
        .sort();
    },
    serial(zone = ZONE) {
      return zones.get(keyFromText(zone))!.serial;
    },
  };
}

describe('RFC 2136 §3.1: zone section', () => {
  it('answers NOERROR with QR, opcode UPDATE, the ID, the zone section echoed and the TSIG of the request key', async () => {
    const h = await harness();
    const r = await h.update({ id: 0x7777, update: [await add('new.dyn.example.net. 300 IN A 192.0.2.77')] });
    expect(r.header).toEqual({
      id: 0x7777,
      qr: true,
      opcode: 5,
      rcode: Rcode.NOERROR,
      zocount: 1,
      prcount: 0,
      upcount: 0,
      adcount: 1,
    });
    expect(
      r.response
        .subarray(12, 12 + wireName(ZONE).length + 4)
        .equals(Buffer.concat([wireName(ZONE), Buffer.from([0, 6, 0, 1])])),
    ).toBe(true);
    expect(r.tsig).toBe('ok');
  });

  it('is FORMERR without exactly one zone, or with a zone type other than SOA, or a meta-class', async () => {
    const h = await harness();
    expect((await h.update({ zones: [] })).rcode).toBe(Rcode.FORMERR);
    expect((await h.update({ zones: [{ name: ZONE }, { name: ZONE }] })).rcode).toBe(Rcode.FORMERR);
    expect((await h.update({ zones: [{ name: ZONE, type: Type.NS }] })).rcode).toBe(Rcode.FORMERR);
    expect((await h.update({ zones: [{ name: ZONE, klass: Class.ANY }] })).rcode).toBe(Rcode.FORMERR);
    const r = await h.update({ zones: [] });
    expect(r.header.zocount).toBe(0);
    expect(r.tsig).toBe('ok');
  });

  it('is NOTAUTH for a zone not served here, a name inside a zone, or another class', async () => {
    const h = await harness();
    expect((await h.update({}, { zone: 'example.org.' })).rcode).toBe(Rcode.NOTAUTH);
    expect((await h.update({}, { zone: `static.${ZONE}` })).rcode).toBe(Rcode.NOTAUTH);
    expect((await h.update({ zones: [{ name: ZONE, klass: Class.CH }] })).rcode).toBe(Rcode.NOTAUTH);
  });

  it('is FORMERR for a record cut short, and for a compression pointer that points forwards', async () => {
    const h = await harness();
    const good = updateMessage(ZONE, { update: [await add('x.dyn.example.net. 60 IN A 192.0.2.1')] });
    expect((await h.update({}, { raw: good.subarray(0, good.length - 2) })).rcode).toBe(Rcode.FORMERR);
    const forward = Buffer.from(good);
    forward.writeUInt16BE(0xc000 | (good.length - 4), 12 + wireName(ZONE).length + 4);
    expect((await h.update({}, { raw: forward })).rcode).toBe(Rcode.FORMERR);
    expect(h.commits).toEqual([]);
  });
});

describe('TSIG and permission (RFC 8945 §5.2, RFC 2136 §3.3)', () => {
  const change = () => add('new.dyn.example.net. 300 IN A 192.0.2.77');

  it('refuses an unsigned update', async () => {
    const h = await harness();
    const r = await h.update({ update: [await change()] }, { key: null });
    expect([r.rcode, r.tsig]).toEqual([Rcode.REFUSED, 'none']);
    expect(h.commits).toEqual([]);
  });

  it('refuses a key for a zone not listed for it; a key without zones may update any', async () => {
    const h = await harness();
    expect((await h.update({ update: [await change()] }, { key: otherKey })).rcode).toBe(Rcode.REFUSED);
    expect(h.commits).toEqual([]);
    expect(
      (
        await h.update(
          { update: [await add('host.other.example.net. 60 IN A 192.0.2.9')] },
          { key: otherKey, zone: 'other.example.net.' },
        )
      ).rcode,
    ).toBe(Rcode.NOERROR);
    expect((await h.update({ update: [await change()] }, { key: everyZone })).rcode).toBe(Rcode.NOERROR);
    expect(h.commits.map((c) => c.source)).toEqual(['update:other-key.', 'update:every-zone-key.']);
  });

  it('is NOTAUTH with BADKEY, BADSIG or BADTIME in the TSIG, and changes nothing', async () => {
    const h = await harness();
    const spec = { update: [await change()] };
    const stranger = makeKey('stranger.');
    expect(await h.update(spec, { key: stranger }).then((r) => [r.rcode, r.tsig])).toEqual([
      Rcode.NOTAUTH,
      `error ${TsigError.BADKEY}`,
    ]);
    const forged = { ...monitor, secret: Buffer.alloc(32) };
    expect(await h.update(spec, { key: forged }).then((r) => [r.rcode, r.tsig])).toEqual([
      Rcode.NOTAUTH,
      `error ${TsigError.BADSIG}`,
    ]);
    const late = await h.update(spec, { now: NOW - 600_000 });
    expect([late.rcode, late.tsig]).toEqual([Rcode.NOTAUTH, `error ${TsigError.BADTIME}`]);
    expect(late.header.zocount).toBe(1);
    expect(h.commits).toEqual([]);
    expect(h.lookup('new.dyn.example.net.', Type.A)).toEqual([]);
  });
});

describe('RFC 2136 §3.2: prerequisites', () => {
  it('RRset exists (value-independent): NXRRSET when it does not', async () => {
    const h = await harness();
    expect((await h.update({ prereq: [rrsetExists('static.dyn.example.net.', Type.TXT)] })).rcode).toBe(Rcode.NOERROR);
    expect((await h.update({ prereq: [rrsetExists('static.dyn.example.net.', Type.MX)] })).rcode).toBe(Rcode.NXRRSET);
    expect((await h.update({ prereq: [rrsetExists('nothing.dyn.example.net.', Type.A)] })).rcode).toBe(Rcode.NXRRSET);
  });

  it('RRset exists (value-dependent): the whole RRset, in any order, names in any case', async () => {
    const h = await harness();
    const both = [
      await rrsetEquals('multi.dyn.example.net. 0 IN A 192.0.2.12'),
      await rrsetEquals('multi.dyn.example.net. 0 IN A 192.0.2.11'),
    ];
    expect((await h.update({ prereq: both })).rcode).toBe(Rcode.NOERROR);
    expect((await h.update({ prereq: [both[0]!] })).rcode).toBe(Rcode.NXRRSET);
    expect(
      (await h.update({ prereq: [...both, await rrsetEquals('multi.dyn.example.net. 0 IN A 192.0.2.13')] })).rcode,
    ).toBe(Rcode.NXRRSET);
    expect(
      (await h.update({ prereq: [await rrsetEquals('mail.dyn.example.net. 0 IN MX 10 MX1.Dyn.Example.Net.')] })).rcode,
    ).toBe(Rcode.NOERROR);
    expect(
      (await h.update({ prereq: [await rrsetEquals('mail.dyn.example.net. 0 IN MX 20 mx1.dyn.example.net.')] })).rcode,
    ).toBe(Rcode.NXRRSET);
  });

  it('RRset does not exist: YXRRSET when it does', async () => {
    const h = await harness();
    expect((await h.update({ prereq: [rrsetAbsent('static.dyn.example.net.', Type.MX)] })).rcode).toBe(Rcode.NOERROR);
    expect((await h.update({ prereq: [rrsetAbsent('static.dyn.example.net.', Type.A)] })).rcode).toBe(Rcode.YXRRSET);
  });

  it('name is in use: NXDOMAIN when it is not (an empty non-terminal is not)', async () => {
    const h = await harness();
    expect((await h.update({ prereq: [nameInUse('alias.dyn.example.net.')] })).rcode).toBe(Rcode.NOERROR);
    expect((await h.update({ prereq: [nameInUse('nothing.dyn.example.net.')] })).rcode).toBe(Rcode.NXDOMAIN);
    expect((await h.update({ prereq: [nameInUse('b.ent.dyn.example.net.')] })).rcode).toBe(Rcode.NXDOMAIN);
  });

  it('name is not in use: YXDOMAIN when it is', async () => {
    const h = await harness();
    expect((await h.update({ prereq: [nameNotInUse('nothing.dyn.example.net.')] })).rcode).toBe(Rcode.NOERROR);
    expect((await h.update({ prereq: [nameNotInUse('static.dyn.example.net.')] })).rcode).toBe(Rcode.YXDOMAIN);
  });

  it("sees a pool name's targets as its A and AAAA RRsets", async () => {
    const h = await harness();
    expect(
      (await h.update({ prereq: [nameInUse('www.dyn.example.net.'), rrsetExists('www.dyn.example.net.', Type.AAAA)] }))
        .rcode,
    ).toBe(Rcode.NOERROR);
    const v4 = [
      await rrsetEquals('www.dyn.example.net. 0 IN A 198.51.100.2'),
      await rrsetEquals('www.dyn.example.net. 0 IN A 198.51.100.1'),
    ];
    expect((await h.update({ prereq: v4 })).rcode).toBe(Rcode.NOERROR);
    expect((await h.update({ prereq: [rrsetAbsent('www.dyn.example.net.', Type.A)] })).rcode).toBe(Rcode.YXRRSET);
  });

  it('is FORMERR for a TTL, for RDATA with class ANY or NONE, for another class; NOTZONE outside the zone', async () => {
    const h = await harness();
    expect((await h.update({ prereq: [{ ...rrsetExists('static.dyn.example.net.', Type.A), ttl: 1 }] })).rcode).toBe(
      Rcode.FORMERR,
    );
    expect(
      (
        await h.update({
          prereq: [await rrsetEquals('static.dyn.example.net. 5 IN A 192.0.2.1').then((r) => ({ ...r, ttl: 5 }))],
        })
      ).rcode,
    ).toBe(Rcode.FORMERR);
    expect(
      (
        await h.update({
          prereq: [{ ...rrsetExists('static.dyn.example.net.', Type.A), rdata: Buffer.from([192, 0, 2, 1]) }],
        })
      ).rcode,
    ).toBe(Rcode.FORMERR);
    expect(
      (
        await h.update({
          prereq: [{ ...rrsetAbsent('static.dyn.example.net.', Type.A), rdata: Buffer.from([192, 0, 2, 1]) }],
        })
      ).rcode,
    ).toBe(Rcode.FORMERR);
    expect(
      (await h.update({ prereq: [{ ...rrsetExists('static.dyn.example.net.', Type.A), klass: Class.CH }] })).rcode,
    ).toBe(Rcode.FORMERR);
    expect((await h.update({ prereq: [nameInUse('host.other.example.net.')] })).rcode).toBe(Rcode.NOTZONE);
    // A name of a child zone served here is the child's, not this zone's.
    expect((await h.update({ prereq: [nameInUse('inside.child.dyn.example.net.')] })).rcode).toBe(Rcode.NOTZONE);
  });

  it('checks in section order, before any update, and applies nothing when one fails', async () => {
    const h = await harness();
    const r = await h.update({
      prereq: [
        nameInUse('static.dyn.example.net.'),
        rrsetAbsent('static.dyn.example.net.', Type.TXT),
        nameInUse('nothing.dyn.example.net.'),
      ],
      update: [await add('new.dyn.example.net. 300 IN A 192.0.2.77')],
    });
    expect(r.rcode).toBe(Rcode.YXRRSET);
    expect(h.commits).toEqual([]);
  });
});

describe('RFC 2136 §3.4.1: update prescan', () => {
  it('is NOTZONE for a name outside the zone or in a child zone, and applies none of the update', async () => {
    const h = await harness();
    const ok = await add('new.dyn.example.net. 300 IN A 192.0.2.77');
    expect((await h.update({ update: [ok, await add('x.example.org. 300 IN A 192.0.2.1')] })).rcode).toBe(
      Rcode.NOTZONE,
    );
    expect((await h.update({ update: [ok, await add('x.child.dyn.example.net. 300 IN A 192.0.2.1')] })).rcode).toBe(
      Rcode.NOTZONE,
    );
    expect(h.commits).toEqual([]);
    expect(h.lookup('new.dyn.example.net.', Type.A)).toEqual([]);
  });

  it('is FORMERR for meta types, bad class/TTL combinations and RDATA its type cannot have', async () => {
    const h = await harness();
    const name = 'x.dyn.example.net.';
    const cases = [
      { name, type: Type.ANY, klass: Class.IN, ttl: 60, rdata: Buffer.alloc(0) },
      { name, type: Type.AXFR, klass: Class.IN, ttl: 60, rdata: Buffer.alloc(0) },
      { name, type: Type.OPT, klass: Class.IN, ttl: 60, rdata: Buffer.alloc(0) },
      { name, type: 0, klass: Class.IN, ttl: 60, rdata: Buffer.alloc(0) },
      { ...deleteRRset(name, Type.A), ttl: 60 },
      { ...deleteRRset(name, Type.A), rdata: Buffer.from([192, 0, 2, 1]) },
      deleteRRset(name, Type.MAILA),
      { ...(await deleteRR(`${name} 60 IN A 192.0.2.1`)), ttl: 60 },
      { ...deleteName(name), klass: Class.NONE },
      { ...(await add(`${name} 60 IN A 192.0.2.1`)), klass: Class.CH },
      { ...(await add(`${name} 60 IN A 192.0.2.1`)), rdata: Buffer.from([192, 0, 2]) },
      { ...(await add(`${name} 60 IN MX 10 mx1.dyn.example.net.`)), rdata: Buffer.from([0, 10, 3, 0x61]) },
    ];
    for (const rr of cases) expect([rr, (await h.update({ update: [rr] })).rcode]).toEqual([rr, Rcode.FORMERR]);
    expect(h.commits).toEqual([]);
  });
});

describe('RFC 2136 §3.4.2: applying updates', () => {
  it('adds an RR to a new RRset and bumps the serial once, in one commit from the key', async () => {
    const h = await harness();
    const r = await h.update({
      update: [
        await add('new.dyn.example.net. 300 IN A 192.0.2.77'),
        await add('new.dyn.example.net. 300 IN TXT "hello"'),
      ],
    });
    expect(r.rcode).toBe(Rcode.NOERROR);
    expect(h.lookup('new.dyn.example.net.', Type.A)).toEqual(['192.0.2.77']);
    expect(h.lookup('new.dyn.example.net.', Type.TXT)).toEqual(['"hello"']);
    expect(h.serial()).toBe(SERIAL + 1);
    expect(h.commits).toHaveLength(1);
    expect(h.commits[0]!.source).toBe('update:monitor-key.');
  });

  it('adds to an existing RRset, the TTL becoming the new one; a duplicate is no change', async () => {
    const h = await harness();
    await h.update({ update: [await add('multi.dyn.example.net. 120 IN A 192.0.2.13')] });
    expect(h.lookup('multi.dyn.example.net.', Type.A)).toEqual(['192.0.2.11', '192.0.2.12', '192.0.2.13']);
    const dup = await h.update({ update: [await add('multi.dyn.example.net. 120 IN A 192.0.2.13')] });
    expect(dup.rcode).toBe(Rcode.NOERROR);
    expect(h.commits).toHaveLength(1);
    expect(h.serial()).toBe(SERIAL + 1);
  });

  it('deletes an RRset, all RRsets at a name, one RR', async () => {
    const h = await harness();
    expect((await h.update({ update: [deleteRRset('multi.dyn.example.net.', Type.A)] })).rcode).toBe(Rcode.NOERROR);
    expect(h.lookup('multi.dyn.example.net.', Type.A)).toEqual([]);
    expect(h.lookup('multi.dyn.example.net.', Type.AAAA)).toEqual(['2001:0db8:0000:0000:0000:0000:0000:0011']);
    expect((await h.update({ update: [deleteName('static.dyn.example.net.')] })).rcode).toBe(Rcode.NOERROR);
    expect(h.lookup('static.dyn.example.net.', Type.A)).toEqual([]);
    expect(h.lookup('static.dyn.example.net.', Type.TXT)).toEqual([]);
    expect(
      (await h.update({ update: [await deleteRR('mail.dyn.example.net. 0 IN MX 10 MX1.dyn.example.net.')] })).rcode,
    ).toBe(Rcode.NOERROR);
    expect(h.lookup('mail.dyn.example.net.', Type.MX)).toEqual([]);
    expect(h.serial()).toBe(SERIAL + 3);
  });

  it('keeps the apex SOA and NS on delete-name and delete-RRset, and the last apex NS', async () => {
    const h = await harness();
    await h.update({ update: [deleteName(ZONE), deleteRRset(ZONE, Type.NS), deleteRRset(ZONE, Type.SOA)] });
    expect(h.lookup(ZONE, Type.NS)).toEqual(['ns1.dyn.example.net.', 'ns2.dyn.example.net.']);
    await h.update({
      update: [
        await deleteRR(`${ZONE} 0 IN NS ns1.dyn.example.net.`),
        await deleteRR(`${ZONE} 0 IN NS ns2.dyn.example.net.`),
      ],
    });
    expect(h.lookup(ZONE, Type.NS)).toEqual(['ns2.dyn.example.net.']);
    expect(h.lookup(ZONE, Type.SOA)).toHaveLength(1);
  });

  it('ignores a CNAME beside other data, and other data beside a CNAME', async () => {
    const h = await harness();
    const r = await h.update({
      update: [
        await add('static.dyn.example.net. 60 IN CNAME www.dyn.example.net.'),
        await add('alias.dyn.example.net. 60 IN TXT "no"'),
      ],
    });
    expect(r.rcode).toBe(Rcode.NOERROR);
    expect(h.commits).toEqual([]);
  });

  it('takes an SOA with a newer serial as it is, and ignores one with an older serial', async () => {
    const h = await harness();
    await h.update({
      update: [
        await add(
          `${ZONE} 3600 IN SOA ns1.dyn.example.net. hostmaster.dyn.example.net. 2024060100 7200 900 1209600 300`,
        ),
      ],
    });
    expect(h.commits).toEqual([]);
    await h.update({
      update: [
        await add(
          `${ZONE} 3600 IN SOA ns1.dyn.example.net. hostmaster.dyn.example.net. 2030010100 7200 900 1209600 60`,
        ),
      ],
    });
    expect(h.serial()).toBe(2030010100);
  });

  it('reads names compressed in RDATA and stores them whole', async () => {
    const h = await harness();
    // MX exchange "mx2" + a pointer to the zone name at offset 12.
    const mx = {
      name: 'mail.dyn.example.net.',
      type: Type.MX,
      klass: Class.IN,
      ttl: 60,
      rdata: Buffer.from([0, 20, 3, 0x6d, 0x78, 0x32, 0xc0, 12]),
    };
    expect((await h.update({ update: [mx] })).rcode).toBe(Rcode.NOERROR);
    expect(h.lookup('mail.dyn.example.net.', Type.MX)).toEqual(['10 mx1.dyn.example.net.', '20 mx2.dyn.example.net.']);
  });

  it('applies the updates in order: add then delete of the same RR leaves nothing', async () => {
    const h = await harness();
    await h.update({
      update: [
        await add('tmp.dyn.example.net. 60 IN A 192.0.2.5'),
        await deleteRR('tmp.dyn.example.net. 0 IN A 192.0.2.5'),
      ],
    });
    expect(h.lookup('tmp.dyn.example.net.', Type.A)).toEqual([]);
    await h.update({
      update: [
        await add('www.dyn.example.net. 60 IN A 198.51.100.77'),
        await deleteRR('www.dyn.example.net. 0 IN A 198.51.100.77'),
      ],
    });
    expect(h.lookup('www.dyn.example.net.', Type.A)).toEqual(['198.51.100.1', '198.51.100.2']);
    expect(h.serial()).toBe(SERIAL);
    expect(h.commits).toEqual([]);
  });
});

describe('UPDATE at pool names', () => {
  it('adds and removes targets with A and AAAA', async () => {
    const h = await harness();
    await h.update({
      update: [
        await add('www.dyn.example.net. 300 IN A 198.51.100.9'),
        await add('www.dyn.example.net. 300 IN AAAA 2001:db8::9'),
      ],
    });
    expect(h.lookup('www.dyn.example.net.', Type.A)).toEqual(['198.51.100.1', '198.51.100.2', '198.51.100.9']);
    expect(h.lookup('www.dyn.example.net.', Type.AAAA)).toEqual([
      '2001:0db8:0000:0000:0000:0000:0000:0001',
      '2001:0db8:0000:0000:0000:0000:0000:0009',
    ]);
    await h.update({ update: [await deleteRR('www.dyn.example.net. 0 IN A 198.51.100.1')] });
    expect(h.lookup('www.dyn.example.net.', Type.A)).toEqual(['198.51.100.2', '198.51.100.9']);
    await h.update({ update: [deleteRRset('www.dyn.example.net.', Type.A)] });
    expect(h.lookup('www.dyn.example.net.', Type.A)).toEqual([]);
    expect(h.lookup('www.dyn.example.net.', Type.AAAA)).toHaveLength(2);
    expect(h.serial()).toBe(SERIAL + 3);
    expect(h.commits[0]!.changes.filter((c) => c.kind === 'target')).toEqual([
      { kind: 'target', pool: 'www.dyn.example.net.', address: '198.51.100.9', target: {} },
      { kind: 'target', pool: 'www.dyn.example.net.', address: '2001:db8::9', target: {} },
    ]);
  });

  it('refuses to add a target to a pool with groups (no group to put it in), and changes nothing', async () => {
    const h = await harness();
    const r = await h.update({
      update: [
        await add('new.dyn.example.net. 60 IN A 192.0.2.1'),
        await add('grouped.dyn.example.net. 60 IN A 198.51.100.32'),
      ],
    });
    expect(r.rcode).toBe(Rcode.REFUSED);
    expect(h.commits).toEqual([]);
    expect(h.lookup('grouped.dyn.example.net.', Type.A)).toEqual(['198.51.100.31']);
  });
});

describe('transactions', () => {
  it('answers only once the commit resolved, and SERVFAIL, with nothing applied, when it cannot be made durable', async () => {
    let release!: () => void;
    const h = await harness({
      state: (s) => ({
        // A store whose journal write takes until release(), and fails for one name (disk full).
        transact: async (source, build, after) => {
          const changes = build();
          await new Promise<void>((r) => (release = r));
          if (changes.some((c) => c.kind === 'rrset' && c.name === 'fail.dyn.example.net.'))
            throw new NotDurableError(new Error('disk full'));
          return s.transact(source, () => changes, after);
        },
        commit: (source, changes) => s.commit(source, changes),
        target: (id) => s.target(id),
        probes: () => s.probes(),
        rrsets: (z) => s.rrsets(z),
        targets: (p) => s.targets(p),
      }),
    });
    let answered = false;
    const pending = h
      .update({ update: [await add('new.dyn.example.net. 60 IN A 192.0.2.1')] })
      .then((r) => ((answered = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    release();
    expect((await pending).rcode).toBe(Rcode.NOERROR);
    const failing = h.update({ update: [await add('fail.dyn.example.net. 60 IN A 192.0.2.1')] });
    await new Promise((r) => setTimeout(r, 20));
    release();
    const r = await failing;
    expect([r.rcode, r.tsig]).toEqual([Rcode.SERVFAIL, 'ok']);
    expect(h.lookup('fail.dyn.example.net.', Type.A)).toEqual([]);
    expect(
      h.commits.map((c) => c.changes.some((x) => x.kind === 'rrset' && x.name === 'fail.dyn.example.net.')),
    ).toEqual([false]);
  });

  it('serializes concurrent updates: the second sees the first', async () => {
    const h = await harness();
    const claim = async (address: string) =>
      h.update({
        prereq: [nameNotInUse('claimed.dyn.example.net.')],
        update: [await add(`claimed.dyn.example.net. 60 IN A ${address}`)],
      });
    const results = await Promise.all([claim('192.0.2.1'), claim('192.0.2.2')]);
    expect(results.map((r) => r.rcode)).toEqual([Rcode.NOERROR, Rcode.YXDOMAIN]);
    expect(h.lookup('claimed.dyn.example.net.', Type.A)).toEqual(['192.0.2.1']);
  });

  it('echoes an OPT when the request had one, and answers BADVERS to EDNS version 1', async () => {
    const h = await harness();
    const opt = (version: number) => Buffer.from([0, 0, 41, 4, 0xd0, 0, version, 0, 0, 0, 0]);
    const r = await h.update({ additional: [opt(0)] });
    expect(r.rcode).toBe(Rcode.NOERROR);
    expect(decodeMessage(r.response.subarray(0, r.response.length)).opt).toMatchObject({ version: 0 });
    const bad = await h.update({ additional: [opt(1)] });
    expect(decodeMessage(bad.response).rcode).toBe(Rcode.BADVERS);
  });
});

// Keep the helpers' record builder honest: a record encodes as the zone parser wrote it.
it('encodes records with the owner uncompressed', async () => {
  const r = await record('a.dyn.example.net. 60 IN A 192.0.2.1');
  expect(encodeRecord(r).toString('hex')).toBe(
    `${wireName('a.dyn.example.net.').toString('hex')}000100010000003c0004c0000201`,
  );
});
