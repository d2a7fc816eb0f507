// A pools file with settings that load today but are mistakes is refused, each with
// `file:line: path: reason`, by `gslbd check` (exit 1) and by `gslbd serve` (the zone is not put
// in service), both real processes: a pool named twice in different case, a min-ttl above the ttl,
// a quoted number, an unknown region code, and a check path or Host name that would break the
// HTTP request.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { runCli, startGslbd } from '../helpers/gslbd.ts';
import { tempDir } from '../zone/helpers.ts';

const ZONE = '$TTL 1h\n@ SOA ns1 hostmaster 42 2h 15m 2w 5m\n  NS ns1\nns1 A 192.0.2.1\n';
const POOLS = `www:
  policy: geo-map
  ttl: 30
  min-ttl: 60
  targets:
    - { address: 192.0.2.10, weight: "5", regions: [NL] }
    - { address: 192.0.2.11, regions: [UK, EU, default] }
WWW:
  targets: [{ address: 192.0.2.12 }]
api:
  check: { type: http, path: "/health check" }
  targets: [{ address: 192.0.2.13 }]
app:
  check: { type: http, hostname: "app.example.com\\r\\nX-Forwarded-For: 1" }
  targets: [{ address: 192.0.2.14 }]
`;

const expected = (file: string) => [
  `${file}:4: www.min-ttl: 60 is above the pool's ttl 30`,
  `${file}:6: www.targets[0].weight: expected an integer, got the quoted text "5" (write numbers without quotes)`,
  `${file}:7: www.targets[1].regions: "UK" is not a country or continent code (e.g. NL, EU) or "default"`,
  `${file}:8: WWW: pool www.example.com. is already defined at line 1 as "www" (names are not case-sensitive)`,
  `${file}:11: api.check.path: "/health check" has a space or control character (percent-encode it)`,
  `${file}:14: app.check.hostname: "app.example.com\\r\\nX-Forwarded-For: 1" is not a host name ` +
    '(letters, digits, "-", "_", "." and an optional :port)',
];

describe('a pools file with mistakes that used to load', () => {
  it('gslbd check exits 1 listing each as file:line: path: reason', async () => {
    const dir = await tempDir({ 'example.com.zone': ZONE, 'example.com.pools.yaml': POOLS });
    const r = await runCli(['check', '--zones', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(expected(path.join(dir, 'example.com.pools.yaml')));
  });

  it('gslbd serve logs the same errors and does not serve the zone', async () => {
    const dir = await tempDir({ 'example.com.zone': ZONE, 'example.com.pools.yaml': POOLS });
    const server = await startGslbd(['--zones', dir]);
    try {
      const errors = server.logs.filter((l) => l.msg === 'zone failed to load: not served').map((l) => l.error);
      expect(errors).toEqual(expected(path.join(dir, 'example.com.pools.yaml')));
      expect((await dig(server.port, ['www.example.com', 'A'])).status).toBe('REFUSED');
    } finally {
      await server.stop();
    }
  });

  it('loads the same pools once the mistakes are corrected', async () => {
    const fixed = POOLS.replace('min-ttl: 60', 'min-ttl: 5')
      .replace('"5"', '5')
      .replace('UK', 'GB')
      .replace('WWW:', 'web:')
      .replace('/health check', '/health%20check')
      .replace('\\r\\nX-Forwarded-For: 1', '');
    const dir = await tempDir({ 'example.com.zone': ZONE, 'example.com.pools.yaml': fixed });
    const r = await runCli(['check', '--zones', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});
