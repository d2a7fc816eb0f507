// gslbd.yaml `catalog:`: read as written, every error at its line; at start, a catalog nobody may
// transfer or a zone file with the catalog's name stops gslbd with the line of gslbd.yaml, and
// `gslbd check --config` says the same; the catalog's own zones-options need no zone file.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/7-config/load.ts';
import { ROOT, runCli } from '../helpers/gslbd.ts';
import { configErrors, serveAndCheckRefuse } from './helpers.ts';

describe('catalog in gslbd.yaml', () => {
  it('reads the zone, made absolute and lower case, with its line', () => {
    const c = parseConfig('listen: ["127.0.0.1:53"]\ncatalog:\n  zone: Catalog.GSLB.invalid\n', 'gslbd.yaml', {});
    expect(c.catalog).toEqual({ zone: 'catalog.gslb.invalid.', file: 'gslbd.yaml', line: 2 });
  });

  it.each([
    [
      'no zone',
      'catalog: {}\n',
      ['gslbd.yaml:1: catalog: missing "zone" (the catalog\'s name, e.g. catalog.gslb.invalid.)'],
    ],
    [
      'an unknown key and a name that is not one',
      'catalog:\n  zone: "a..b"\n  members: all\n',
      [
        expect.stringMatching(/^gslbd\.yaml:2: catalog\.zone: not a zone name: /),
        'gslbd.yaml:3: catalog.members: unknown key (known keys: zone)',
      ],
    ],
    ['the root', 'catalog:\n  zone: .\n', ['gslbd.yaml:2: catalog.zone: the root cannot be a catalog']],
    ['a list', 'catalog: [a.test.]\n', [expect.stringMatching(/^gslbd\.yaml:1: catalog: /)]],
  ])('refuses %s, at the lines', (_what, text, errors) => {
    expect(configErrors(text)).toEqual(errors);
  });
});

describe('at start', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gslbd-catalog-conf-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const zones = path.join(work, 'zones');
  cpSync(path.join(ROOT, 'zones'), zones, { recursive: true });
  const head = `zones: ${zones}\ncatalog:\n  zone: catalog.gslb.invalid.\nzones-options:\n`;
  const allowed = '    transfer: { allow: [127.0.0.1] }\n';

  it.each([
    [
      'a catalog no secondary may transfer',
      head + '  example.com.:\n' + allowed + '  catalog.gslb.invalid.:\n    notify: ["127.0.0.1:5399"]\n',
      /gslbd\.yaml:2: catalog\.zone: no secondary may transfer catalog\.gslb\.invalid\.: give it zones-options\.catalog\.gslb\.invalid\.\.transfer/,
    ],
    [
      "a zone file with the catalog's name",
      head.replace('catalog.gslb.invalid.', 'example.com.') + '  example.com.:\n' + allowed,
      /gslbd\.yaml:2: catalog\.zone: example\.com\. has a zone file in .*: the catalog is generated/,
    ],
  ])(
    'stops gslbd for %s, naming the line; gslbd check --config says the same',
    async (_what, text, message) => {
      const file = path.join(work, 'gslbd.yaml');
      writeFileSync(file, text);
      await serveAndCheckRefuse(file, message);
    },
    30_000,
  );

  it('gslbd check --config passes a catalog with zones-options of its own and no zone file', async () => {
    const file = path.join(work, 'good.yaml');
    writeFileSync(file, head + '  catalog.gslb.invalid.:\n' + allowed + '  example.com.:\n' + allowed);
    const c = await runCli(['check', '--config', file]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
  });
});
