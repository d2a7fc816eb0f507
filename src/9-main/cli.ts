// gslbd command line: `gslbd serve`, `gslbd check`, `gslbd journal`, and the operator commands.

import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { GslbError } from '../0-base/errors.ts';
import { createLogger } from '../0-base/log.ts';
import { parseReceiveBuffer, RECEIVE_BUFFER_EXPECTED, UDP_IO, type UdpIo } from '../6-serve/server.ts';
import { parseListen, type ListenAddress } from '../0-base/listen.ts';
import { Service, type Settings } from './service.ts';
import { ClusterPrimary } from './cluster/primary.ts';
import { journalCommand } from './journal-cli.ts';
import { opsCommand } from './ops-cli.ts';
import { agentCommand, reportCommand } from './agent.ts';
import { commandHelp, versionText } from './usage.ts';
import { ConfigError, dataDirError, fileLine, loadConfig, type GslbdConfig } from '../7-config/load.ts';
import { openGeoDatabase } from '../3-geo/index.ts';
import { FUDGE, tsigKeyFromConfig, type TsigKeyConfig } from '../1-codec/tsig.ts';
import { zonesOptionsErrors } from '../7-config/zones-options.ts';
import { catalogErrors } from '../7-config/catalog-options.ts';
import { keyFromText } from '../0-base/name.ts';
import { checkZones } from '../4-gslb/check.ts';
import { DEFAULT_MAX_CHANGES } from '../7-state/editor.ts';
import { parseDuration } from '../0-base/yaml-reader.ts';
import { dnssecCommand, dnssecKeys } from './dnssec-cli.ts';

const USAGE = `usage:
  gslbd serve [--zones DIR] [--listen ADDR:PORT ...]   serve the zones in DIR (default ./zones)
        --config FILE       settings from gslbd.yaml (README: Configuration); flags override it
        defaults: --listen 127.0.0.1:5300 --listen [::1]:5300
        --log-format json|pretty   JSON lines (default), or one readable line per event for a terminal
        --data DIR          journal and snapshots: dynamic state and last known health (default ./data)
        --geoip FILE.mmdb   client locations from a MaxMind-format database (default: geoip-lite)
        --tsig-key NAME:ALGORITHM:BASE64SECRET[:ZONE,ZONE...]   (repeatable) a key for RFC 2136
                            UPDATE; hmac-sha256|hmac-sha512|hmac-sha1|hmac-sha224|hmac-sha384;
                            without zones the key may update every zone served; queries signed
                            with a key are answered signed (RFC 8945)
        --tsig-max-fudge SECONDS (300)   largest TSIG time fudge accepted, whatever a request asks
        --tcp-idle-timeout SECONDS (10)   --tcp-max-connections N (512)
        --tcp-message-timeout SECONDS (5)   a TCP message must arrive whole this long after its first byte
        --tcp-max-connections-per-client N (64)   TCP connections from one IPv4 address or IPv6 /64
        --udp-receive-buffer BYTES   SO_RCVBUF of each UDP socket (default 4194304; 0: the kernel's);
                            Linux caps it at net.core.rmem_max: the granted size is logged
        --io batched|dgram  UDP through recvmmsg/sendmmsg, a batch of datagrams per call (default,
                            Linux, built by npm install), or node:dgram, one at a time; without
                            the native module, dgram serves with a warning
        --query-log-sample N   log every N-th query (qname, qtype, client, rcode) at info; 0: off (default)
        --workers N         threads answering DNS (default: one per core); 1: the main thread alone
        --max-changes N     most changes one API request or RFC 2136 UPDATE may make, and most
                            prerequisites of one UPDATE (1000)
  gslbd check [--zones DIR] [--config FILE]           validate zones (and gslbd.yaml, with what its
                                                      zones-options say of zones and keys); prints
                                                      file:line: reason
  gslbd journal verify [--data DIR]                   check the journal as serve reads it: exit 0
                                                      with counts, 1 with each bad record
  gslbd dnssec ds ZONE [--config FILE | --data DIR]   the DS (SHA-256) and DNSKEY of a signed zone's
                                                      keys, in zone-file form, for its parent
  gslbd dnssec rollover ZONE [--config FILE] [--propagation 1h]   a new key for ZONE, published at the
                                                      next reload, signing after the DNSKEY TTL +
                                                      propagation; the old key then retired
  gslbd journal recover [--data DIR]                  gslbd stopped: keep the journal's records
                                                      before the first bad one (original kept as
                                                      journal.log.corrupt-<time>)
  gslbd version                                       gslbd's version and Node.js's
  gslbd help [COMMAND]                                this text, or one command's (also COMMAND --help)

Operator commands (talk to a running gslbd's HTTP API; --api URL or GSLBD_API or --config FILE,
--token TOKEN or GSLBD_API_TOKEN; for an https API, --ca FILE or GSLBD_API_CA: the CA that signed
its certificate):
  gslbd status [--json]                               pools, targets, state, weight, traffic
  gslbd drain TARGET [--for 30m] [--reason TEXT]      TARGET: ADDRESS (every pool) or POOL/ADDRESS
  gslbd undrain TARGET
  gslbd reload                                        reload zones and pools (like SIGHUP)
  gslbd explain NAME [--type A] [--client IP | --subnet CIDR] [--json]
  gslbd cluster status [--json]                       the cluster's nodes: applied seq, lag, last seen,
                                                      whether their files are this node's
  gslbd report TARGET --load N --capacity M [--valid-for 30s]
                                                      one load report for least-load (TARGET as for drain)
  gslbd agent TARGET SOURCE [--capacity M] [--interval 10s]
                                                      report TARGET's load every interval, valid for 3;
                                                      SOURCE: --loadavg (capacity: the CPUs), --cpu (%,
                                                      capacity 100), --connections PORT (established
                                                      TCP connections to a local port), --command CMD
                                                      (the first number it prints), --prometheus URL
                                                      --metric NAME[{label="value"}] (the samples' sum);
                                                      retries with backoff, exit 1 on a refused token
`;

