// EDNS Client Subnet (RFC 7871) in pool answers, against a running gslbd (test/fixtures/gslb): the
// option echoed with the widest correct scope for each policy, and malformed options refused.
// Geo scopes (min of source prefix and database prefix) are in gslb-geo.test.ts, where the
// expected prefix comes from the database.

import { describe, expect, it } from 'vitest';
import { Rcode, Type } from '../../src/0-base/constants.ts';
import { dig } from '../helpers/dig.ts';
import { startGslbd } from '../helpers/gslbd.ts';
import { forTests } from '../helpers/fixture.ts';
import { ecsOption, GSLB_FIXTURE, poolQuery, readReply, UdpClient } from '../helpers/pool-queries.ts';
import { buildQuery } from '../helpers/raw.ts';

const ZONE = 'gslb.example.net.';
const name = (label: string) => `${label}.${ZONE}`;

const server = forTests(
  () => startGslbd(['--zones', GSLB_FIXTURE]),
  (it) => it.stop(),
);
const udp = forTests(
  async () => new UdpClient(server.port),
  (it) => it.close(),
);

const ask = async (label: string, qtype: number, subnet?: string) =>
  readReply(await udp.query(poolQuery(name(label), qtype, subnet)));

describe('ECS scope of pool answers', () => {
  it.each(['rr', 'weighted-sequential', 'random', 'failover', 'least-load'])(
    '%s does not depend on the client: scope 0, shown by dig +subnet',
    async (label) => {
      const r = await dig(server.port, [name(label), 'A', '+subnet=198.51.100.0/24']);
      expect(r.status).toBe('NOERROR');
      expect(r.answer.length).toBeGreaterThan(0);
      expect(r.edns?.['CLIENT-SUBNET']).toBe('198.51.100.0/24/0');
    },
  );

  it.each(['rr', 'www', 'failover'])('%s: scope 0 for IPv6 clients and AAAA too', async (label) => {
    const r = await ask(label, Type.AAAA, '2001:db8:1:2::/56');
    expect(r.answer.length).toBeGreaterThan(0);
    expect(r.ecs).toEqual({ family: 2, sourcePrefix: 56, scopePrefix: 0, address: '20010db8000100' });
  });

  it.each([
    ['198.51.100.0/24', 24],
    ['198.51.0.0/16', 16],
    ['198.51.100.128/25', 24],
    ['198.51.100.7/32', 24],
    ['0.0.0.0/0', 0],
  ] as const)('affinity hashes IPv4 /24: ECS %s gets scope %i = min(source, 24)', async (subnet, scope) => {
    const r = await ask('sticky', Type.A, subnet);
    expect(r.answer).toHaveLength(1);
    expect(r.ecs?.scopePrefix).toBe(scope);
  });

  it.each([
    ['2001:db8:aa:bb00::/56', 56],
    ['2001:db8:aa:bbcc::/64', 56],
    ['2001:db8:aa::/48', 48],
    ['2001:db8:aa:bbcc::1/128', 56],
  ] as const)('affinity hashes IPv6 /56: ECS %s gets scope %i = min(source, 56)', async (subnet, scope) => {
    const r = await ask('sticky', Type.AAAA, subnet);
    expect(r.answer).toHaveLength(1);
    expect(r.ecs?.scopePrefix).toBe(scope);
  });

  it('affinity scope through dig: +subnet=…/24 shows scope 24', async () => {
    const r = await dig(server.port, [name('sticky'), 'A', '+subnet=203.0.113.0/24']);
    expect(r.edns?.['CLIENT-SUBNET']).toBe('203.0.113.0/24/24');
  });

  it('an IPv6 client asking A (and an IPv4 client asking AAAA) gets the affinity scope of its own family', async () => {
    expect((await ask('sticky', Type.A, '2001:db8:aa:bb00::/56')).ecs?.scopePrefix).toBe(56);
    expect((await ask('sticky', Type.AAAA, '198.51.100.0/24')).ecs?.scopePrefix).toBe(24);
  });

  it('is 0 for static data and negative answers', async () => {
    for (const [label, qtype, rcode] of [
      ['ns1', Type.A, Rcode.NOERROR],
      ['nothing', Type.A, Rcode.NXDOMAIN],
      ['www', Type.TXT, Rcode.NOERROR],
    ] as const) {
      const r = await ask(label, qtype, '198.51.100.0/24');
      expect(r.rcode).toBe(rcode);
      expect(r.ecs?.scopePrefix).toBe(0);
    }
  });

  it('holds over TCP too', async () => {
    const r = await dig(server.port, [name('sticky'), 'A', '+subnet=203.0.113.0/24', '+tcp']);
    expect(r.edns?.['CLIENT-SUBNET']).toBe('203.0.113.0/24/24');
  });
});

