// One pino logger for the process: JSON lines on stderr (stdout stays free for command output).

import pino, { type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.GSLBD_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination(2));
}
