// gslbd.yaml: the example loads as written (a real secret in place of "base64…"),
// environment variables expand, and every error reads `file:line: path: reason`.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTls } from '../helpers/tls.ts';
import { hashToken } from '../../src/7-config/api-options.ts';
import { loadConfig, parseConfig } from '../../src/7-config/load.ts';
import { GslbError } from '../../src/0-base/errors.ts';
import { ROOT } from '../helpers/gslbd.ts';
import { configErrors } from './helpers.ts';

const FIXTURE = path.join(ROOT, 'test/fixtures/api/gslbd.yaml');
const TOKEN = 'an-api-token-of-32-characters-xx';

describe('the example of the issue', () => {
  it('loads, with paths relative to the file and the token from the environment', async () => {
    const config = await loadConfig(FIXTURE, { GSLBD_API_TOKEN: TOKEN });
    const dir = path.dirname(FIXTURE);
    expect(config).toEqual({
      file: FIXTURE,
      zones: path.join(dir, 'zones'),
      listen: [
        { host: '127.0.0.1', port: 5300 },
        { host: '::1', port: 5300 },
      ],
      data: path.join(dir, 'data'),
      api: {
        listen: { host: '127.0.0.1', port: 8053 },
        tokens: [{ name: 'token-1', hash: hashToken(TOKEN), access: 'write' }],
        bodyLimit: 1 << 20,
      },
      tsig: [
        {
          name: 'monitor-key.',
          algorithm: 'hmac-sha256',
          secret: 'c2VjcmV0IHNoYXJlZCB3aXRoIHRoZSBtb25pdG9y',
          zones: ['gslb.example.'],
        },
      ],
    });
  });

  it('keeps only a hash of the token', async () => {
    const config = await loadConfig(FIXTURE, { GSLBD_API_TOKEN: TOKEN });
    expect(JSON.stringify(config)).not.toContain(TOKEN);
  });

  it('names the variable and its line when it is not set', async () => {
    await expect(loadConfig(FIXTURE, {})).rejects.toThrow(
      `${FIXTURE}:7: api.tokens[0].token: environment variable GSLBD_API_TOKEN is not set`,
    );
  });

  it('says so when the file cannot be read', async () => {
    const err = await loadConfig('/nonexistent/gslbd.yaml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GslbError);
    expect((err as GslbError).message).toMatch(/^\/nonexistent\/gslbd.yaml: cannot read: ENOENT/);
  });
});

describe('the other keys', () => {
  it('reads geoip, TCP limits, token names and read access, the body limit and a key for every zone', () => {
    const config = parseConfig(
      [
        'geoip: /var/lib/GeoLite2-City.mmdb',
        'tcp-idle-timeout: 30s',
        'tcp-max-connections: 2000',
        'api:',
        '  listen: "[::1]:9000"',
        '  body-limit: 65536',
        '  tokens:',
        '    - { name: dashboard, token: read-only-token-0123456 }',
        '    - { name: monitor, token: "${A}${B}", access: write }',
        'tsig:',
        '  - { name: all-zones, algorithm: hmac-sha512, secret: "c2VjcmV0" }',
        'tsig-max-fudge: 120',
        'tcp-message-timeout: 3s',
        'tcp-max-connections-per-client: 16',
      ].join('\n'),
      '/etc/gslbd/gslbd.yaml',
      { A: 'first-half-', B: 'second-half' },
    );
    expect(config).toEqual({
      file: '/etc/gslbd/gslbd.yaml',
      geoip: '/var/lib/GeoLite2-City.mmdb',
      tcpIdleMs: 30_000,
      tcpMaxConnections: 2000,
      api: {
        listen: { host: '::1', port: 9000 },
        bodyLimit: 65536,
        tokens: [
          { name: 'dashboard', hash: hashToken('read-only-token-0123456'), access: 'read' },
          { name: 'monitor', hash: hashToken('first-half-second-half'), access: 'write' },
        ],
      },
      tsig: [{ name: 'all-zones', algorithm: 'hmac-sha512', secret: 'c2VjcmV0' }],
      tsigMaxFudge: 120,
      tcpMessageMs: 3000,
      tcpMaxPerClient: 16,
    });
  });

  it('expands variables in any value, and $$ is a literal $', () => {
    const config = parseConfig(
      'zones: "${BASE}/zones"\ndata: "$${BASE}"\nlisten: ["127.0.0.1:${PORT}"]\n',
      '/x/gslbd.yaml',
      { BASE: '/srv', PORT: '53' },
    );
    expect(config.zones).toBe('/srv/zones');
    expect(config.data).toBe('/x/${BASE}');
    expect(config.listen).toEqual([{ host: '127.0.0.1', port: 53 }]);
  });

  it('accepts an empty file', () => {
    expect(parseConfig('', 'gslbd.yaml', {})).toEqual({ file: 'gslbd.yaml' });
  });
});

describe('errors, each with file:line: path: reason', () => {
  it.each([
    [
      'an unknown key',
      'zones: ./zones\nlisten_on: 1.2.3.4\n',
      [
        'gslbd.yaml:2: listen_on: unknown key (known keys: zones, listen, data, geoip, tcp-idle-timeout, tcp-max-connections, query-log-sample, udp-receive-buffer, io, workers, api, tsig, tsig-max-fudge, tcp-message-timeout, tcp-max-connections-per-client, max-changes, cluster, rrl, cookies, zones-options, catalog, dnssec)',
      ],
    ],
    ['YAML that does not parse', 'zones: ./zones\napi: [\n', [expect.stringMatching(/^gslbd\.yaml:\d+: /)]],
    ['a file that is not a mapping', '- a\n- b\n', ['gslbd.yaml:1: expected a mapping']],
    [
      'a bad listen address',
      'listen: ["127.0.0.1:5300", "localhost:53"]\n',
      ['gslbd.yaml:1: listen[1]: listen address "localhost:53": "localhost" is not an IP address'],
    ],
    [
      'a bad port',
      'listen:\n  - 127.0.0.1:99999\n',
      ['gslbd.yaml:2: listen[0]: listen address "127.0.0.1:99999": bad port'],
    ],
    [
      'a UDP receive buffer that is not a byte count',
      'udp-receive-buffer: 4M\n',
      ['gslbd.yaml:1: udp-receive-buffer: expected 0 (the kernel\'s default) or 4096..1073741824 bytes, got "4M"'],
    ],
    [
      'a TCP timeout that is not a duration',
      'tcp-idle-timeout: soon\n',
      ['gslbd.yaml:1: tcp-idle-timeout: expected a duration like 2s, 500ms or 1m, got "soon"'],
    ],
    [
      'TCP connections out of range',
      'tcp-max-connections: 0\n',
      ['gslbd.yaml:1: tcp-max-connections: 0 is out of range 1..1000000'],
    ],
    [
      'a TSIG fudge no TSIG RR can carry',
      'tsig-max-fudge: 70000\n',
      ['gslbd.yaml:1: tsig-max-fudge: 70000 is out of range 1..65535'],
    ],
    [
      'an unset variable',
      'zones: ./zones\ndata: "${NOPE}/data"\n',
      ['gslbd.yaml:2: data: environment variable NOPE is not set'],
    ],
    [
      'a malformed variable reference',
      'data: "${1X}"\n',
      ['gslbd.yaml:1: data: "${1X}" is not a variable reference like ${NAME}'],
    ],
    [
      'an API without listen',
      'api:\n  tokens: [{ token: abcdefghijklmnopq }]\n',
      ['gslbd.yaml:2: api: missing "listen" (e.g. 127.0.0.1:8053)'],
    ],
    [
      'an API without tokens',
      'api:\n  listen: 127.0.0.1:8053\n',
      ['gslbd.yaml:2: api: at least one token is needed: without one every request is refused'],
    ],
    [
      'a short token',
      'api:\n  listen: 127.0.0.1:8053\n  tokens:\n    - { token: short, access: write }\n',
      ['gslbd.yaml:4: api.tokens[0].token: too short (5 characters; at least 16)'],
    ],
    [
      'an unknown access',
      'api:\n  listen: 127.0.0.1:8053\n  tokens:\n    - token: abcdefghijklmnopq\n      access: admin\n',
      ['gslbd.yaml:5: api.tokens[0].access: "admin" is not one of read | write'],
    ],
    [
      'a token listed twice',
      'api:\n  listen: 127.0.0.1:8053\n  tokens:\n    - { token: abcdefghijklmnopq }\n    - { token: abcdefghijklmnopq }\n',
      ['gslbd.yaml:5: api.tokens[1].token: the same token is listed twice'],
    ],
    [
      'two tokens with one name',
      'api:\n  listen: 127.0.0.1:8053\n  tokens:\n    - { name: a, token: abcdefghijklmnopq }\n    - { name: a, token: bcdefghijklmnopqr }\n',
      ['gslbd.yaml:5: api.tokens[1].name: "a" names two tokens'],
    ],
    [
      'an unknown token key',
      'api:\n  listen: 127.0.0.1:8053\n  tokens:\n    - { token: abcdefghijklmnopq, role: admin }\n',
      ['gslbd.yaml:4: api.tokens[0].role: unknown key (known keys: token, access, name)'],
    ],
    [
      'api.tls without key',
      'api:\n  listen: 127.0.0.1:8053\n  tokens: [{ token: abcdefghijklmnopq }]\n  tls: { cert: c.pem }\n',
      ['gslbd.yaml:4: api.tls: missing "key"'],
    ],
    [
      'api.allow with something not a prefix',
      'api:\n  listen: 127.0.0.1:8053\n  tokens: [{ token: abcdefghijklmnopq }]\n  allow:\n    - 127.0.0.1/32\n    - 10.0.0.0/33\n    - localhost\n',
      [
        'gslbd.yaml:6: api.allow[1]: "10.0.0.0/33": the prefix length must be 0..32',
        'gslbd.yaml:7: api.allow[2]: "localhost" is not an address prefix like 192.0.2.0/24 or 2001:db8::/32',
      ],
    ],
    [
      'an empty api.allow',
      'api:\n  listen: 127.0.0.1:8053\n  tokens: [{ token: abcdefghijklmnopq }]\n  allow: []\n',
      ['gslbd.yaml:4: api.allow: an empty list: every client would be refused (leave the key out to allow any)'],
    ],
    [
      'an in-flight limit of 0',
      'api:\n  listen: 127.0.0.1:8053\n  tokens: [{ token: abcdefghijklmnopq }]\n  max-in-flight-per-client: 0\n',
      ['gslbd.yaml:4: api.max-in-flight-per-client: 0 is out of range 1..100000'],
    ],
    [
      'a TSIG key without secret',
      'tsig:\n  - name: k.\n    zones: [example.com.]\n',
      ['gslbd.yaml:2: tsig[0]: missing "secret"'],
    ],
    [
      'a TSIG secret that is not base64',
      'tsig:\n  - name: k.\n    secret: "not base64!"\n',
      ['gslbd.yaml:3: tsig[0].secret: tsig key "k.": secret is not base64'],
    ],
    [
      'an unknown TSIG algorithm',
      'tsig:\n  - name: k.\n    algorithm: hmac-md5\n    secret: c2VjcmV0\n',
      [
        expect.stringMatching(
          /^gslbd\.yaml:3: tsig\[0\]\.algorithm: tsig key "k\.": algorithm "hmac-md5" is not one of /,
        ),
      ],
    ],
    [
      'a TSIG key defined twice',
      'tsig:\n  - { name: k., secret: c2VjcmV0 }\n  - { name: K, secret: c2VjcmV0 }\n',
      ['gslbd.yaml:3: tsig[1].name: key K is defined twice'],
    ],
  ])('%s', (_what, text, expected) => {
    expect(configErrors(text)).toEqual(expected);
  });

  it('refuses a quoted number, but reads one a variable expands to', () => {
    expect(configErrors('workers: "4"\n')).toEqual([
      'gslbd.yaml:1: workers: expected an integer, got the quoted text "4" (write numbers without quotes)',
    ]);
    expect(parseConfig('workers: "${N}"\n', 'gslbd.yaml', { N: '4' }).workers).toBe(4);
  });

  it('reports every error of the file at once, in line order', () => {
    const errors = configErrors('zones: ./zones\nlisten: [bad]\ntcp-max-connections: -1\nextra: 1\n');
    expect(errors.map((e) => e.split(':').slice(0, 2).join(':'))).toEqual([
      'gslbd.yaml:2',
      'gslbd.yaml:3',
      'gslbd.yaml:4',
    ]);
  });

  it('never repeats a token in a message', () => {
    const errors = configErrors(
      'api:\n  listen: 127.0.0.1:8053\n  tokens:\n    - { token: "${T}", access: superuser }\n',
      {
        T: 'secret-token-value-123456',
      },
    );
    expect(errors.join('\n')).not.toContain('secret-token-value-123456');
  });
});

describe('api: tls, allow, max-in-flight-per-client', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-load-tls-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const files = makeTls(work);
  const write = (tls: string) => {
    const file = path.join(work, 'gslbd.yaml');
    writeFileSync(
      file,
      `api:\n  listen: 127.0.0.1:8443\n  tokens: [{ token: abcdefghijklmnopq }]\n  tls: ${tls}\n  allow: [10.0.0.0/8, "::1"]\n  max-in-flight-per-client: 4\n`,
    );
    return file;
  };

  it('reads them, the certificate and key paths relative to the file', async () => {
    const config = await loadConfig(write('{ cert: server.pem, key: server.key }'));
    expect(config.api).toMatchObject({
      tls: { cert: files.serverCert, key: files.serverKey },
      allow: [
        { address: '10.0.0.0', prefix: 8, family: 4 },
        { address: '::1', prefix: 128, family: 6 },
      ],
      maxInFlightPerClient: 4,
    });
  });

  it("refuses a certificate file it cannot read, and a key that is not the certificate's, at api.tls", async () => {
    const missing = write('{ cert: nowhere.pem, key: server.key }');
    await expect(loadConfig(missing)).rejects.toThrow(
      `${missing}:4: api.tls: ${path.join(work, 'nowhere.pem')}: cannot read: ENOENT`,
    );
    await expect(loadConfig(write('{ cert: server.pem, key: client.key }'))).rejects.toThrow(
      /gslbd\.yaml:4: api\.tls: .*key values mismatch/,
    );
  });
});

