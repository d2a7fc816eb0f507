// Mutated text inputs for the fuzz tests of the zone-file parser, the pools file, gslbd.yaml and
// the API's JSON bodies, and the checks that say an error is a clear one.
//
// Mutations work on lines, tokens and characters of a valid seed text, so most inputs get past the
// first line and reach deep into the parser; a dictionary of tokens each format treats specially
// (zone-file parentheses, escapes and directives; YAML anchors, aliases, tags and flow syntax)
// makes the interesting cases common. Every input comes from a seeded Rng (test/helpers/fuzz.ts).

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { SourceError } from '../../src/0-base/errors.ts';
import { keyOf, parseName } from '../../src/0-base/name.ts';
import { buildZone } from '../../src/2-zone/build.ts';
import { parseZone } from '../../src/2-zone/parser.ts';
import type { Rng } from './fuzz.ts';
import { ROOT } from './gslbd.ts';

/** Tokens a zone-file parser treats specially (RFC 1035 §5.1, RFC 3597, BIND's extensions). */
export const ZONE_TOKENS: readonly string[] = [
  '(',
  ')',
  '((',
  '))',
  '"',
  '""',
  '\\',
  '\\.',
  '\\000',
  '\\999',
  '\\0',
  ';',
  '$ORIGIN',
  '$TTL',
  '$INCLUDE',
  '$GENERATE',
  '$ORIGIN .',
  '$TTL 1w2d3h4m5s',
  '@',
  '*',
  '.',
  '..',
  'a..b',
  'IN',
  'CH',
  'CLASS65535',
  'CLASS65536',
  'TYPE0',
  'TYPE65535',
  'TYPE99999',
  '\\# 0',
  '\\# 4 0a000001',
  '\\# 3 0a0000',
  '\\# 65536',
  'A',
  'AAAA',
  'SOA',
  'NS',
  'CNAME',
  'DNAME',
  'MX',
  'TXT',
  'SRV',
  'CAA',
  'HTTPS',
  'SVCB',
  'NAPTR',
  'TLSA',
  'SSHFP',
  'DS',
  '0',
  '-1',
  '65535',
  '65536',
  '2147483647',
  '2147483648',
  '4294967295',
  '4294967296',
  '99999999999999999999',
  '1e308',
  'NaN',
  '1w',
  '9999w',
  '1x',
  '0x10',
  '192.0.2.1',
  '256.0.0.1',
  '1.2.3',
  '::',
  '2001:db8::1::2',
  '::ffff:192.0.2.1',
  'alpn="h2,h3"',
  'alpn=',
  'mandatory=alpn',
  'port=99999',
  'ipv4hint=192.0.2.1,,',
  'key65535=x',
  '\t',
  '\r',
  '\u00e9',
  '\uffff',
];

/** Tokens a YAML parser treats specially (YAML 1.2: flow collections, anchors, tags, block scalars). */
export const YAML_TOKENS: readonly string[] = [
  ':',
  ': ',
  '- ',
  '-',
  '{',
  '}',
  '[',
  ']',
  '{}',
  '[]',
  ',',
  '&a',
  '*a',
  '&a [*a]',
  '<<: *a',
  '!!binary',
  '!!str',
  '!!int',
  '!!map',
  '!unknown',
  '|',
  '>',
  '|-',
  '---',
  '...',
  '%YAML 1.2',
  '? ',
  'null',
  '~',
  'true',
  'false',
  'yes',
  '0x10',
  '0o17',
  '1e400',
  '-.inf',
  '.nan',
  '"\\u0000"',
  "'",
  '"',
  '#',
  '\t',
  '    ',
  '${GSLBD_FUZZ}',
  '${',
  '$',
  '0s',
  '1ms',
  '99999999h',
  '-5s',
  '127.0.0.1:0',
  '[::1]:53',
  '300.1.1.1',
  '192.0.2.0/33',
  'x'.repeat(300),
];

