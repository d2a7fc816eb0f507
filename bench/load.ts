// Loading a large zone: how long a zone of N records takes to load, and the longest stretch the
// event loop is blocked meanwhile (no query can be answered then: what a reload costs in stall).
//
// Run: scripts/node24.sh node bench/load.ts [--records 1000000]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadZones } from '../src/zone/loader.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '1000000' } } });
const N = Number(values.records);
const dir = mkdtempSync(path.join(os.tmpdir(), 'gslbd-load-'));
try {
  const lines = ['$ORIGIN big.test.', '$TTL 300', '@ SOA ns1 hostmaster 1 3600 600 86400 60', '@ NS ns1', 'ns1 A 192.0.2.1'];
  for (let i = 0; i < N; i++) lines.push(`h${i}.d${i % 1000} A 198.51.${(i >> 8) & 255}.${i & 255}`);
  writeFileSync(path.join(dir, 'big.test.zone'), lines.join('\n') + '\n');
  let last = performance.now();
  let maxGap = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  const r = await loadZones(dir);
  const ms = performance.now() - t0;
  clearInterval(tick);
  const zone = r.zones[0];
  if (!zone) throw new Error(r.failures.flatMap((f) => f.errors.map((e) => e.message)).join('\n'));
  console.log(`| ${N.toLocaleString('en')} records (${zone.nodes.size.toLocaleString('en')} names) | ${(ms / 1000).toFixed(2)} s | ${maxGap.toFixed(0)} ms | ${((process.memoryUsage().rss - rss0) / 2 ** 20).toFixed(0)} MiB |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
