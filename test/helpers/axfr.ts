// Zone transfers from a server on loopback: the real `dig axfr` (which verifies the TSIG of every
// message when given -y), and a raw TCP client that returns each message as it came, for tests
// that check the messages themselves.

import { execFile } from 'node:child_process';
import net from 'node:net';
import { Type } from '../../src/0-base/constants.ts';
import { buildQuery } from './raw.ts';
import { decodeMessage } from './message.ts';
import { dig } from './dig.ts';
import { nsupdate, type Key } from './nsupdate.ts';

export interface DigTransfer {
  /** dig finished the transfer (first and last record the SOA, no error). */
  readonly ok: boolean;
  /** The records as dig printed them (owner TTL class type data), TSIG lines left out. */
  readonly records: string[];
  /** How many messages dig counted, 0 when the transfer failed. */
  readonly messages: number;
  /** dig said a TSIG did not verify (it goes on printing records when one does not). */
  readonly tsigFailed: boolean;
  readonly out: string;
}

/**
 * `dig @127.0.0.1 -p port zone AXFR` (or IXFR=serial) with `args` (e.g. `-y alg:name:secret`,
 * `-b 127.0.0.2`).
 */
export function digTransfer(
  port: number,
  zone: string,
  args: readonly string[] = [],
  type = 'AXFR',
): Promise<DigTransfer> {
  return new Promise((resolve) => {
    execFile(
      'dig',
      ['@127.0.0.1', '-p', String(port), '+tries=1', '+timeout=5', '+nocmd', ...args, zone, type],
      { timeout: 30_000, maxBuffer: 64 << 20 },
      (_err, stdout) => {
        const out = stdout;
        const records = out
          .split('\n')
          .filter((l) => l && !l.startsWith(';') && !/\sTSIG\s/.test(l))
          .map((l) => l.replace(/\s+/g, ' ').trim());
        const failed = /Transfer failed|communications error|connection refused|; Transfer/.test(out);
        const m = /XFR size: \d+ records \(messages (\d+)/.exec(out);
        resolve({
          ok: !failed && records.length > 0,
          records,
          messages: m ? Number(m[1]) : 0,
          tsigFailed: /Some TSIG could not be validated|tsig verify failure/i.test(out),
          out,
        });
      },
    );
  });
}

/**
 * Sends `query` over TCP and returns the messages of the answer: until the second SOA of a
 * transfer, a message that is not NOERROR, or a single-message answer whose only record is the
 * SOA (`soaOnly`); or whatever came before the connection closed or `timeoutMs` passed.
 */
export function rawTransfer(port: number, query: Buffer, timeoutMs = 10_000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1' });
    const messages: Buffer[] = [];
    let pending = Buffer.alloc(0);
    let soas = 0;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(messages);
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('connect', () => {
      const f = Buffer.alloc(2);
      f.writeUInt16BE(query.length);
      sock.write(Buffer.concat([f, query]));
    });
    sock.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const m = Buffer.from(pending.subarray(2, 2 + pending.readUInt16BE(0)));
        pending = pending.subarray(2 + m.length);
        messages.push(m);
        const d = decodeMessage(m);
        soas += d.answer.filter((r) => / SOA /.test(r)).length;
        if (d.rcode !== 0 || soas >= 2 || (messages.length === 1 && d.answer.length === 1 && soas === 1)) return done();
      }
    });
    sock.on('error', (e) => (messages.length ? done() : reject(e)));
    sock.on('close', done);
  });
}

/** An IXFR query for `zone` from a client at `serial` (RFC 1995 §3: the SOA in the authority section). */
export function ixfrQuery(zone: string, serial: number): Buffer {
  const q = buildQuery(zone, Type.IXFR);
  q.writeUInt16BE(1, 8);
  // Owner: a pointer to the question name; SOA with root MNAME and RNAME, then the serial.
  const rr = Buffer.alloc(2 + 10 + 2 + 20);
  rr.writeUInt16BE(0xc00c, 0);
  rr.writeUInt16BE(Type.SOA, 2);
  rr.writeUInt16BE(1, 4);
  rr.writeUInt32BE(0, 6);
  rr.writeUInt16BE(22, 10);
  rr.writeUInt32BE(serial, 14);
  return Buffer.concat([q, rr]);
}

/**
 * Adds `name` TXT `text` to `zone` on the gslbd at `gslbdPort` by nsupdate signed with `key`, then
 * asks the secondary at `secondaryPort` for it every 50 ms, 2 s at most: the TXT data it answers.
 */
export async function updateReachesSecondary(
  gslbdPort: number,
  secondaryPort: number,
  zone: string,
  name: string,
  text: string,
  key: Key,
): Promise<string[]> {
  const up = await nsupdate(gslbdPort, zone, [`update add ${name} 60 TXT "${text}"`], { key });
  if (up.code !== 0) throw new Error(`nsupdate failed: ${up.out}`);
  const start = Date.now();
  let seen: string[] = [];
  while (Date.now() - start < 2000) {
    seen = (await dig(secondaryPort, [name, 'TXT'])).answer.map((a) => a.data);
    if (seen.length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return seen;
}

/** The example zones' pool names: a secondary answers them by the transfer's mode, not as gslbd does. */
const EXAMPLE_POOLS = ['www', 'rr', 'near', 'regional', 'primary', 'sticky', 'api'];

/**
 * The questions a secondary should answer as gslbd does, from gslbd's transfer of `zone`: each
 * owner with its type and with TXT (the pools of gslb.example.com. left out), and `extra.zone A`
 * for each of `extras` (names that do not exist, wildcards, below cuts).
 */
export function staticQuestions(records: readonly string[], zone: string, extras: readonly string[]): Set<string> {
  const pools = new Set(EXAMPLE_POOLS.map((p) => `${p}.${zone}`));
  const questions = new Set<string>();
  for (const line of records) {
    const [owner, , , type] = line.split(' ');
    if (zone === 'gslb.example.com.' && pools.has(owner!)) continue;
    questions.add(`${owner} ${type}`);
    questions.add(`${owner} TXT`);
  }
  for (const extra of extras) questions.add(`${extra}.${zone} A`);
  return questions;
}

/** Each question asked of gslbd and of `other` (named `name`); those whose `normal` forms differ, both shown. */
export async function differentAnswers<T>(
  questions: Iterable<string>,
  gslbdPort: number,
  other: { readonly name: string; readonly port: number },
  normal: (r: Awaited<ReturnType<typeof dig>>) => T,
): Promise<string[]> {
  const differences: string[] = [];
  for (const q of questions) {
    const args = q.split(' ');
    const [a, b] = await Promise.all([dig(gslbdPort, args), dig(other.port, args)]);
    const [na, nb] = [JSON.stringify(normal(a)), JSON.stringify(normal(b))];
    if (na !== nb) differences.push(`${q}\n  gslbd: ${na}\n  ${`${other.name}:`.padEnd(6)} ${nb}`);
  }
  return differences;
}