/** One line, token or character edit of `text`; `tokens` is the format's dictionary. */
export function mutateText(rng: Rng, text: string, tokens: readonly string[], corpus: readonly string[] = []): string {
  const lines = text.split('\n');
  const at = () => rng.int(lines.length);
  switch (rng.int(12)) {
    case 0: // delete a line
      lines.splice(at(), 1);
      return lines.join('\n');
    case 1: // duplicate a line
      {
        const i = at();
        lines.splice(i, 0, lines[i]!);
      }
      return lines.join('\n');
    case 2: {
      // swap two lines
      const i = at();
      const j = at();
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 3: // a line from another seed of the same format
      if (corpus.length) lines.splice(at(), 0, rng.pick(rng.pick(corpus).split('\n')));
      return lines.join('\n');
    case 4:
    case 5: {
      // replace one token of a line with a dictionary token
      const i = at();
      const parts = lines[i]!.split(/(\s+)/);
      const words = parts.map((p, k) => (/\S/.test(p) ? k : -1)).filter((k) => k >= 0);
      if (words.length) parts[rng.pick(words)] = rng.pick(tokens);
      else parts.push(rng.pick(tokens));
      lines[i] = parts.join('');
      return lines.join('\n');
    }
    case 6: {
      // insert a dictionary token anywhere
      const pos = rng.int(text.length + 1);
      return text.slice(0, pos) + rng.pick(tokens) + text.slice(pos);
    }
    case 7: {
      // delete a range of characters
      const pos = rng.int(text.length + 1);
      return text.slice(0, pos) + text.slice(pos + rng.range(1, 40));
    }
    case 8: // truncate
      return text.slice(0, rng.int(text.length + 1));
    case 9: {
      // one character replaced by any code unit below 0x100 (zone files are read as latin1)
      const pos = rng.int(text.length + 1);
      return text.slice(0, pos) + String.fromCharCode(rng.int(256)) + text.slice(pos + 1);
    }
    case 10: {
      // a slice repeated many times: long lines, deep nesting, many records (quadratic blow-ups)
      const pos = rng.int(text.length + 1);
      const piece = text.slice(pos, pos + rng.range(1, 80)) || rng.pick(tokens);
      const times = rng.pick([10, 100, 1000, Math.floor(60_000 / Math.max(1, piece.length))]);
      return text.slice(0, pos) + piece.repeat(times) + text.slice(pos);
    }
    default: {
      // a dictionary token repeated: ((((, [[[[, &a &a, \\\\
      const pos = rng.int(text.length + 1);
      return text.slice(0, pos) + rng.pick(tokens).repeat(rng.pick([2, 50, 2000])) + text.slice(pos);
    }
  }
}

/** One to three stacked mutations of a seed. */
export function mutated(rng: Rng, seeds: readonly string[], tokens: readonly string[]): string {
  let text = rng.pick(seeds);
  for (let n = rng.range(1, 3); n > 0; n--) text = mutateText(rng, text, tokens, seeds);
  return text;
}

/**
 * Why `e` is not a clear error about `file` (undefined when it is one): the file is named, the
 * line exists in the input (0 for the file as a whole), and the reason is words, not a leaked
 * JavaScript failure.
 */
export function unclear(e: SourceError, file: string, text: string): string | undefined {
  const lines = text.split('\n').length;
  if (e.file !== file) return `names file ${e.file}, not ${file}`;
  if (!Number.isInteger(e.line) || e.line < 0 || e.line > lines + 1) return `line ${e.line} of a ${lines}-line input`;
  return leaked(e.reason, text);
}

const LEAKS =
  /undefined|\[object Object\]|NaN|TypeError|RangeError|ReferenceError|Cannot read propert|is not a function|Maximum call stack/g;

/**
 * Why a message reads like a leaked JavaScript failure (undefined when it does not). Words the
 * input itself holds may be quoted back in an error (`NaN: not a TTL`), so they do not count.
 */
export function leaked(message: string, input = ''): string | undefined {
  if (!message.trim()) return 'an empty reason';
  const m = [...message.matchAll(LEAKS)].find((x) => !input.toLowerCase().includes(x[0].toLowerCase()));
  return m ? `reads like a JavaScript failure (${m[0]}): ${message}` : undefined;
}

const FUZZ_ORIGIN = parseName('example.com.', null);

/**
 * Every `*.zone` under `dir`, read as the loader reads them (latin1: one char per octet), each
 * opened with a `$ORIGIN` line of the zone its file name gives, which loadZoneText builds.
 */
function zoneFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.zone'))
    .map((f) => `$ORIGIN ${path.basename(f).slice(0, -'zone'.length)}\n${readFileSync(path.join(dir, f), 'latin1')}`);
}

export const ZONE_SEEDS: readonly string[] = [
  ...zoneFiles(path.join(ROOT, 'zones')),
  ...zoneFiles(path.join(ROOT, 'test/fixtures')),
];

