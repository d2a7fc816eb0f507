// `gslbd check` (a real process) refuses zones that cannot be served or that other servers reject,
// each with `file:line: reason`: an RRset too large for any response, an incomplete `\DDD`
// escape, nested parentheses, $INCLUDE nested too deep. The size limit is also checked against
// what gslbd really sends: the largest RRset the check lets through reaches dig over TCP whole.

import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dig } from '../helpers/dig.ts';
import { runCli, startGslbd } from '../helpers/gslbd.ts';
import { tempDir } from '../zone/helpers.ts';

const HEAD = '$TTL 1h\n@ SOA ns1 hostmaster 42 2h 15m 2w 5m\n  NS ns1\nns1 A 192.0.2.1\n';
const HEAD_LINES = 4;

/** `gslbd check` on a directory holding `example.com.zone` with `body` after HEAD. */
async function check(body: string, more: Record<string, string> = {}) {
  const dir = await tempDir({ 'example.com.zone': HEAD + body, ...more });
  return { dir, zone: path.join(dir, 'example.com.zone'), ...(await runCli(['check', '--zones', dir])) };
}

/**
 * TXT records at big.example.com. whose response to a TCP query with a /128 client-subnet option
 * is exactly `size` octets: header 12, question 17 + 4, OPT 11 + 24, and per RR a 2-octet owner
 * pointer, 10 fixed octets and the RDATA (one length octet and the text).
 */
function txtOfResponseSize(size: number): string[] {
  let room = size - 12 - 21 - 35;
  const lines: string[] = [];
  for (let i = 0; room > 0; i++) {
    const text = String(i).padStart(Math.min(255, room - 13), 'x');
    lines.push(`big TXT "${text}"`);
    room -= 13 + text.length;
  }
  expect(room).toBe(0);
  return lines;
}

describe('gslbd check: zones no response can carry', () => {
  it('exits 1 at the first line of an RRset of 300 TXT records larger than 64 KB', async () => {
    const txt = Array.from({ length: 300 }, (_, i) => `big TXT "${String(i).padStart(250, 'x')}"\n`).join('');
    const r = await check(`www A 192.0.2.2\n${txt}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${r.zone}:${HEAD_LINES + 2}: TXT RRset at big.example.com. is too large to serve: its 300 records ` +
        'need a 78968-octet response, and a DNS message holds at most 65535 (RFC 1035 §4.2.2)\n',
    );
    expect(r.stdout).toBe('');
  });

  it('measures a wildcard RRset with the longest name a query for it may carry', async () => {
    // 65535 octets at a 17-octet owner, but *.example.com. answers names of up to 255 octets.
    const lines = txtOfResponseSize(65535).map((l) => l.replace(/^big/, '*'));
    const r = await check(lines.join('\n') + '\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${r.zone}:${HEAD_LINES + 1}: TXT RRset at *.example.com. is too large to serve`);
  });

  it('lets through an RRset whose largest response is 65535 octets, which dig gets whole over TCP; one octet more is refused', async () => {
    const fits = txtOfResponseSize(65535);
    const ok = await check(fits.join('\n') + '\n');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const over = await check([...fits.slice(0, -1), fits.at(-1)!.replace('"', '"x')].join('\n') + '\n');
    expect(over.code).toBe(1);
    expect(over.stderr).toContain(`need a 65536-octet response`);

    const server = await startGslbd(['--zones', ok.dir]);
    try {
      const r = await dig(server.port, ['big.example.com', 'TXT', '+tcp', '+subnet=2001:db8::1/128']);
      expect(r.flags).not.toContain('tc');
      expect(r.answer).toHaveLength(fits.length);
      expect(r.size).toBe(65535);
    } finally {
      await server.stop();
    }
  });
});

describe('gslbd check: text other servers reject', () => {
  it('exits 1 for an incomplete \\DDD escape in a TXT string and in a name', async () => {
    const r = await check('a TXT "5\\04"\n\\0com A 192.0.2.3\nb TXT "\\0657"\n');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${r.zone}:${HEAD_LINES + 1}: TXT: incomplete escape "\\04" in "5\\04": \\DDD takes three digits`,
      `${r.zone}:${HEAD_LINES + 2}: owner name: incomplete escape "\\0" in "\\0com": \\DDD takes three digits`,
    ]);
  });

  it('exits 1 for nested parentheses, once for the whole entry', async () => {
    const r = await check('a TXT ( "one"\n  ( "two" )\n  "three" )\nb A 192.0.2.4\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${r.zone}:${HEAD_LINES + 2}: nested "(": parentheses do not nest (RFC 1035 §5.1)\n`);
  });
});

describe('gslbd check: $INCLUDE depth', () => {
  /** i1.inc … iN.inc, each including the next `times` times. */
  function chain(n: number, times: number): Record<string, string> {
    const files: Record<string, string> = {};
    for (let i = 1; i < n; i++) files[`i${i}.inc`] = `$INCLUDE i${i + 1}.inc\n`.repeat(times);
    files[`i${n}.inc`] = 'deep A 192.0.2.5\n';
    return files;
  }

  it('loads files nested 16 deep', async () => {
    const r = await check('$INCLUDE i1.inc\n', chain(16, 1));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('refuses a 17th level once, at the line that asks for it', async () => {
    // Two includes per file: an error said at every leaf would come 2^16 times (1,000 shown).
    const r = await check('$INCLUDE i1.inc\n', chain(17, 2));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`${path.join(r.dir, 'i16.inc')}:1: $INCLUDE nested more than 16 deep\n`);
  });
});
