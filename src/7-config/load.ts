// gslbd.yaml: the settings `gslbd serve --config FILE` starts from (flags override them). Every key
// is documented in README.md (Configuration). `${VAR}` in any value expands from the environment;
// paths are relative to the file's directory; every error reads `file:line: path: reason`, and a
// file with any error gives no configuration at all.

import { access, constants, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { isMap, isScalar, isSeq, type Node as YamlNode } from 'yaml';
import { hashToken, type ApiToken } from '../7-config/api-options.ts';
import { DEFAULT_BODY_LIMIT, type ApiOptions, type ApiTls } from '../7-config/api-options.ts';
import { parseReceiveBuffer, RECEIVE_BUFFER_EXPECTED, UDP_IO, type UdpIo } from '../6-serve/server.ts';
import { parseListen, type ListenAddress } from '../0-base/listen.ts';
import { GslbError, SourceError } from '../0-base/errors.ts';
import { MapReader, YamlSource } from '../0-base/yaml-reader.ts';
import { tsigKeyFromConfig, type TsigKeyConfig } from '../1-codec/tsig.ts';
import { CLUSTER_DEFAULTS, type ClusterOptions, type Quorum } from './cluster-options.ts';
import { RRL_DEFAULTS, type RrlOptions } from '../6-serve/rrl.ts';
import type { CookieOptions } from '../1-codec/cookie.ts';
import { readZonesOptions, type ZoneOptions } from './zones-options.ts';
import { readCatalog, type CatalogOptions } from './catalog-options.ts';
import { readDnssec, type DnssecOptions } from './dnssec-options.ts';

/** What the file says; absent keys are absent (the command line or the defaults decide). */
export interface GslbdConfig {
  readonly file: string;
  readonly zones?: string;
  readonly listen?: readonly ListenAddress[];
  readonly data?: string;
  readonly geoip?: string;
  readonly tcpIdleMs?: number;
  readonly tcpMaxConnections?: number;
  readonly tcpMessageMs?: number;
  readonly tcpMaxPerClient?: number;
  /** Log every N-th query (0: no query log). */
  readonly queryLogSample?: number;
  /** SO_RCVBUF asked for each UDP socket, bytes (0: the kernel's default). */
  readonly udpReceiveBuffer?: number;
  /** UDP I/O (`io:`): batched (recvmmsg/sendmmsg, the default when built) or dgram. */
  readonly io?: UdpIo;
  /** Processes answering DNS (1: the main process alone). */
  readonly workers?: number;
  readonly api?: ApiOptions;
  readonly tsig?: readonly TsigKeyConfig[];
  /** Seconds (`tsig-max-fudge`). */
  readonly tsigMaxFudge?: number;
  /** Most changes one API request or UPDATE message may make. */
  readonly maxChanges?: number;
  /** Several nodes sharing state through etcd (`cluster:`); absent: one node, the local journal. */
  readonly cluster?: ClusterOptions;
  /** Response rate limiting (`rrl:`); absent: off. */
  readonly rrl?: RrlOptions;
  /** DNS Cookies (`cookies:`); absent: COOKIE options are ignored. */
  readonly cookies?: CookieOptions;
  /** Per-zone settings (`zones-options:`): zone transfers, NOTIFY, pools in transfers. */
  readonly zonesOptions?: readonly ZoneOptions[];
  /** The catalog zone gslbd generates (`catalog:`, RFC 9432); absent: none. */
  readonly catalog?: CatalogOptions;
  /** `dnssec:`: zones signed online. */
  readonly dnssec?: DnssecOptions;
}

export class ConfigError extends GslbError {
  readonly errors: readonly SourceError[];
  constructor(errors: readonly SourceError[]) {
    super('ERR_CONFIG', errors.map((e) => e.message).join('\n'));
    this.errors = errors;
  }
}

const TOP_KEYS = [
  'zones',
  'listen',
  'data',
  'geoip',
  'tcp-idle-timeout',
  'tcp-max-connections',
  'query-log-sample',
  'udp-receive-buffer',
  'io',
  'workers',
  'api',
  'tsig',
  'tsig-max-fudge',
  'tcp-message-timeout',
  'tcp-max-connections-per-client',
  'max-changes',
  'cluster',
  'rrl',
  'cookies',
  'zones-options',
  'catalog',
  'dnssec',
];
/** A shorter token could be guessed; 16 characters of base64 are 96 bits. */
export const MIN_TOKEN_LENGTH = 16;

/** Reads and checks `file`. Throws ConfigError (every error found) or GslbError (unreadable). */
export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<GslbdConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new GslbError('ERR_CONFIG', `${file}: cannot read: ${(e as Error).message}`);
  }
  const config = parseConfig(text, file, env);
  const errors: SourceError[] = [];
  if (config.data !== undefined) {
    const reason = await dataDirError(config.data);
    if (reason) errors.push(new SourceError('ERR_CONFIG', file, dataLines.get(config) ?? 0, `data: ${reason}`));
  }
  if (config.api?.tls) {
    const reason = await tlsFilesError(config.api.tls);
    if (reason) errors.push(new SourceError('ERR_CONFIG', file, tlsLines.get(config) ?? 0, `api.tls: ${reason}`));
  }
  // Files read later (a geo pool's first zone, the cluster's start) are looked at now, so serve and
  // check name them with their line instead of failing once running.
  for (const f of namedFiles.get(config) ?? []) {
    const reason = await readableFileError(f.path);
    if (reason) errors.push(new SourceError('ERR_CONFIG', file, f.line, `${f.key}: ${reason}`));
  }
  if (errors.length) throw new ConfigError(errors);
  return config;
}