/** The zone `text` is for: its first line's `$ORIGIN` if that still reads, else example.com. */
function originOf(text: string): Uint8Array {
  const m = /^\$ORIGIN[ \t]+(\S+)/.exec(text);
  try {
    return m ? parseName(m[1]!, null) : FUZZ_ORIGIN;
  } catch {
    return FUZZ_ORIGIN;
  }
}

/** Parses and builds `text` as its zone; resolves with the errors, or throws what escaped. */
export async function loadZoneText(text: string): Promise<{ errors: readonly { code: string }[]; unclear: string[] }> {
  const file = 'fuzz.zone';
  const origin = originOf(text);
  const parsed = await parseZone(text, file, origin);
  const built = parsed.errors.length ? undefined : buildZone(keyOf(origin), file, parsed.records);
  const errors = [...parsed.errors, ...(built?.kind === 'invalid' ? built.errors : [])];
  return {
    errors,
    unclear: errors.flatMap((e) => {
      const why = unclear(e, file, text);
      return why ? [`${e.message}: ${why}`] : [];
    }),
  };
}

/** A pools file and the zone it belongs to: `origin` as text with its final dot, and in wire form. */
export interface PoolsSeed {
  readonly origin: string;
  readonly wire: Buffer;
  readonly text: string;
}

/** Every `<origin>.pools.yaml` under zones/ and test/fixtures/. */
export const POOLS_SEEDS: readonly PoolsSeed[] = ['zones', 'test/fixtures'].flatMap((dir) =>
  readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.pools.yaml'))
    .map((f) => {
      const origin = `${path.basename(f).slice(0, -'pools.yaml'.length)}`;
      return { origin, wire: parseName(origin, null), text: readFileSync(path.join(ROOT, dir, f), 'utf8') };
    }),
);

/** gslbd.yaml with every key the README documents, in block and in flow style. */
export const CONFIG_SEEDS: readonly string[] = [
  `zones: ./zones
listen: ["127.0.0.1:5300", "[::1]:5300"]
data: ./data
geoip: ./geo.mmdb
tcp-idle-timeout: 10s
tcp-max-connections: 512
tcp-message-timeout: 5
tcp-max-connections-per-client: 64
query-log-sample: 0.01
udp-receive-buffer: 4194304
workers: 2
max-changes: 1000
tsig-max-fudge: 300
api:
  listen: 127.0.0.1:8053
  body-limit: 1048576
  tokens:
    - { name: operator, token: "\${GSLBD_API_TOKEN}", access: write }
    - { token: a-read-only-token-0123456789 }
tsig:
  - { name: monitor-key., algorithm: hmac-sha256, secret: "c2VjcmV0IHNoYXJlZCB3aXRoIHRoZSBtb25pdG9y", zones: [gslb.example.] }
  - name: other-key.
    algorithm: hmac-sha512
    secret: c2VjcmV0IHNoYXJlZCB3aXRoIHRoZSBtb25pdG9y
`,
  `zones: /srv/zones
cluster:
  node: ns1
  etcd:
    endpoints: ["http://127.0.0.1:2379", "https://10.0.0.2:2379"]
    prefix: /gslbd/
    tls: { ca: ca.pem, cert: client.pem, key: client-key.pem }
    auth: { username: gslbd, password: "\${GSLBD_FUZZ}" }
  quorum: majority
  vote-ttl: 10s
  probe-from: [ns1, ns2]
  snapshot-every: 1000
catalog:
  zone: catalog.gslb.invalid.
`,
];

/** One API request with a body: method, path and the body's text (JSON or not). */
export interface ApiRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly type: string;
}

const TARGET_URL = '/v1/zones/ops.example.net./pools/rr/targets/198.51.100.1';
/** Valid requests of every endpoint with a body (test/fixtures/ops), mutated by apiRequest. */
const API_TEMPLATES: readonly { method: string; url: string; body: unknown }[] = [
  { method: 'PUT', url: `${TARGET_URL}/weight`, body: { weight: 5 } },
  { method: 'PUT', url: `${TARGET_URL}/load`, body: { load: 10, capacity: 100, valid_for: 60 } },
  { method: 'PUT', url: `${TARGET_URL}/health`, body: { state: 'down', reason: 'fuzz', valid_for: 30 } },
  { method: 'PUT', url: `${TARGET_URL}/override`, body: { state: 'drain', reason: 'fuzz', valid_for: 30 } },
  {
    method: 'POST',
    url: '/v1/zones/ops.example.net./pools/rr/targets',
    body: { address: '198.51.100.9', weight: 1, location: { lat: 1, lon: 2 }, regions: ['NL'] },
  },
  { method: 'PUT', url: '/v1/zones/ops.example.net./rrsets/fuzz/TXT', body: { ttl: 60, records: ['"fuzz"'] } },
  { method: 'PUT', url: '/v1/zones/ops.example.net./rrsets/fuzz/A', body: { ttl: 60, records: ['192.0.2.7'] } },
  {
    method: 'POST',
    url: '/v1/batch',
    body: {
      changes: [
        { op: 'set-weight', zone: 'ops.example.net.', pool: 'rr', target: '198.51.100.2', weight: 3 },
        { op: 'put-rrset', zone: 'ops.example.net.', name: 'b', type: 'MX', ttl: 60, records: ['10 mail'] },
        { op: 'clear-override', zone: 'ops.example.net.', pool: 'rr', target: '198.51.100.3' },
      ],
    },
  },
];