describe('ECS option echoed (RFC 7871 §7.2.1)', () => {
  it.each([
    ['198.51.100.0/24', 1, 24, 'c63364'],
    ['198.51.100.0/22', 1, 22, 'c63364'],
    ['198.51.100.77/32', 1, 32, 'c633644d'],
    ['0.0.0.0/0', 1, 0, ''],
    ['2001:db8:ab:cd00::/56', 2, 56, '20010db800abcd'],
    ['2001:db8::/29', 2, 29, '20010db8'],
  ] as const)('repeats family, source prefix and address of %s', async (subnet, family, source, address) => {
    const sent = ecsOption(subnet);
    const r = await ask('sticky', Type.A, subnet);
    expect(r.ecs).toMatchObject({ family, sourcePrefix: source, address });
    // Byte for byte, apart from the scope the server fills in.
    expect(sent.subarray(8).toString('hex')).toBe(address);
  });

  it('answers without an ECS option when the query had none', async () => {
    const r = await ask('sticky', Type.A);
    expect(r.edns).toBe(true);
    expect(r.ecs).toBeNull();
  });
});

describe('malformed ECS → FORMERR (RFC 7871 §7.1)', () => {
  /** An ECS option from raw parts: family, source prefix, scope prefix, address octets. */
  const raw = (family: number, source: number, scope: number, address: number[]): Buffer => {
    const o = Buffer.alloc(8 + address.length);
    o.writeUInt16BE(8, 0);
    o.writeUInt16BE(4 + address.length, 2);
    o.writeUInt16BE(family, 4);
    o[6] = source;
    o[7] = scope;
    Buffer.from(address).copy(o, 8);
    return o;
  };

  it.each([
    ['an unknown family', raw(3, 24, 0, [198, 51, 100])],
    ['an IPv4 source prefix over 32', raw(1, 33, 0, [198, 51, 100, 1, 0])],
    ['an IPv6 source prefix over 128', raw(2, 129, 0, Array(17).fill(0x20))],
    ['a scope prefix set in a query', raw(1, 24, 24, [198, 51, 100])],
    ['more address octets than the prefix needs', raw(1, 16, 0, [198, 51, 100])],
    ['fewer address octets than the prefix needs', raw(1, 24, 0, [198, 51])],
    ['address bits set beyond the prefix', raw(1, 22, 0, [198, 51, 101])],
    ['an option shorter than its fixed part', Buffer.from([0, 8, 0, 3, 0, 1, 24])],
    ['two ECS options', Buffer.concat([ecsOption('198.51.100.0/24'), ecsOption('203.0.113.0/24')])],
  ])('answers FORMERR for %s, with an OPT and no ECS', async (_what, options) => {
    const reply = await udp.query(buildQuery(name('sticky'), Type.A, { edns: { options } }));
    const r = readReply(reply);
    expect(r.rcode).toBe(Rcode.FORMERR);
    expect(r.answer).toEqual([]);
    expect(r.edns).toBe(true);
    expect(r.ecs).toBeNull();
  });

  it('answers FORMERR to dig sending a malformed option (+ednsopt)', async () => {
    // family 1, source /24, scope /24: a scope in a query is malformed (§7.1.1 / §6).
    const r = await dig(server.port, [name('sticky'), 'A', '+ednsopt=8:00011818c63364']);
    expect(r.status).toBe('FORMERR');
  });
});
