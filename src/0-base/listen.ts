// Addresses to listen on, as flags, gslbd.yaml and logs write them: `127.0.0.1:5300`, `[::1]:5300`.

import net from 'node:net';
import { GslbError } from './errors.ts';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `127.0.0.1:5300`, `[::1]:5300` or `::1` with a default port. */
export function parseListen(text: string, defaultPort = 53): ListenAddress {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  let host: string;
  let port: string | undefined;
  if (bracket) {
    host = bracket[1]!;
    port = bracket[2];
  } else if (net.isIPv6(text)) {
    host = text;
  } else {
    const i = text.lastIndexOf(':');
    host = i < 0 ? text : text.slice(0, i);
    port = i < 0 ? undefined : text.slice(i + 1);
  }
  if (!net.isIP(host)) throw new GslbError('ERR_CONFIG', `listen address "${text}": "${host}" is not an IP address`);
  const n = port === undefined ? defaultPort : Number(port);
  if (!Number.isInteger(n) || n < 0 || n > 65535 || (port !== undefined && !/^\d+$/.test(port))) {
    throw new GslbError('ERR_CONFIG', `listen address "${text}": bad port`);
  }
  return { host, port: n };
}

/** A host as a URL or a Host header writes it: an IPv6 literal in brackets (RFC 3986 §3.2.2). */
export const urlHost = (host: string): string => (net.isIPv6(host) ? `[${host}]` : host);

export const formatListen = (a: ListenAddress): string => `${urlHost(a.host)}:${a.port}`;
