import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { checkZones } from '../../src/4-gslb/check.ts';
import { tempDir } from './helpers.ts';

const good = '$TTL 1h\n@ SOA ns1 hostmaster 42 2h 15m 2w 5m\n  NS ns1\nns1 A 192.0.2.1\n';

describe('checkZones', () => {
  it('summarizes the zones that load', async () => {
    const dir = await tempDir({
      'example.com.zone': good,
      'example.net.zone': `${good}www 60 A 192.0.2.2\nwww 30 A 192.0.2.3\n`,
    });
    expect(await checkZones(dir)).toEqual({
      errors: [],
      warnings: [
        `${path.join(dir, 'example.net.zone')}:6: TTL 30 differs from 60, the TTL of the first record of this RRset; using 60 for all (RFC 2181 §5.2)`,
      ],
      zones: [
        { origin: 'example.com.', serial: 42, records: 3 },
        { origin: 'example.net.', serial: 42, records: 5 },
      ],
      failed: [],
    });
  });

  it('lists every error as file:line: reason', async () => {
    const dir = await tempDir({
      'example.com.zone': `${good}a A x\nb CH A 192.0.2.1\n`,
      'bad..zone': good,
      'example.net.zone': '$TTL 1\n@ NS ns1.example.com.\n',
    });
    const zone = path.join(dir, 'example.com.zone');
    const report = await checkZones(dir);
    // The zones whose file did not load, by origin (a file name that names no zone has none).
    expect(report.failed.sort()).toEqual(['example.com.', 'example.net.']);
    expect(report.errors).toEqual([
      `${path.join(dir, 'bad..zone')}: the file name does not name a zone: empty label in "bad.."`,
      `${zone}:5: A: "x" is not a dotted-quad IPv4 address`,
      `${zone}:6: class CH is not supported: only IN`,
      `${path.join(dir, 'example.net.zone')}: no SOA record at the zone apex example.net.`,
    ]);
  });

  it('reports a directory it cannot read, and warns about one without zones', async () => {
    expect((await checkZones('/nonexistent/zones')).errors).toHaveLength(1);
    const empty = await tempDir({});
    expect(await checkZones(empty)).toEqual({
      errors: [],
      warnings: [`${empty}: no *.zone files`],
      zones: [],
      failed: [],
    });
  });
});