/** Values of every JSON type, and the edges of each. */
function jsonValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 8 : 10)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 5e-324, 100, 101, 31_536_001]);
    case 3:
      return rng.pick(['', 'up', 'down', 'drain', '5', '1e3', 'x'.repeat(rng.pick([64, 65, 1025, 70_001]))]);
    case 4:
      return rng.pick(ZONE_TOKENS);
    case 5:
      return rng.pick([
        '198.51.100.1',
        '::1',
        '2001:db8::1',
        '256.1.1.1',
        'ops.example.net.',
        '..',
        '\u0000',
        '\ud800',
      ]);
    case 6:
      return String.fromCharCode(...Array.from({ length: rng.int(20) }, () => rng.int(0x10000)));
    case 7:
      return rng.pick(['__proto__', 'constructor', 'toString', 'hasOwnProperty']);
    case 8:
      return Array.from({ length: rng.int(4) }, () => jsonValue(rng, depth + 1));
    default:
      return Object.fromEntries(
        Array.from({ length: rng.int(4) }, () => [
          rng.pick(['op', 'zone', 'weight', 'x', '__proto__']),
          jsonValue(rng, depth + 1),
        ]),
      );
  }
}

/** Replaces, removes or adds one field somewhere in a JSON value (a copy). */
function mutateJson(rng: Rng, v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = [...v];
    if (out.length && rng.chance(0.7)) out[rng.int(out.length)] = mutateJson(rng, out[rng.int(out.length)]);
    else if (rng.chance(0.5)) out.push(jsonValue(rng));
    else out.splice(rng.int(out.length + 1), 1);
    return out;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    const keys = Object.keys(out);
    const r = rng.int(4);
    if (r === 0 && keys.length) delete out[rng.pick(keys)];
    else if (r === 1) out[rng.pick(['extra', '__proto__', 'constructor', 'op', 'if_match', ''])] = jsonValue(rng);
    else if (keys.length) {
      const k = rng.pick(keys);
      out[k] = rng.chance(0.5) ? mutateJson(rng, out[k]) : jsonValue(rng);
    }
    return out;
  }
  return jsonValue(rng);
}

/**
 * One API request: a valid template's body mutated as JSON (most), mutated as text (invalid JSON),
 * nested thousands deep, or a valid body of many changes; sometimes with a wrong content type.
 */
export function apiRequest(rng: Rng): ApiRequest {
  const t = rng.pick(API_TEMPLATES);
  const type = rng.chance(0.95)
    ? 'application/json'
    : rng.pick(['text/plain', 'application/x-www-form-urlencoded', '']);
  const r = rng.int(20);
  let body: string;
  if (r < 12) {
    let v = t.body;
    for (let n = rng.range(1, 3); n > 0; n--) v = mutateJson(rng, v);
    body = JSON.stringify(v);
  } else if (r < 17)
    body = mutateText(rng, JSON.stringify(t.body, null, 1), [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\u',
      '\\ud800',
      'NaN',
      '1e999',
      '-',
      'null',
    ]);
  else if (r < 19) {
    const depth = rng.pick([100, 1000, 10_000, 100_000]);
    body = rng.chance(0.5)
      ? '['.repeat(depth) + ']'.repeat(depth)
      : `{"weight":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;
  } else {
    const n = rng.pick([1000, 1001, 5000]);
    body = JSON.stringify({
      changes: Array.from({ length: n }, (_, i) => ({
        op: 'set-weight',
        zone: 'ops.example.net.',
        pool: 'rr',
        target: `198.51.100.${1 + (i % 3)}`,
        weight: i % 100,
      })),
    });
  }
  return { method: t.method, url: t.url, body, type };
}