const DEFAULT_LISTEN = ['127.0.0.1:5300', '[::1]:5300'];

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      zones: { type: 'string' },
      listen: { type: 'string', multiple: true },
      'tcp-idle-timeout': { type: 'string' },
      'tcp-max-connections': { type: 'string' },
      'tcp-message-timeout': { type: 'string' },
      'tcp-max-connections-per-client': { type: 'string' },
      'udp-receive-buffer': { type: 'string' },
      io: { type: 'string' },
      geoip: { type: 'string' },
      data: { type: 'string' },
      'tsig-key': { type: 'string', multiple: true },
      'tsig-max-fudge': { type: 'string' },
      'query-log-sample': { type: 'string' },
      workers: { type: 'string' },
      'max-changes': { type: 'string' },
      'log-format': { type: 'string' },
    },
    strict: true,
  });
  const format = values['log-format'];
  if (format !== undefined) {
    if (format !== 'json' && format !== 'pretty')
      throw new GslbError('ERR_CONFIG', `--log-format ${format}: json or pretty`);
    // Through the environment, so the worker processes log the same way.
    process.env.GSLBD_LOG_FORMAT = format;
  }
  const log = createLogger();
  // Flags override the file; the file overrides the defaults.
  const file: Partial<GslbdConfig> = values.config === undefined ? {} : await loadConfig(values.config);
  const asked = values.listen ?? [];
  const listen: { address: ListenAddress; required: boolean }[] =
    asked.length || !file.listen
      ? (asked.length ? asked : DEFAULT_LISTEN).map((text) => ({
          address: parseListen(text),
          required: asked.length > 0,
        }))
      : file.listen.map((address) => ({ address, required: true }));
  const geoip = values.geoip ?? file.geoip;
  const dataDir = values.data ?? file.data ?? './data';
  // loadConfig has checked the file's `data:` (with its line); a flag or the default is checked here.
  const dataReason = dataDir === file.data ? null : await dataDirError(dataDir);
  if (dataReason) throw new GslbError('ERR_CONFIG', `--data: ${dataReason}`);
  const workers = positiveInt(values.workers, 'workers', file.workers ?? os.availableParallelism());
  if (workers > 1024) throw new GslbError('ERR_CONFIG', `--workers ${workers}: at most 1024`);
  const udpReceiveBuffer = receiveBufferFlag(values['udp-receive-buffer']) ?? file.udpReceiveBuffer;
  const io = ioFlag(values.io) ?? file.io;
  const options = {
    zonesDir: values.zones ?? file.zones ?? './zones',
    listen,
    log,
    tcpIdleMs: positiveInt(values['tcp-idle-timeout'], 'tcp-idle-timeout', (file.tcpIdleMs ?? 10_000) / 1000) * 1000,
    tcpMaxConnections: positiveInt(values['tcp-max-connections'], 'tcp-max-connections', file.tcpMaxConnections ?? 512),
    tcpMessageMs:
      positiveInt(values['tcp-message-timeout'], 'tcp-message-timeout', (file.tcpMessageMs ?? 5_000) / 1000) * 1000,
    tcpMaxPerClient: positiveInt(
      values['tcp-max-connections-per-client'],
      'tcp-max-connections-per-client',
      file.tcpMaxPerClient ?? 64,
    ),
    ...(geoip !== undefined && { geo: { type: 'mmdb', path: geoip } as const }),
    dataDir,
    // Workers read the copies of secondary zones the primary process pulls.
    secondaryDir: path.join(dataDir, 'secondary'),
    // --tsig-key flags replace the file's keys rather than add to them, as every other flag does.
    tsig: values['tsig-key'] ? values['tsig-key'].map(tsigKeyFlag) : (file.tsig ?? []),
    tsigMaxFudge: maxFudge(values['tsig-max-fudge'], file.tsigMaxFudge),
    ...(file.api && { api: file.api }),
    queryLogSample: nonNegativeInt(values['query-log-sample'], 'query-log-sample', file.queryLogSample ?? 0),
    maxChanges: positiveInt(values['max-changes'], 'max-changes', file.maxChanges ?? DEFAULT_MAX_CHANGES),
    ...(udpReceiveBuffer !== undefined && { udpReceiveBuffer }),
    ...(io !== undefined && { io }),
    ...(file.cluster && { cluster: file.cluster }),
    ...(file.zonesOptions && { zonesOptions: file.zonesOptions }),
    ...(file.catalog && { catalog: file.catalog }),
    ...(values.config !== undefined && { settings: reloadable(values.config, values) }),
    ...(file.rrl && { rrl: file.rrl }),
    ...(file.cookies && { cookies: file.cookies }),
    ...historyStep(),
    ...(file.dnssec && { dnssec: await dnssecKeys(dataDir, file.dnssec, log, file.cluster !== undefined) }),
  };
  // One process answers alone; more: a primary (journal, probes, API) and worker processes (DNS).
  const service = workers > 1 ? new ClusterPrimary(options, workers) : new Service(options);
  // Registered before start: a SIGHUP during start-up must not kill the process (the default
  // action); it reloads once start-up is done.
  let reloading: Promise<unknown> = Promise.resolve();
  let started = false;
  let hupDuringStart = false;
  const reload = () => {
    reloading = reloading.then(() => service.reload()).catch((err) => log.error({ err }, 'reload failed'));
  };
  process.on('SIGHUP', () => {
    log.info("SIGHUP: reloading zones, and gslbd.yaml's API tokens and TSIG keys");
    if (started) reload();
    else hupDuringStart = true;
  });
  await service.start();
  started = true;
  if (hupDuringStart) reload();
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info(`${sig}: stopping`);
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await service.stop();
  return 0;
}