describe('cluster:', () => {
  it("loads the issue's example as written, with the defaults filled in", () => {
    const text = [
      'cluster:',
      '  node: ns1                          # unique name of this node (default: the host name)',
      '  etcd:',
      '    endpoints: ["http://127.0.0.1:2379"]',
      '    prefix: /gslbd/                  # several gslbd clusters may share one etcd',
      '  quorum: majority                   # down votes needed to evict: majority | any | all | N',
      "  vote-ttl: 10s                      # a node's votes vanish this long after it stops renewing its lease",
      '  probe-from: all                    # or a list of node names: only they probe (fewer probes per target)',
      '',
    ].join('\n');
    expect(parseConfig(text, 'gslbd.yaml', {}).cluster).toEqual({
      node: 'ns1',
      endpoints: ['http://127.0.0.1:2379'],
      prefix: '/gslbd/',
      quorum: 'majority',
      voteTtlMs: 10_000,
      probeFrom: 'all',
    });
    const minimal = parseConfig(
      'cluster:\n  etcd: { endpoints: ["https://10.0.0.1:2379"] }\n  quorum: 2\n  probe-from: [ns1, ns2]\n',
      'gslbd.yaml',
      {},
    );
    expect(minimal.cluster).toMatchObject({
      prefix: '/gslbd/',
      quorum: 2,
      probeFrom: ['ns1', 'ns2'],
      voteTtlMs: 10_000,
    });
  });

  it('refuses what cannot work, each at its line', () => {
    expect(
      configErrors(
        [
          'cluster:',
          '  node: "not a name"',
          '  etcd:',
          '    endpoints: ["127.0.0.1:2379", "http://127.0.0.1:2379/v3"]',
          '    prefix: gslbd',
          '    tls: { cert: c.pem }',
          '  quorum: most',
          '  vote-ttl: 0s',
          '',
        ].join('\n'),
      ),
    ).toEqual([
      'gslbd.yaml:2: cluster.node: "not a name" is not a node name (letters, digits, ".", "_", "-"; at most 63)',
      'gslbd.yaml:4: cluster.etcd.endpoints[0]: "127.0.0.1:2379" is not an etcd client URL like http://127.0.0.1:2379',
      'gslbd.yaml:4: cluster.etcd.endpoints[1]: "http://127.0.0.1:2379/v3" is not an etcd client URL like http://127.0.0.1:2379',
      'gslbd.yaml:5: cluster.etcd.prefix: "gslbd" must start and end with "/" (e.g. /gslbd/)',
      'gslbd.yaml:6: cluster.etcd.tls: cert and key go together',
      'gslbd.yaml:6: cluster.etcd.tls: missing "ca" (the CA that signed the etcd members\' certificates)',
      'gslbd.yaml:7: cluster.quorum: expected an integer, got "most"',
      'gslbd.yaml:8: cluster.vote-ttl: 0s is out of range 1s..3600s',
    ]);
    expect(configErrors('cluster:\n  node: ns1\n')).toEqual([
      'gslbd.yaml:2: cluster: missing "etcd" (endpoints: ["http://127.0.0.1:2379"])',
    ]);
  });
});

