// gslbd as a secondary of a real Knot DNS serving a large zone: the first AXFR pulled (time from
// start until a name of the zone is answered, and the copy's size on disk), one change on Knot
// brought by NOTIFY and IXFR (TSIG-signed, every message verified) (time from `knotc zone-reload` until gslbd answers it), and a restart
// with Knot stopped (time until the copy is served), with gslbd's RSS after each.
//
// Run: scripts/node24.sh node bench/secondary.ts [--records 1000000]

import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { dig } from '../test/helpers/dig.ts';
import { startGslbd, type Gslbd } from '../test/helpers/gslbd.ts';
import { freePort, startKnot } from '../test/helpers/knot.ts';

const { values } = parseArgs({ options: { records: { type: 'string' } } });
const N = Number(values.records ?? 1_000_000);
const ZONE = 'big.test.';
const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-bench-secondary-'));
const zones = path.join(dir, 'zones');
const data = path.join(dir, 'data');
const knotFile = path.join(dir, 'big.test.zone');
mkdirSync(zones);

function writeZone(serial: number, extra = ''): void {
  const lines = ['$TTL 300', `@ IN SOA ns1 hostmaster ${serial} 1h 10m 2w 30`, '  IN NS ns1', 'ns1 IN A 192.0.2.1'];
  for (let i = 0; i < N; i++) lines.push(`h${i}.p${i % 1000} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  if (extra) lines.push(extra);
  writeFileSync(knotFile, lines.join('\n') + '\n');
}

const rssMiB = (g: Gslbd) =>
  Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${g.proc.pid}/status`, 'utf8'))![1]) / 1024);

async function until(what: string, name: string, want: string, timeoutMs: number, port: number): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const r = await dig(port, [name, 'A', '+timeout=1', '+tries=1']).catch(() => null);
    if (r?.answer.some((a) => a.data === want)) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

writeZone(1);
const gslbdPort = await freePort();
// Transfers and NOTIFY signed (Knot's ACL wants a key): every message of the AXFR verified.
const secret = randomBytes(32).toString('base64');
const knot = await startKnot(dir, [{ origin: ZONE, file: knotFile }], 600_000, {
  primaryFor: { notifyPort: gslbdPort },
  transferKey: { name: 'bench-xfr.', algorithm: 'hmac-sha256', secret },
});
writeFileSync(
  path.join(dir, 'gslbd.yaml'),
  [
    `zones: ${zones}`,
    `tsig: [{ name: bench-xfr., algorithm: hmac-sha256, secret: "${secret}", zones: [] }]`,
    'zones-options:',
    `  ${ZONE}:`,
    `    primary: { address: "127.0.0.1:${knot.port}", key: bench-xfr. }`,
    '',
  ].join('\n'),
);
const args = ['--config', path.join(dir, 'gslbd.yaml'), '--listen', `127.0.0.1:${gslbdPort}`, '--data', data];
const last = `h${N - 1}.p${(N - 1) % 1000}.${ZONE}`;
const lastAddress = `10.${((N - 1) >> 16) & 255}.${((N - 1) >> 8) & 255}.${(N - 1) & 255}`;
let gslbd: Gslbd | null = null;
try {
  gslbd = await startGslbd(args);
  const first = await until('first AXFR', last, lastAddress, 600_000, gslbdPort);
  const copy = statSync(path.join(data, 'secondary', `${ZONE}copy`)).size;
  const axfr = gslbd.logs.find((l) => l.msg === 'secondary: zone transferred');
  console.log(
    `first AXFR of ${N} records: served after ${(first / 1000).toFixed(2)} s (transfer of ${axfr?.bytes} bytes), copy ${(copy / 1048576).toFixed(1)} MiB, RSS ${rssMiB(gslbd)} MiB`,
  );
  writeZone(2, 'new IN A 192.0.2.77');
  const t0 = performance.now();
  await knot.reload(ZONE);
  await until('IXFR', `new.${ZONE}`, '192.0.2.77', 600_000, gslbdPort);
  const ixfr = gslbd.logs.filter((l) => l.msg === 'secondary: zone transferred').at(-1);
  console.log(
    `one change on Knot: served ${((performance.now() - t0) / 1000).toFixed(2)} s after zone-reload (${ixfr?.kind}, ${ixfr?.bytes} bytes), RSS ${rssMiB(gslbd)} MiB`,
  );
  await knot.stop();
  await gslbd.stop();
  gslbd = null;
  const t1 = performance.now();
  gslbd = await startGslbd(args);
  await until('warm start', `new.${ZONE}`, '192.0.2.77', 600_000, gslbdPort);
  console.log(
    `restart with Knot stopped: the copy served ${((performance.now() - t1) / 1000).toFixed(2)} s after the process started, RSS ${rssMiB(gslbd)} MiB`,
  );
  await gslbd.stop();
  gslbd = null;
} finally {
  // Stopped by PID whatever failed: a gslbd left running would hold its port and data.
  await gslbd?.stop().catch(() => {});
  await knot.stop().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
}