/**
 * What a reload reads again from gslbd.yaml: the `api` section (tokens, allow list, in-flight limit,
 * certificate) and the TSIG keys. `--tsig-key` and `--tsig-max-fudge` flags keep winning over the
 * file, as at start.
 */
function reloadable(config: string, flags: { 'tsig-key'?: string[]; 'tsig-max-fudge'?: string }): Settings {
  return {
    file: config,
    async read() {
      const f = await loadConfig(config);
      return {
        ...(f.api && { api: f.api }),
        tsig: flags['tsig-key'] ? flags['tsig-key'].map(tsigKeyFlag) : (f.tsig ?? []),
        tsigMaxFudge: maxFudge(flags['tsig-max-fudge'], f.tsigMaxFudge),
        ...(f.cookies && { cookies: f.cookies }),
        zonesOptions: f.zonesOptions ?? [],
        ...(f.catalog && { catalog: f.catalog }),
      };
    },
  };
}

/** `--tsig-key NAME:ALGORITHM:BASE64SECRET[:ZONE,ZONE...]` (base64 has no colon). */
function tsigKeyFlag(text: string): TsigKeyConfig {
  const [name, algorithm, secret, zones, ...extra] = text.split(':');
  if (!name || !algorithm || !secret || extra.length) {
    throw new GslbError(
      'ERR_CONFIG',
      `--tsig-key ${name ?? ''}:...: expected NAME:ALGORITHM:BASE64SECRET[:ZONE,ZONE...]`,
    );
  }
  return { name, algorithm, secret, ...(zones !== undefined && { zones: zones.split(',').filter(Boolean) }) };
}

/** `--tsig-max-fudge SECONDS`: at most 65535, the largest fudge a TSIG RR can carry (RFC 8945 §4.2). */
function maxFudge(text: string | undefined, file: number | undefined): number {
  const n = positiveInt(text, 'tsig-max-fudge', file ?? FUDGE);
  if (n > 65535) throw new GslbError('ERR_CONFIG', `--tsig-max-fudge ${n}: at most 65535`);
  return n;
}

/** GSLBD_HISTORY_STEP (a duration, at least 1s): how often the status page's charts take a sample. */
function historyStep(): { historyStepMs?: number } {
  const text = process.env.GSLBD_HISTORY_STEP;
  if (text === undefined || text === '') return {};
  const ms = parseDuration(text);
  if (ms === undefined || ms < 1000)
    throw new GslbError('ERR_CONFIG', `GSLBD_HISTORY_STEP ${text}: a duration of 1s or more`);
  return { historyStepMs: ms };
}

function positiveInt(text: string | undefined, flag: string, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new GslbError('ERR_CONFIG', `--${flag} ${text}: not a positive integer`);
  return n;
}