describe('rrl: and cookies:', () => {
  // Made up for the test, like every secret in tests: 32 hex digits.
  const SECRET = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const PREVIOUS = '0f1e2d3c4b5a69788796a5b4c3d2e1f0';

  it("loads the issue's example as written", () => {
    const text = [
      'rrl: { rate: 20, slip: 2, whitelist: ["192.0.2.0/24"], ipv4-prefix: 24, ipv6-prefix: 56, log-only: false, table-size: 100000 }',
      `cookies: { secret: "${SECRET}", previous-secret: "${PREVIOUS.toUpperCase()}" }`,
      '',
    ].join('\n');
    const config = parseConfig(text, 'gslbd.yaml', {});
    expect(config.rrl).toEqual({
      rate: 20,
      slip: 2,
      whitelist: ['192.0.2.0/24'],
      ipv4Prefix: 24,
      ipv6Prefix: 56,
      logOnly: false,
      tableSize: 100_000,
    });
    expect(config.cookies).toEqual({ secret: SECRET, previousSecret: PREVIOUS });
  });

  it('fills in the defaults, and takes the secret from the environment', () => {
    const config = parseConfig('rrl: { rate: 5 }\ncookies: { secret: "${COOKIE_SECRET}" }\n', 'gslbd.yaml', {
      COOKIE_SECRET: SECRET,
    });
    expect(config.rrl).toEqual({
      rate: 5,
      slip: 2,
      whitelist: [],
      ipv4Prefix: 24,
      ipv6Prefix: 56,
      logOnly: false,
      tableSize: 100_000,
    });
    expect(config.cookies).toEqual({ secret: SECRET });
    expect(parseConfig('zones: z\n', 'gslbd.yaml', {})).not.toHaveProperty('rrl');
  });

  it('refuses what cannot work, each at its line, never repeating a secret', () => {
    const errors = configErrors(
      [
        'rrl:',
        '  slip: 2',
        '  whitelist: ["192.0.2.1/24", "10.0.0.0/33", "not-an-address", "2001:db8::/32"]',
        '  ipv4-prefix: 33',
        '  ipv6-prefix: 8',
        '  log-only: maybe',
        '  table-size: 0',
        '  burst: 5',
        'cookies:',
        '  secret: "0123456789abcdef"',
        '  previous-secret: "zz23456789abcdef0123456789abcdef"',
        '  lifetime: 1h',
        '',
      ].join('\n'),
    );
    expect(errors).toEqual([
      'gslbd.yaml:2: rrl: missing "rate" (responses per second per client prefix, e.g. 20)',
      'gslbd.yaml:3: rrl.whitelist[0]: "192.0.2.1/24" has bits set beyond /24 (the network is 192.0.2.0/24)',
      'gslbd.yaml:3: rrl.whitelist[1]: "10.0.0.0/33": the prefix length must be 0..32',
      'gslbd.yaml:3: rrl.whitelist[2]: "not-an-address" is not an address prefix like 192.0.2.0/24 or 2001:db8::/32',
      'gslbd.yaml:4: rrl.ipv4-prefix: 33 is out of range 8..32',
      'gslbd.yaml:5: rrl.ipv6-prefix: 8 is out of range 16..128',
      'gslbd.yaml:6: rrl.log-only: expected true or false, got "maybe"',
      'gslbd.yaml:7: rrl.table-size: 0 is out of range 1..100000000',
      'gslbd.yaml:8: rrl.burst: unknown key (known keys: rate, slip, whitelist, ipv4-prefix, ipv6-prefix, log-only, table-size)',
      'gslbd.yaml:10: cookies.secret: expected 32 hex digits (16 octets, e.g. from `openssl rand -hex 16`), got 16 characters',
      'gslbd.yaml:11: cookies.previous-secret: expected 32 hex digits (16 octets, e.g. from `openssl rand -hex 16`), got 32 characters with some not hex',
      'gslbd.yaml:12: cookies.lifetime: unknown key (known keys: secret, previous-secret)',
    ]);
    expect(errors.join('\n')).not.toContain('0123456789abcdef"');
    expect(configErrors('rrl: { rate: 0, slip: -1 }\ncookies: {}\n')).toEqual([
      'gslbd.yaml:1: rrl.rate: 0 is out of range 1..1000000',
      'gslbd.yaml:1: rrl.slip: -1 is out of range 0..100',
      'gslbd.yaml:2: cookies: missing "secret"',
    ]);
    expect(configErrors(`cookies: { secret: "${SECRET}", previous-secret: "${SECRET}" }\n`)).toEqual([
      'gslbd.yaml:1: cookies.previous-secret: the same as secret',
    ]);
  });
});
