// The example zones in zones/ are what a new user serves first: they must load cleanly here and,
// where Knot is installed, pass its own semantic checks too.

import { describe, it, expect } from 'vitest';
import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { Type } from '../../src/0-base/constants.ts';
import { keyFromText, keyOf, parseName } from '../../src/0-base/name.ts';
import { checkZones } from '../../src/4-gslb/check.ts';
import { loadZones } from '../../src/4-gslb/load.ts';
import { parseZone } from '../../src/2-zone/parser.ts';
import { tempDir } from './helpers.ts';

const ZONES = path.resolve(import.meta.dirname, '../../zones');
const k = (text: string) => keyFromText(text);
const run = promisify(execFile);
const installed = (cmd: string, arg: string) =>
  run(cmd, [arg]).then(
    () => true,
    () => false,
  );

/** Knot configuration serving zones/ from `dir`, on `port` if given. */
async function knotConf(dir: string, port?: number): Promise<string> {
  const conf = path.join(dir, 'knot.conf');
  await writeFile(
    conf,
    [
      'server:',
      `    rundir: "${dir}"`,
      ...(port ? [`    listen: 127.0.0.1@${port}`] : []),
      'database:',
      `    storage: "${dir}"`,
      'acl:',
      '  - id: axfr',
      '    address: 127.0.0.1',
      '    action: transfer',
      'template:',
      '  - id: default',
      `    storage: "${ZONES}"`,
      '    file: "%s.zone"',
      '    semantic-checks: on',
      '    acl: axfr',
      'zone:',
      '  - domain: example.com',
      '  - domain: gslb.example.com',
      '  - domain: 2.0.192.in-addr.arpa',
      '',
    ].join('\n'),
  );
  return conf;
}

/** A TCP port nobody listens on now. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

describe('zones/', () => {
  it('loads with no error and no warning', async () => {
    const r = await checkZones(ZONES);
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.zones.map((z) => z.origin)).toEqual(['2.0.192.in-addr.arpa.', 'example.com.', 'gslb.example.com.']);
  });

  it('example.com shows the features it is meant to', async () => {
    const zone = (await loadZones(ZONES)).zones.find((z) => z.origin === k('example.com.'))!;
    const types = (name: string) => [...(zone.nodes.get(k(name))?.rrsets.keys() ?? [])];
    expect(zone.cuts).toEqual(new Set([k('sub.example.com.'), k('gslb.example.com.')]));
    expect(types('sub.example.com.')).toEqual([Type.NS, Type.DS]);
    expect(types('b.c.example.com.')).toEqual([]); // an empty non-terminal
    expect(types('*.wild.example.com.')).toEqual([Type.A]);
    expect(types('*.cdn.example.com.')).toEqual([Type.CNAME]);
    expect(types('opaque.example.com.')).toEqual([65534]);
    expect(zone.nodes.get(k('alias.example.com.'))!.rrsets.get(Type.CNAME)!.targets).toEqual([k('web.example.com.')]);
    const txt = zone.nodes.get(k('mail.example.com.'))!.rrsets.get(Type.TXT)!;
    expect(txt.rdata[0]!.includes(Buffer.from('"quoted" words and a ✓ check mark'))).toBe(true);
  });

  it('passes Knot DNS semantic checks (knotc zone-check), when Knot is installed', async (ctx) => {
    if (!(await installed('knotc', '--version'))) return ctx.skip();
    const conf = await knotConf(await tempDir({}));
    const r = await run('knotc', ['-c', conf, 'zone-check']).then(
      (o) => ({ code: 0, out: o.stdout + o.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(r).toEqual({ code: 0, out: '' });
  });

  it('encodes every RR exactly as Knot DNS does (AXFR from knotd in RFC 3597 form), when installed', async (ctx) => {
    if (!(await installed('knotd', '--version')) || !(await installed('dig', '-v'))) return ctx.skip();
    const dir = await tempDir({});
    const port = await freePort();
    const knotd = spawn('knotd', ['-c', await knotConf(dir, port)], { stdio: 'ignore' });
    try {
      const { zones } = await loadZones(ZONES);
      for (const origin of ['example.com.', '2.0.192.in-addr.arpa.']) {
        // Until knotd listens, dig fails: retry for a few seconds.
        const axfr = () =>
          run('dig', [
            '@127.0.0.1',
            '-p',
            String(port),
            origin,
            'AXFR',
            '+noall',
            '+answer',
            '+unknownformat',
            '+tries=1',
          ]).then(
            (o) => o.stdout,
            () => '',
          );
        let text = await axfr();
        for (let i = 0; i < 50 && !text.includes('TYPE6'); i++) {
          await sleep(100);
          text = await axfr();
        }
        const theirs = await parseZone(text, 'axfr', parseName(origin, null));
        expect(theirs.errors).toEqual([]);
        const rrs = new Set(
          theirs.records.map((r) => `${keyOf(r.owner)} ${r.type} ${r.ttl} ${r.rdata.toString('hex')}`),
        );
        const ours = new Set<string>();
        for (const node of zones.find((z) => z.origin === k(origin))!.nodes.values()) {
          for (const set of node.rrsets.values())
            for (const rd of set.rdata) ours.add(`${node.name} ${set.type} ${set.ttl} ${rd.toString('hex')}`);
        }
        expect(ours).toEqual(rrs);
      }
    } finally {
      if (knotd.exitCode === null && knotd.signalCode === null) {
        const exited = new Promise((resolve) => knotd.once('exit', resolve));
        knotd.kill();
        await exited;
      }
    }
  });
});
