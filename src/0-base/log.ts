// One pino logger for the process, on stderr (stdout stays free for command output): JSON lines
// by default, for log collectors; `GSLBD_LOG_FORMAT=pretty` (or `--log-format pretty`) prints one
// readable line per event for a terminal: `12:03:04.567 WARN health: ... targets=[...]`.

import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export type { Logger };

export type LogFormat = 'json' | 'pretty';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has; the pretty form shows them in its own places or not at all. */
const SKIP = new Set(['level', 'time', 'pid', 'msg', 'hostname']);

/** One JSON log line as one human line. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 23) : '';
  const level = LEVELS[o.level as number] ?? String(o.level);
  const rest = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level.padEnd(5)} ${String(o.msg ?? '')}${rest ? `  ${rest}` : ''}`;
}

function prettyStream(): Writable {
  let partial = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      if (lines.length) process.stderr.write(lines.map(prettyLine).join('\n') + '\n');
      done();
    },
  });
}

export function createLogger(
  level: string = process.env.GSLBD_LOG_LEVEL ?? 'info',
  format: LogFormat = process.env.GSLBD_LOG_FORMAT === 'pretty' ? 'pretty' : 'json',
): Logger {
  const options = { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime };
  return pino(options, format === 'pretty' ? prettyStream() : pino.destination(2));
}
