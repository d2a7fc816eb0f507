// Loaded into a gslbd process by bench/rss.ts (`NODE_OPTIONS=--import=.../memory-sampler.ts`), not
// part of gslbd: every GSLBD_BENCH_MEMORY_MS (1000) it writes process.memoryUsage() to stderr as a
// JSON line `{"msg":"memory",...}`, beside gslbd's own log lines. On SIGUSR2 it runs a full garbage
// collection and writes the line at once (msg "memory after gc"), then the collection V8 runs
// before giving up on an allocation ("last-resort": several rounds, and V8 gives back the memory
// it keeps for reuse), msg "memory after last-resort gc". What RSS stays after both is not garbage.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const every = Number(process.env.GSLBD_BENCH_MEMORY_MS ?? 1000);
const write = (msg: string) =>
  process.stderr.write(`${JSON.stringify({ msg, t: Date.now(), ...process.memoryUsage() })}\n`);
setInterval(() => write('memory'), every).unref();

// --expose-gc cannot be given in NODE_OPTIONS; set afterwards, it takes effect in a new context.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (opts?: {
  type: 'major';
  execution: 'sync';
  flavor?: 'regular' | 'last-resort';
}) => void;
process.on('SIGUSR2', () => {
  gc({ type: 'major', execution: 'sync' });
  write('memory after gc');
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  write('memory after last-resort gc');
});