/** The certificate chain and key of `tls`, read; throws GslbError naming the file that cannot be read. */
export async function readTlsFiles(tls: ApiTls): Promise<{ cert: Buffer; key: Buffer }> {
  const read = (f: string) =>
    readFile(f).catch((e: unknown) => {
      throw new GslbError('ERR_CONFIG', `${f}: cannot read: ${(e as Error).message}`);
    });
  return { cert: await read(tls.cert), key: await read(tls.key) };
}

/**
 * Why `tls` cannot serve HTTPS, or null: a file that cannot be read, PEM that does not parse, a key
 * that is not the certificate's (what Node's TLS would otherwise say only at the first handshake).
 */
export async function tlsFilesError(tls: ApiTls): Promise<string | null> {
  try {
    createSecureContext(await readTlsFiles(tls));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Why `dir` cannot hold the journal, or null. Only what is certain now: a missing directory is
 * made at start, and rights are for the journal to report.
 */
export async function dataDirError(dir: string): Promise<string | null> {
  const found = await stat(dir).catch(() => null);
  return found && !found.isDirectory() ? `${dir} is not a directory` : null;
}

/** Why `file` cannot be read as a file, or null. */
async function readableFileError(file: string): Promise<string | null> {
  const found = await stat(file).catch((e: NodeJS.ErrnoException) => e);
  if (found instanceof Error) return `${file}: ${found.code === 'ENOENT' ? 'no such file' : found.message}`;
  if (!found.isFile()) return `${file} is not a file`;
  return access(file, constants.R_OK).then(
    () => null,
    () => `${file}: not readable`,
  );
}

/** The files a parsed config names (`geoip`, the cluster's TLS files), each with its key and line. */
const namedFiles = new WeakMap<GslbdConfig, NamedFile[]>();
interface NamedFile {
  readonly key: string;
  readonly line: number;
  readonly path: string;
}

/** The line of `key` (`geoip`, `cluster.etcd.tls.ca`, ...) naming a file in `config`, for errors found later. */
export const fileLine = (config: GslbdConfig, key: string): number =>
  namedFiles.get(config)?.find((f) => f.key === key)?.line ?? 0;

/** The line of `data:` in each parsed file, for the check loadConfig makes on the file system. */
const dataLines = new WeakMap<GslbdConfig, number>();
/** The line of `api.tls:`, likewise (the certificate and key files are read and checked). */
const tlsLines = new WeakMap<GslbdConfig, number>();

/** Pure: the text of `file` in, the configuration out (or a ConfigError). */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv): GslbdConfig {
  const src = new YamlSource(file, text, 'ERR_CONFIG');
  if (src.errors.length) throw new ConfigError(src.errors);
  // An empty file (or one of comments only) is every default.
  if (src.root === null || (isScalar(src.root) && (src.root.value === null || src.root.value === ''))) return { file };
  expandEnv(src, src.root, '', env);
  const top = MapReader.of(src, src.root, '');
  if (!top || src.errors.length) throw new ConfigError(src.errors);
  top.only(TOP_KEYS);
  const dir = path.dirname(path.resolve(file));
  const filePath = (key: string) => {
    const v = top.string(key);
    return v === undefined ? undefined : path.resolve(dir, v);
  };
  const listen = top
    .list('listen')
    ?.map((n, i) => address(src, n, `listen[${i}]`, 53))
    .filter((a) => a !== undefined);
  // An empty list would start a server that answers nothing, and stays up, so a supervisor
  // never restarts it; no key at all means the defaults.
  if (top.list('listen')?.length === 0)
    top.fail('listen', 'an empty list: gslbd would answer no query (leave the key out for the defaults)');
  const config: GslbdConfig = {
    file,
    ...opt('zones', filePath('zones')),
    ...opt('listen', listen),
    ...opt('data', filePath('data')),
    ...opt('geoip', filePath('geoip')),
    ...opt('tcpIdleMs', top.duration('tcp-idle-timeout', 1000, 3_600_000)),
    ...opt('tcpMaxConnections', top.number('tcp-max-connections', 1, 1_000_000)),
    ...opt('queryLogSample', top.number('query-log-sample', 0, 1_000_000_000)),
    ...opt('udpReceiveBuffer', receiveBuffer(top)),
    ...opt('io', top.oneOf('io', UDP_IO)),
    ...opt('workers', top.number('workers', 1, 1024)),
    ...opt('api', top.has('api') ? readApi(src, top, filePathIn(dir)) : undefined),
    ...opt('tsig', top.has('tsig') ? readTsig(src, top) : undefined),
    ...opt('tsigMaxFudge', top.number('tsig-max-fudge', 1, 65535)),
    ...opt('tcpMessageMs', top.duration('tcp-message-timeout', 1000, 3_600_000)),
    ...opt('tcpMaxPerClient', top.number('tcp-max-connections-per-client', 1, 1_000_000)),
    ...opt('maxChanges', top.number('max-changes', 1, 1_000_000)),
    ...opt('cluster', top.has('cluster') ? readCluster(src, top, filePathIn(dir)) : undefined),
    ...opt('rrl', top.has('rrl') ? readRrl(src, top) : undefined),
    ...opt('cookies', top.has('cookies') ? readCookies(src, top) : undefined),
    ...opt('zonesOptions', top.has('zones-options') ? readZonesOptions(src, top) : undefined),
    ...opt('catalog', top.has('catalog') ? readCatalog(src, top) : undefined),
    ...opt('dnssec', top.has('dnssec') ? readDnssec(src, top) : undefined),
  };
  // In file order: an operator fixes a file from the top.
  if (src.errors.length) throw new ConfigError([...src.errors].sort((a, b) => a.line - b.line));
  if (config.data !== undefined) dataLines.set(config, top.line('data'));
  if (config.api?.tls) tlsLines.set(config, MapReader.of(src, top.node('api'), 'api')?.line('tls') ?? 0);
  const files: NamedFile[] = [];
  if (config.geoip !== undefined) files.push({ key: 'geoip', line: top.line('geoip'), path: config.geoip });
  if (config.cluster?.tls) {
    // Both are mappings: readCluster read them.
    const etcd = MapReader.of(src, MapReader.of(src, top.node('cluster'), 'cluster')?.node('etcd'), 'cluster.etcd');
    for (const [k, f] of Object.entries(config.cluster.tls))
      files.push({ key: `cluster.etcd.tls.${k}`, line: etcd?.line('tls') ?? 0, path: f });
  }
  namedFiles.set(config, files);
  return config;
}

const opt = <K extends string, V>(key: K, v: V | undefined) =>
  v === undefined ? {} : ({ [key]: v } as { [k in K]: V });

/** `udp-receive-buffer`: 0, or a byte count the kernel can make a useful buffer of. */
function receiveBuffer(top: MapReader): number | undefined {
  const raw = top.scalar('udp-receive-buffer');
  if (raw === undefined || raw === null) return undefined;
  return (
    parseReceiveBuffer(String(raw)) ??
    top.fail('udp-receive-buffer', `${RECEIVE_BUFFER_EXPECTED}, got "${String(raw)}"`)
  );
}

function address(src: YamlSource, node: YamlNode, at: string, defaultPort: number): ListenAddress | undefined {
  const text = isScalar(node) ? String(node.value) : undefined;
  if (text === undefined) return src.fail(node, at, 'expected an address like 127.0.0.1:5300 or [::1]:5300');
  try {
    return parseListen(text, defaultPort);
  } catch (e) {
    return src.fail(node, at, (e as Error).message);
  }
}

function readApi(src: YamlSource, top: MapReader, file: (v: string) => string): ApiOptions | undefined {
  const m = MapReader.of(src, top.node('api'), 'api');
  if (!m) return undefined;
  m.only(['listen', 'tokens', 'body-limit', 'tls', 'allow', 'max-in-flight-per-client']);
  const listenNode = m.node('listen');
  if (!listenNode) m.fail(undefined, 'missing "listen" (e.g. 127.0.0.1:8053)');
  const listen = listenNode ? address(src, listenNode, m.sub('listen'), 8053) : undefined;
  const tokens: ApiToken[] = [];
  const items = m.list('tokens') ?? [];
  if (items.length === 0)
    m.fail(
      m.has('tokens') ? 'tokens' : undefined,
      'at least one token is needed: without one every request is refused',
    );
  for (const [i, node] of items.entries()) {
    const at = `${m.sub('tokens')}[${i}]`;
    const t = MapReader.of(src, node, at);
    if (!t) continue;
    t.only(['token', 'access', 'name']);
    const token = t.string('token', true);
    const access = t.oneOf('access', ['read', 'write'] as const) ?? 'read';
    const name = t.string('name') ?? `token-${i + 1}`;
    if (token === undefined) continue;
    // The message never repeats the token: it may be a real secret with a typo.
    if (token.length < MIN_TOKEN_LENGTH) {
      t.fail('token', `too short (${token.length} characters; at least ${MIN_TOKEN_LENGTH})`);
      continue;
    }
    const hash = hashToken(token);
    if (tokens.some((x) => x.hash === hash)) {
      t.fail('token', 'the same token is listed twice');
      continue;
    }
    if (tokens.some((x) => x.name === name)) {
      t.fail('name', `"${name}" names two tokens`);
      continue;
    }
    tokens.push({ name, hash, access });
  }
  const bodyLimit = m.number('body-limit', 1024, 64 << 20) ?? DEFAULT_BODY_LIMIT;
  let tls: ApiTls | undefined;
  if (m.has('tls')) {
    const t = MapReader.of(src, m.node('tls'), m.sub('tls'));
    t?.only(['cert', 'key']);
    const [cert, key] = [t?.string('cert', true), t?.string('key', true)];
    if (cert !== undefined && key !== undefined) tls = { cert: file(cert), key: file(key) };
  }
  const allow = m.cidrs('allow');
  // An empty list would refuse every client, the operator's own tools included.
  if (m.list('allow')?.length === 0)
    m.fail('allow', 'an empty list: every client would be refused (leave the key out to allow any)');
  const maxInFlightPerClient = m.number('max-in-flight-per-client', 1, 100_000);
  return (
    listen && {
      listen,
      tokens,
      bodyLimit,
      ...(tls && { tls }),
      ...(allow && { allow }),
      ...(maxInFlightPerClient !== undefined && { maxInFlightPerClient }),
    }
  );
}

/** `http://host:port` or `https://host:port`, nothing after the port. */
function isEtcdUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.port !== '' && u.pathname === '/';
  } catch {
    return false;
  }
}

