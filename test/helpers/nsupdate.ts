// Runs the real `nsupdate` (bind9-dnsutils) against a gslbd on loopback, with a TSIG key given by
// `-y` or by a key file it writes, over UDP or TCP (-v).

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { nameToText } from '../../src/0-base/name.ts';
import type { TsigKey } from '../../src/1-codec/tsig.ts';

export type Key = TsigKey & { readonly base64: string };

export interface Run {
  readonly code: number;
  /** nsupdate's messages (stdout and stderr). */
  readonly out: string;
}

export const keyText = (k: TsigKey): string => nameToText(k.name).replace(/\.$/, '');

/** `k` as one item of gslbd.yaml's `tsig:` list (the line, indented under `tsig:`). */
export const tsigKeyYaml = (k: Key): string =>
  `  - { name: ${nameToText(k.name)}, algorithm: ${k.algorithm}, secret: "${k.base64}", zones: [${(k.zones ?? []).map(nameToText).join(', ')}] }`;

/** `--tsig-key NAME:ALGORITHM:SECRET[:ZONE,...]` for `k`. */
export const keyFlag = (k: Key): string =>
  [keyText(k), k.algorithm, k.base64, ...(k.zones ? [k.zones.map(nameToText).join(',')] : [])].join(':');

export interface NsupdateOptions {
  /** The key to sign with; null sends the update unsigned. */
  readonly key: Key | null;
  /** Write the key to a file in `work` and pass it with -k, instead of -y. */
  readonly keyFile?: boolean;
  readonly work?: string;
  readonly tcp?: boolean;
  /** Sign with this key name or secret instead of the key's own (forgeries). */
  readonly secret?: string;
  readonly name?: string;
}

/** Runs nsupdate with `lines` after `server 127.0.0.1 port` and `zone zone`, then `send`. */
export function nsupdate(port: number, zone: string, lines: readonly string[], opts: NsupdateOptions): Promise<Run> {
  const args = ['-t', '10', '-u', '2', '-r', '1'];
  if (opts.tcp) args.push('-v');
  const key = opts.key;
  if (key) {
    const name = opts.name ?? keyText(key);
    const secret = opts.secret ?? key.base64;
    if (opts.keyFile) {
      if (!opts.work) throw new Error('nsupdate: keyFile needs a work directory');
      const file = path.join(opts.work, `${name}.key`);
      writeFileSync(file, `key "${name}" {\n\talgorithm ${key.algorithm};\n\tsecret "${secret}";\n};\n`, {
        mode: 0o600,
      });
      args.push('-k', file);
    } else {
      args.push('-y', `${key.algorithm}:${name}:${secret}`);
    }
  }
  const script = [`server 127.0.0.1 ${port}`, `zone ${zone}`, ...lines, 'send', ''].join('\n');
  return new Promise((resolve) => {
    const child = execFile('nsupdate', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}`.trim() });
    });
    child.stdin!.end(script);
  });
}