/** `--io batched|dgram`. */
function ioFlag(text: string | undefined): UdpIo | undefined {
  if (text === undefined) return undefined;
  if (!(UDP_IO as readonly string[]).includes(text))
    throw new GslbError('ERR_CONFIG', `--io ${text}: ${UDP_IO.join(' or ')}`);
  return text as UdpIo;
}

/** `--udp-receive-buffer BYTES`: 0, or a size the kernel can make a useful buffer of. */
function receiveBufferFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = parseReceiveBuffer(text);
  if (n === undefined) throw new GslbError('ERR_CONFIG', `--udp-receive-buffer ${text}: ${RECEIVE_BUFFER_EXPECTED}`);
  return n;
}

function nonNegativeInt(text: string | undefined, flag: string, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number(text);
  if (text.trim() === '' || !Number.isInteger(n) || n < 0)
    throw new GslbError('ERR_CONFIG', `--${flag} ${text}: not an integer ≥ 0`);
  return n;
}

/**
 * `gslbd check [--zones DIR] [--config FILE]`: the zones and pools; with a config, gslbd.yaml too
 * and what it says of the zones (zones-options: each zone has a file, each transfer key is a key of
 * `tsig:`; catalog: no zone file has its name, zones-options lets a secondary transfer it). The zones directory is --zones, else the config's `zones:`, else ./zones.
 */
async function check(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { zones: { type: 'string' }, config: { type: 'string' } },
    strict: true,
  });
  let config: GslbdConfig | undefined;
  if (values.config !== undefined) {
    try {
      config = await loadConfig(values.config);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const err of e.errors) process.stderr.write(`${err.message}\n`);
      return 1;
    }
  }
  const dir = values.zones ?? config?.zones ?? './zones';
  const secondaries = new Set((config?.zonesOptions ?? []).filter((o) => o.primary).map((o) => keyFromText(o.zone)));
  const result = await checkZones(dir, secondaries);
  const errors = [...result.errors];
  const files = new Set([...result.zones.map((z) => z.origin), ...result.failed].map((o) => keyFromText(o)));
  if (config?.catalog) errors.push(...catalogErrors(config.catalog, config.zonesOptions ?? [], files, dir));
  if (config?.zonesOptions) {
    const keys = new Set((config.tsig ?? []).map((k) => tsigKeyFromConfig(k).name));
    // The catalog has zones-options (its ACL, its NOTIFY list) and no file.
    const named = config.catalog ? new Set([...files, keyFromText(config.catalog.zone)]) : files;
    errors.push(...zonesOptionsErrors(config.zonesOptions, named, keys, dir));
  }
  // The location database, opened as serve opens it for its first geo pool.
  if (config?.geoip !== undefined) {
    const why = await openGeoDatabase({ type: 'mmdb', path: config.geoip }).then(
      () => null,
      (e: unknown) => (e as Error).message,
    );
    if (why !== null) errors.push(`${config.file}:${fileLine(config, 'geoip')}: geoip: ${why}`);
  }
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  for (const e of errors) process.stderr.write(`${e}\n`);
  for (const z of result.zones)
    process.stdout.write(`zone ${z.origin}: loaded serial ${z.serial}, ${z.records} records\n`);
  return errors.length ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `gslbd COMMAND --help`: that command's part of USAGE, before its flags are read.
  if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    const help = commandHelp(USAGE, command);
    if (help !== null) {
      process.stdout.write(help);
      return 0;
    }
  }
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'check':
      return check(rest);
    case 'journal':
      return journalCommand(rest);
    case 'status':
    case 'drain':
    case 'undrain':
    case 'reload':
    case 'explain':
      return opsCommand(command, rest);
    case 'report':
      return reportCommand(rest);
    case 'agent':
      return agentCommand(rest);
    case 'dnssec':
      return dnssecCommand(rest);
    case 'cluster':
      if (rest[0] !== 'status') {
        process.stderr.write(`gslbd: cluster ${rest[0] ?? ''}: unknown (gslbd cluster status)\n`);
        return 2;
      }
      return opsCommand('cluster-status', rest.slice(1));
    case 'version':
    case '--version':
      process.stdout.write(versionText());
      return 0;
    case 'help':
      if (rest[0] !== undefined) {
        const help = commandHelp(USAGE, rest[0]);
        if (help === null) {
          process.stderr.write(`gslbd: help ${rest[0]}: no such command\n${USAGE}`);
          return 2;
        }
        process.stdout.write(help);
        return 0;
      }
      process.stdout.write(USAGE);
      return 0;
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`gslbd: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message =
      err instanceof GslbError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? (err as Error).message
        : String((err as Error).stack ?? err);
    process.stderr.write(`gslbd: ${message}\n`);
    process.exit(1);
  },
);