const filePathIn = (dir: string) => (v: string) => path.resolve(dir, v);

/** `cluster:`: the node's name, etcd (endpoints, prefix, tls, auth), and the health quorum settings. */
function readCluster(src: YamlSource, top: MapReader, file: (v: string) => string): ClusterOptions | undefined {
  const m = MapReader.of(src, top.node('cluster'), 'cluster');
  if (!m) return undefined;
  m.only(['node', 'etcd', 'quorum', 'vote-ttl', 'probe-from', 'snapshot-every']);
  const node = m.string('node') ?? CLUSTER_DEFAULTS.node();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(node))
    m.fail('node', `"${node}" is not a node name (letters, digits, ".", "_", "-"; at most 63)`);
  const e = m.has('etcd')
    ? MapReader.of(src, m.node('etcd'), m.sub('etcd'))
    : m.fail(undefined, 'missing "etcd" (endpoints: ["http://127.0.0.1:2379"])');
  if (!e) return undefined;
  e.only(['endpoints', 'prefix', 'tls', 'auth']);
  const endpoints: string[] = [];
  for (const [i, n] of (e.list('endpoints') ?? []).entries()) {
    const v = isScalar(n) ? String(n.value) : '';
    if (isEtcdUrl(v)) endpoints.push(v);
    else src.fail(n, `${e.sub('endpoints')}[${i}]`, `"${v}" is not an etcd client URL like http://127.0.0.1:2379`);
  }
  if (!e.has('endpoints') || (e.list('endpoints') ?? []).length === 0)
    e.fail(e.has('endpoints') ? 'endpoints' : undefined, 'at least one etcd endpoint is needed');
  const prefix = e.string('prefix') ?? CLUSTER_DEFAULTS.prefix;
  if (!prefix.startsWith('/') || !prefix.endsWith('/'))
    e.fail('prefix', `"${prefix}" must start and end with "/" (e.g. /gslbd/)`);
  let tls: ClusterOptions['tls'];
  if (e.has('tls')) {
    const t = MapReader.of(src, e.node('tls'), e.sub('tls'));
    t?.only(['ca', 'cert', 'key']);
    const [ca, cert, key] = [t?.string('ca'), t?.string('cert'), t?.string('key')];
    if (t && (cert === undefined) !== (key === undefined)) t.fail(undefined, 'cert and key go together');
    if (t && ca === undefined) t.fail(undefined, 'missing "ca" (the CA that signed the etcd members\' certificates)');
    tls = {
      ...(ca !== undefined && { ca: file(ca) }),
      ...(cert !== undefined && { cert: file(cert) }),
      ...(key !== undefined && { key: file(key) }),
    };
  }
  let auth: ClusterOptions['auth'];
  if (e.has('auth')) {
    const a = MapReader.of(src, e.node('auth'), e.sub('auth'));
    a?.only(['username', 'password']);
    const [username, password] = [a?.string('username', true), a?.string('password', true)];
    if (username !== undefined && password !== undefined) auth = { username, password };
  }
  let quorum: Quorum = CLUSTER_DEFAULTS.quorum;
  const q = m.scalar('quorum');
  if (q !== undefined && q !== null) {
    if (q === 'majority' || q === 'any' || q === 'all') quorum = q;
    else quorum = m.number('quorum', 1, 1000) ?? quorum;
  }
  const voteTtlMs = m.duration('vote-ttl', 1000, 3_600_000) ?? CLUSTER_DEFAULTS.voteTtlMs;
  const snapshotEvery = m.number('snapshot-every', 10, 1_000_000);
  let probeFrom: ClusterOptions['probeFrom'] = CLUSTER_DEFAULTS.probeFrom;
  const pf = m.node('probe-from');
  if (pf !== undefined && pf !== null) {
    if (isScalar(pf) && pf.value === 'all') probeFrom = 'all';
    else probeFrom = (m.list('probe-from') ?? []).map((n) => (isScalar(n) ? String(n.value) : ''));
  }
  return {
    node,
    endpoints,
    prefix,
    ...(tls && { tls }),
    ...(auth && { auth }),
    quorum,
    voteTtlMs,
    probeFrom,
    ...(snapshotEvery !== undefined && { snapshotEvery }),
  };
}

