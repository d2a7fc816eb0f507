// gslbd.yaml `zones-options:`: the example reads as written, every error points at its
// line; and at start, a zone with no file or a transfer key that is no TSIG key stops gslbd with
// the line of gslbd.yaml that names it.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/7-config/load.ts';
import { ROOT, runCli } from '../helpers/gslbd.ts';
import { configErrors, serveAndCheckRefuse } from './helpers.ts';

describe('zones-options in gslbd.yaml', () => {
  it('reads the example of the issue', () => {
    const c = parseConfig(
      [
        'zones-options:',
        '  gslb.example.com.:',
        '    transfer: { allow: ["192.0.2.0/24"], keys: [xfr-key.] }',
        '    notify: ["192.0.2.53:53"]',
        '    pools-in-transfer: all        # all | healthy | omit',
        '  Example.COM:',
        '    transfer: { keys: [Other-Key] }',
        '    pools-in-transfer: healthy',
        '    transfer-min-interval: 5s',
        '    ixfr-history: 0',
        '',
      ].join('\n'),
      'gslbd.yaml',
      {},
    );
    expect(c.zonesOptions).toEqual([
      {
        zone: 'gslb.example.com.',
        transfer: {
          allow: [{ address: '192.0.2.0', prefix: 24, family: 4, bytes: Buffer.from([192, 0, 2, 0]) }],
          keys: [{ name: 'xfr-key.', line: 3 }],
        },
        notify: [{ host: '192.0.2.53', port: 53 }],
        poolsInTransfer: 'all',
        transferMinIntervalMs: 30_000,
        ixfrHistory: 100,
        file: 'gslbd.yaml',
        line: 2,
      },
      {
        zone: 'example.com.',
        transfer: { keys: [{ name: 'other-key.', line: 7 }] },
        notify: [],
        poolsInTransfer: 'healthy',
        transferMinIntervalMs: 5_000,
        ixfrHistory: 0,
        file: 'gslbd.yaml',
        line: 6,
      },
    ]);
  });

  it.each([
    [
      'a bad prefix, an unknown mode and an unknown key',
      'zones-options:\n  a.test.:\n    transfer: { allow: ["10.0.0.0/33"] }\n    pools-in-transfer: some\n    notfy: []\n    ixfr-history: -1\n',
      [
        'gslbd.yaml:3: zones-options.a.test..transfer.allow[0]: "10.0.0.0/33": the prefix length must be 0..32',
        'gslbd.yaml:4: zones-options.a.test..pools-in-transfer: "some" is not one of all | healthy | omit',
        'gslbd.yaml:5: zones-options.a.test..notfy: unknown key (known keys: transfer, notify, pools-in-transfer, transfer-min-interval, ixfr-history, primary)',
        'gslbd.yaml:6: zones-options.a.test..ixfr-history: -1 is out of range 0..100000',
      ],
    ],
    [
      'a transfer with neither allow nor keys, and empty lists',
      'zones-options:\n  a.test.:\n    transfer: {}\n  b.test.:\n    transfer:\n      allow: []\n',
      [
        'gslbd.yaml:3: zones-options.a.test..transfer: give allow (address prefixes), keys (TSIG key names) or both',
        'gslbd.yaml:6: zones-options.b.test..transfer.allow: an empty list: every transfer would be refused (leave transfer out for that)',
      ],
    ],
    [
      'a notify address that is not one, and a zone given twice',
      'zones-options:\n  a.test.:\n    notify: ["192.0.2.1:99999"]\n  A.test:\n    pools-in-transfer: omit\n',
      [
        expect.stringMatching(/^gslbd\.yaml:3: zones-options\.a\.test\.\.notify\[0\]: /),
        'gslbd.yaml:4: zones-options.A.test: zone a.test. is given twice',
      ],
    ],
  ])('refuses %s, at the lines', (_what, text, errors) => {
    expect(configErrors(text)).toEqual(errors);
  });
});

describe('at start', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-zopts-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const zones = path.join(work, 'zones');
  cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });

  it.each([
    [
      'a zone with no file',
      '  nowhere.test.:\n    transfer: { allow: [127.0.0.1] }\n',
      /gslbd\.yaml:5: zones-options\.nowhere\.test\.: no zone nowhere\.test\. in /,
    ],
    [
      'a transfer key that is not a TSIG key',
      '  example.com.:\n    transfer:\n      keys:\n        - k1.\n        - missing.\n',
      /gslbd\.yaml:9: zones-options\.example\.com\.\.transfer\.keys: no TSIG key missing\. \(tsig: or --tsig-key\)/,
    ],
  ])(
    'stops gslbd for %s, naming the line; gslbd check --config says the same',
    async (_what, options, message) => {
      const file = path.join(work, 'gslbd.yaml');
      writeFileSync(
        file,
        `zones: ${zones}\ntsig:\n  - { name: k1., secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=" }\nzones-options:\n${options}`,
      );
      await serveAndCheckRefuse(file, message);
    },
    30_000,
  );

  it('gslbd check --config lists every such error, and passes a good file', async () => {
    const file = path.join(work, 'check.yaml');
    const head = `zones: ${zones}\ntsig:\n  - { name: k1., secret: "c2VjcmV0LXNlY3JldC1zZWNyZXQ=" }\nzones-options:\n`;
    writeFileSync(
      file,
      `${head}  nowhere.test.:\n    transfer: { keys: [k1.] }\n  example.com.:\n    transfer: { keys: [k2.] }\n`,
    );
    const bad = await runCli(['check', '--config', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n').filter((l) => l.includes('zones-options'))).toEqual([
      expect.stringMatching(/check\.yaml:5: zones-options\.nowhere\.test\.: no zone nowhere\.test\. in /),
      expect.stringMatching(/check\.yaml:8: zones-options\.example\.com\.\.transfer\.keys: no TSIG key k2\./),
    ]);
    writeFileSync(file, `${head}  example.com.:\n    transfer: { keys: [k1.] }\n`);
    const good = await runCli(['check', '--config', file]);
    expect(good.stderr).toBe('');
    expect(good.code).toBe(0);
    expect(good.stdout).toMatch(/zone example\.com\.: loaded serial/);
  }, 30_000);
});
