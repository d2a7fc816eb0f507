// A UDP client in a process of its own, so the load generators beside it do not delay its clock:
// asks QNAME A every EVERY_MS for SECONDS and prints one JSON line (sent, answered, latency
// quantiles in ms). Used by bench/tcp-abuse.ts and bench/soak.ts.
//
// Run: scripts/node24.sh node bench/udp-probe.ts PORT QNAME SECONDS [EVERY_MS]

import { quantile, udpProber } from '../test/helpers/abuse.ts';

const [port, qname, seconds, everyMs] = process.argv.slice(2);
const probe = udpProber(Number(port), qname!, Number(everyMs ?? 2));
await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
const r = await probe.stop();
const q = (x: number) => Number(quantile(r.latencies, x).toFixed(3));
console.log(
  JSON.stringify({
    sent: r.sent,
    answered: r.answered,
    p50: q(0.5),
    p99: q(0.99),
    p999: q(0.999),
    max: Number((r.latencies.at(-1) ?? NaN).toFixed(3)),
  }),
);
