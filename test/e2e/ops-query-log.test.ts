// The sampled query log: off by default; `--query-log-sample N` (or `query-log-sample: N` in
// gslbd.yaml) logs every N-th query answered at info level, with its name, type, client and rcode.

import { afterEach, describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { runCli } from '../helpers/gslbd.ts';
import { FIXTURE, fqdn, startOps, type OpsServer } from '../helpers/ops.ts';

let s: OpsServer | undefined;
afterEach(async () => {
  await s?.stop();
  s = undefined;
});

const queryLines = (server: OpsServer) => server.gslbd.logs.filter((l) => l.msg === 'query');

/** Six queries: UDP and TCP, NOERROR, NXDOMAIN and REFUSED. */
async function sixQueries(port: number): Promise<void> {
  for (const q of [
    [fqdn('www'), 'A'],
    [fqdn('nothing'), 'A', '+tcp'],
    ['www.example.org', 'MX'],
    [fqdn('failover'), 'A'],
    [fqdn('www'), 'AAAA', '+tcp'],
    [fqdn('nothing'), 'TXT'],
  ])
    await dig(port, q);
}

describe('query log', { timeout: 60_000 }, () => {
  it('logs nothing by default, even at debug level', async () => {
    s = await startOps();
    await sixQueries(s.gslbd.port);
    // The queries were answered (and counted) before this scrape: their log lines would be out.
    await s.metrics();
    expect(queryLines(s)).toEqual([]);
  });

  it('--query-log-sample 1 logs every query: name, type, client, rcode and transport, at info', async () => {
    s = await startOps({ args: ['--query-log-sample', '1'] });
    await sixQueries(s.gslbd.port);
    const server = s;
    await server.gslbd.waitForLog(() => queryLines(server).length >= 6);
    expect(
      queryLines(s).map(({ level, qname, qtype, client, rcode, transport }) => ({
        level,
        qname,
        qtype,
        client,
        rcode,
        transport,
      })),
    ).toEqual([
      { level: 30, qname: fqdn('www'), qtype: 'A', client: '127.0.0.1', rcode: 'NOERROR', transport: 'udp' },
      { level: 30, qname: fqdn('nothing'), qtype: 'A', client: '127.0.0.1', rcode: 'NXDOMAIN', transport: 'tcp' },
      { level: 30, qname: 'www.example.org.', qtype: 'MX', client: '127.0.0.1', rcode: 'REFUSED', transport: 'udp' },
      { level: 30, qname: fqdn('failover'), qtype: 'A', client: '127.0.0.1', rcode: 'NOERROR', transport: 'udp' },
      { level: 30, qname: fqdn('www'), qtype: 'AAAA', client: '127.0.0.1', rcode: 'NOERROR', transport: 'tcp' },
      { level: 30, qname: fqdn('nothing'), qtype: 'TXT', client: '127.0.0.1', rcode: 'NXDOMAIN', transport: 'udp' },
    ]);
  });

  it('query-log-sample: 3 in gslbd.yaml logs every third query', async () => {
    s = await startOps({ config: ['query-log-sample: 3'] });
    await sixQueries(s.gslbd.port);
    await s.gslbd.waitForLog((l) => l.msg === 'query' && l.qtype === 'TXT');
    expect(queryLines(s).map((l) => [l.qname, l.qtype])).toEqual([
      ['www.example.org.', 'MX'],
      [fqdn('nothing'), 'TXT'],
    ]);
  });

  it('a sample that is not a whole number stops gslbd from starting', async () => {
    const r = await runCli(
      ['serve', '--zones', FIXTURE, '--listen', '127.0.0.1:0', '--query-log-sample', 'often'],
      20_000,
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('gslbd: --query-log-sample often: not an integer ≥ 0\n');
  });
});
