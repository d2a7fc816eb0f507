// A small DNS client for probes, over dns2 (kept behind this file: the rest of gslbd never sees it).

import { lazy } from '../0-base/lazy.ts';
import net from 'node:net';
import { typeName } from '../0-base/constants.ts';

interface Dns2Response {
  header: { rcode: number };
  answers: unknown[];
}
type Dns2Query = (name: string, type?: string) => Promise<Dns2Response>;
interface Dns2 {
  UDPClient(options: {
    dns: string;
    port: number;
    socketType: 'udp4' | 'udp6';
    timeout: number;
    retryOverTCP: boolean;
  }): Dns2Query;
}

/** Loaded by the first probe: a worker thread, which probes nothing, never loads it. */
const dns2 = lazy<Dns2>('dns2');

export interface DnsReply {
  readonly rcode: number;
  readonly answers: number;
}

/** One UDP query (dns2 sets RD, which an authoritative server ignores); rejects on timeout. */
export async function queryOnce(
  server: string,
  port: number,
  name: string,
  type: number,
  timeoutMs: number,
): Promise<DnsReply> {
  const query = dns2().UDPClient({
    dns: server,
    port,
    socketType: net.isIPv6(server) ? 'udp6' : 'udp4',
    timeout: timeoutMs,
    retryOverTCP: false,
  });
  const res = await query(name, typeName(type));
  return { rcode: res.header.rcode, answers: res.answers.length };
}