/** `rrl:`: response rate limiting; `rate` is required, the rest have Knot's and NSD's defaults. */
function readRrl(src: YamlSource, top: MapReader): RrlOptions | undefined {
  const m = MapReader.of(src, top.node('rrl'), 'rrl');
  if (!m) return undefined;
  m.only(['rate', 'slip', 'whitelist', 'ipv4-prefix', 'ipv6-prefix', 'log-only', 'table-size']);
  const rate = m.has('rate')
    ? m.number('rate', 1, 1_000_000)
    : m.fail(undefined, 'missing "rate" (responses per second per client prefix, e.g. 20)');
  const whitelist = (m.cidrs('whitelist') ?? []).map((c) => `${c.address}/${c.prefix}`);
  const out = {
    rate,
    slip: m.number('slip', 0, 100) ?? RRL_DEFAULTS.slip,
    whitelist,
    ipv4Prefix: m.number('ipv4-prefix', 8, 32) ?? RRL_DEFAULTS.ipv4Prefix,
    ipv6Prefix: m.number('ipv6-prefix', 16, 128) ?? RRL_DEFAULTS.ipv6Prefix,
    logOnly: m.boolean('log-only') ?? RRL_DEFAULTS.logOnly,
    tableSize: m.number('table-size', 1, 100_000_000) ?? RRL_DEFAULTS.tableSize,
  };
  return rate === undefined ? undefined : { ...out, rate };
}

