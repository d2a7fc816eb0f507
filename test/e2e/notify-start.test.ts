// The NOTIFYs of a start go out once gslbd answers: a secondary that asks for the SOA the moment it
// is notified (as Knot and BIND do) gets it, from the one process or from the workers. Sent before
// the sockets were bound, its query met a closed port, and it waited for its next SOA refresh (an
// hour for the catalog zone) to learn of a change made while gslbd was down.

import dgram from 'node:dgram';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rcode, Type } from '../../src/0-base/constants.ts';
import { ROOT, startGslbd } from '../helpers/gslbd.ts';
import { freePort } from '../helpers/knot.ts';
import { until } from '../helpers/listeners.ts';
import { buildQuery, rcodeOf, udpExchange } from '../helpers/raw.ts';

const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-notify-start-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const zones = path.join(work, 'zones');
cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
rmSync(path.join(zones, 'README.md'), { force: true });

/** A secondary on loopback that answers each NOTIFY and at once asks gslbd for the zone's SOA. */
async function eagerSecondary(gslbdPort: () => number) {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const soa: (number | null)[] = [];
  sock.on('message', (msg, from) => {
    if (((msg.readUInt16BE(2) >> 11) & 0xf) !== 4) return;
    const reply = Buffer.from(msg);
    reply.writeUInt16BE(msg.readUInt16BE(2) | 0x8000, 2);
    sock.send(reply, from.port, from.address);
    // The zone asked for is the NOTIFY's question; every zone notified here is one of these.
    const zone = msg.includes(Buffer.from('\x07catalog')) ? 'catalog.gslb.invalid.' : 'example.com.';
    void udpExchange(gslbdPort(), buildQuery(zone, Type.SOA), 1000).then((r) => soa.push(r && rcodeOf(r)));
  });
  return { port: sock.address().port, soa, close: () => sock.close() };
}

describe('NOTIFY at start', () => {
  it.each([1, 2])(
    'reaches a secondary only once gslbd answers its SOA query (--workers %i)',
    async (workers) => {
      let port = 0;
      const secondary = await eagerSecondary(() => port);
      try {
        port = await freePort();
        const config = path.join(work, `gslbd-${workers}.yaml`);
        writeFileSync(
          config,
          [
            `zones: ${zones}`,
            'catalog:',
            '  zone: catalog.gslb.invalid.',
            'zones-options:',
            ...['catalog.gslb.invalid.', 'example.com.'].flatMap((z) => [
              `  ${z}:`,
              '    transfer: { allow: ["127.0.0.1"] }',
              `    notify: ["127.0.0.1:${secondary.port}"]`,
            ]),
            '',
          ].join('\n'),
        );
        const g = await startGslbd(['--config', config, '--listen', `127.0.0.1:${port}`, '--workers', String(workers)]);
        try {
          await until(() => secondary.soa.length >= 2, 10_000, 'the secondary to be notified of both zones');
          expect(secondary.soa).toEqual([Rcode.NOERROR, Rcode.NOERROR]);
        } finally {
          await g.stop();
        }
      } finally {
        secondary.close();
      }
    },
    30_000,
  );
});
