// Runs the real `dig` (bind9-dnsutils) and reads its +yaml output into a structure tests compare.

import { execFile } from 'node:child_process';
import { parse } from 'yaml';

export interface Rr {
  readonly name: string;
  readonly ttl: number;
  readonly class: string;
  readonly type: string;
  readonly data: string;
  /** The line as dig printed it. */
  readonly text: string;
}

export interface DigResult {
  readonly status: string;
  /** Header flags as dig lists them, e.g. ['qr', 'aa']. */
  readonly flags: string[];
  readonly question: string[];
  readonly answer: Rr[];
  readonly authority: Rr[];
  readonly additional: Rr[];
  /** The OPT pseudo-section, when the response had one. */
  readonly edns: Record<string, unknown> | null;
  readonly size: number;
  /** The transport of the response dig shows: 'UDP', or 'TCP' (asked with +tcp, or a retry after TC=1). */
  readonly protocol: string;
  readonly raw: Record<string, unknown>;
}

function rr(text: string): Rr {
  const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(text);
  if (!m) throw new Error(`unparsed RR from dig: ${text}`);
  return { name: m[1]!, ttl: Number(m[2]), class: m[3]!, type: m[4]!, data: m[5]!, text };
}

/** `dig @server -p port <args> +yaml +norecurse`; rejects if dig reports no message. */
export function dig(port: number, args: string[], server = '127.0.0.1'): Promise<DigResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'dig',
      [`@${server}`, '-p', String(port), '+yaml', '+norecurse', '+tries=1', '+timeout=3', ...args],
      { timeout: 15_000 },
      (err, stdout) => {
        let docs: unknown;
        try {
          docs = parse(stdout);
        } catch (e) {
          return reject(new Error(`dig output not YAML: ${(e as Error).message}\n${stdout}`));
        }
        const list = (Array.isArray(docs) ? docs : [docs]) as Record<string, any>[];
        const message = list.find((d) => d?.type === 'MESSAGE')?.message;
        const msg = message?.response_message_data;
        if (!msg) return reject(new Error(`dig got no answer (${err?.message ?? 'no message'}):\n${stdout}`));
        resolve({
          status: msg.status,
          flags: String(msg.flags ?? '')
            .split(/\s+/)
            .filter(Boolean),
          question: msg.QUESTION_SECTION ?? [],
          answer: (msg.ANSWER_SECTION ?? []).map(rr),
          authority: (msg.AUTHORITY_SECTION ?? []).map(rr),
          additional: (msg.ADDITIONAL_SECTION ?? []).map(rr),
          edns: msg.OPT_PSEUDOSECTION?.EDNS ?? null,
          size: Number(String(message.message_size ?? '0').replace('b', '')),
          protocol: String(message.socket_protocol ?? ''),
          raw: msg,
        });
      },
    );
  });
}

/** The records of a section as dig printed them. */
export const texts = (rrs: readonly Rr[]): string[] => rrs.map((r) => r.text);