/** `cookies:`: the server cookie secret (RFC 9018: 16 octets, as 32 hex digits) and the one before it. */
function readCookies(src: YamlSource, top: MapReader): CookieOptions | undefined {
  const m = MapReader.of(src, top.node('cookies'), 'cookies');
  if (!m) return undefined;
  m.only(['secret', 'previous-secret']);
  // The messages never repeat a secret: it may be a real one with a typo.
  const hex = (key: string) => {
    const v = m.string(key, key === 'secret');
    if (v === undefined) return undefined;
    if (/^[0-9a-fA-F]{32}$/.test(v)) return v.toLowerCase();
    return m.fail(
      key,
      `expected 32 hex digits (16 octets, e.g. from \`openssl rand -hex 16\`), got ${v.length} characters${/^[0-9a-fA-F]*$/.test(v) ? '' : ' with some not hex'}`,
    );
  };
  const secret = hex('secret');
  const previousSecret = hex('previous-secret');
  if (secret !== undefined && previousSecret === secret) m.fail('previous-secret', 'the same as secret');
  return secret === undefined ? undefined : { secret, ...(previousSecret !== undefined && { previousSecret }) };
}

/** TSIG keys, in the shape `--tsig-key` gives them; 1-codec/tsig.ts checks each as Service will. */
function readTsig(src: YamlSource, top: MapReader): TsigKeyConfig[] {
  const keys: TsigKeyConfig[] = [];
  for (const [i, node] of (top.list('tsig') ?? []).entries()) {
    const k = MapReader.of(src, node, `tsig[${i}]`);
    if (!k) continue;
    k.only(['name', 'algorithm', 'secret', 'zones']);
    const errorsBefore = src.errors.length;
    const name = k.string('name', true);
    const algorithm = k.string('algorithm') ?? 'hmac-sha256';
    const secret = k.string('secret', true);
    const zones = k
      .list('zones')
      ?.map((z, j) => (isScalar(z) ? String(z.value) : src.fail(z, `${k.sub('zones')}[${j}]`, 'expected a zone name')));
    if (src.errors.length > errorsBefore || name === undefined || secret === undefined) continue;
    const key: TsigKeyConfig = {
      name,
      algorithm,
      secret,
      ...(zones && { zones: zones.filter((z) => z !== undefined) }),
    };
    let checked;
    try {
      checked = tsigKeyFromConfig(key);
    } catch (e) {
      // Pointed at the line of the field the message is about.
      const message = (e as Error).message;
      const field = ['secret', 'algorithm', 'zone'].find((f) => message.includes(`: ${f}`)) ?? 'name';
      k.fail(field === 'zone' ? 'zones' : field, message);
      continue;
    }
    if (keys.some((x) => tsigKeyFromConfig(x).name === checked.name)) k.fail('name', `key ${name} is defined twice`);
    else keys.push(key);
  }
  return keys;
}

/**
 * Replaces `${VAR}` in every string value with the environment's VAR (`$$` is a literal `$`). An
 * unset variable is an error at the value's line: starting with an empty token or secret instead
 * would fail later and far less clearly.
 */
function expandEnv(src: YamlSource, node: YamlNode | null, at: string, env: NodeJS.ProcessEnv): void {
  if (node === null) return;
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      expandEnv(src, pair.value as YamlNode | null, at ? `${at}.${key}` : key, env);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => expandEnv(src, item as YamlNode, `${at}[${i}]`, env));
  } else if (isScalar(node) && typeof node.value === 'string' && node.value.includes('$')) {
    src.expanded.add(node);
    node.value = node.value.replace(/\$(\$|\{([^}]*)\})/g, (whole, inner: string, name: string | undefined) => {
      if (inner === '$') return '$';
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name ?? '')) {
        src.fail(node, at, `"${whole}" is not a variable reference like \${NAME}`);
        return whole;
      }
      const value = env[name!];
      if (value === undefined) {
        src.fail(node, at, `environment variable ${name} is not set`);
        return whole;
      }
      return value;
    });
  }
}
