// gslbd.yaml's `dnssec:`: the shape loads as written, with either algorithm; every error
// reads `file:line: path: reason`.

import { describe, expect, it } from 'vitest';
import { keyFromText } from '../../src/0-base/name.ts';
import { parseConfig } from '../../src/7-config/load.ts';
import { configErrors } from './helpers.ts';

describe('dnssec: in gslbd.yaml', () => {
  it('reads the issue example, Ed25519, and a signature validity', () => {
    expect(parseConfig('dnssec: { zones: [gslb.example.com.], algorithm: ecdsap256sha256 }\n', 'f', {}).dnssec).toEqual(
      {
        zones: [keyFromText('gslb.example.com.')],
        algorithm: 13,
        validityMs: 3 * 86_400_000,
      },
    );
    const text = 'dnssec:\n  zones: [a.example, b.example.]\n  algorithm: ed25519\n  signature-validity: 2h\n';
    expect(parseConfig(text, 'f', {}).dnssec).toEqual({
      zones: [keyFromText('a.example.'), keyFromText('b.example.')],
      algorithm: 15,
      validityMs: 7_200_000,
    });
  });

  it('refuses what it cannot sign with, each error at its line', () => {
    expect(
      configErrors(
        'dnssec:\n  zones: [a.example., A.example, "bad..name"]\n  algorithm: rsasha256\n  signature-validity: 10m\n  nsec3: true\n',
      ),
    ).toEqual([
      'gslbd.yaml:2: dnssec.zones[1]: zone a.example. is listed twice',
      'gslbd.yaml:2: dnssec.zones[2]: not a zone name: empty label in "bad..name."',
      'gslbd.yaml:3: dnssec.algorithm: "rsasha256" is not one of ecdsap256sha256 | ed25519',
      'gslbd.yaml:4: dnssec.signature-validity: 10m is out of range 3600s..7776000s',
      'gslbd.yaml:5: dnssec.nsec3: unknown key (known keys: zones, algorithm, signature-validity)',
    ]);
    expect(configErrors('dnssec: { zones: [] }\n')).toEqual([
      'gslbd.yaml:1: dnssec.zones: at least one zone to sign is needed (zones: [example.com.])',
    ]);
  });
});
