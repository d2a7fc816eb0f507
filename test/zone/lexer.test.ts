import { describe, it, expect } from 'vitest';
import { Lexer, type Entry } from '../../src/2-zone/lexer.ts';

function entries(text: string): Entry[] {
  const lx = new Lexer(text);
  const out: Entry[] = [];
  for (let e = lx.next(); e; e = lx.next()) out.push(e);
  return out;
}
const words = (e: Entry) => e.tokens.map((t) => (t.quoted ? `"${t.text}"` : t.text));

describe('Lexer', () => {
  it('gives one entry per line, skipping blank and comment-only lines', () => {
    const es = entries('a A 1\n\n   ; just a comment\nb A 2 ; trailing\n');
    expect(es.map(words)).toEqual([
      ['a', 'A', '1'],
      ['b', 'A', '2'],
    ]);
    expect(es.map((e) => e.line)).toEqual([1, 4]);
  });

  it('marks entries that start with a blank (owner omitted)', () => {
    expect(entries('a A 1\n  A 2\n\tA 3\n').map((e) => e.blankStart)).toEqual([false, true, true]);
  });

  it('joins lines inside parentheses into one entry that starts on the first line', () => {
    const es = entries('@ SOA ns h (\n 1 ; serial\n 2 3\n 4 5 )\nnext A 1\n');
    expect(es.map(words)).toEqual([
      ['@', 'SOA', 'ns', 'h', '1', '2', '3', '4', '5'],
      ['next', 'A', '1'],
    ]);
    expect(es[0]!.line).toBe(1);
    expect(es[0]!.tokens.map((t) => t.line)).toEqual([1, 1, 1, 1, 2, 3, 3, 4, 4]);
    expect(es[1]!.line).toBe(5);
  });

  it('keeps quoted text raw, with escaped quotes, semicolons and parentheses inside', () => {
    const es = entries('a TXT "x \\" ; ( y" plain\\;semi "" \n');
    expect(es[0]!.tokens.slice(2)).toEqual([
      { text: 'x \\" ; ( y', quoted: true, line: 1 },
      { text: 'plain\\;semi', quoted: false, line: 1 },
      { text: '', quoted: true, line: 1 },
    ]);
  });

  it('keeps a quoted run inside a word in the word (RFC 9460 key="value")', () => {
    expect(words(entries('a HTTPS 1 . alpn="h2 h3" port=443\n')[0]!)).toEqual([
      'a',
      'HTTPS',
      '1',
      '.',
      'alpn="h2 h3"',
      'port=443',
    ]);
  });

  it('reports a quote not closed on its line and goes on with the next line', () => {
    const es = entries('a TXT "open\nb A 1\n');
    expect(es[0]!.error).toEqual({ line: 1, reason: 'quoted string is not closed on its line' });
    expect(words(es[1]!)).toEqual(['b', 'A', '1']);
    expect(es[1]!.line).toBe(2);
  });

  it('reports an unbalanced ")" and a "(" never closed, at their lines', () => {
    expect(entries('a A 1 )\n')[0]!.error).toEqual({ line: 1, reason: 'unbalanced ")"' });
    const es = entries('x A 1\na SOA (\n 1 2\n');
    expect(es[1]!.error).toEqual({ line: 2, reason: '"(" is never closed' });
  });

  it('accepts CRLF line ends and a UTF-8 byte order mark', () => {
    const es = entries('\xef\xbb\xbfa A 1\r\nb A 2\r\n');
    expect(es.map(words)).toEqual([
      ['a', 'A', '1'],
      ['b', 'A', '2'],
    ]);
    expect(es[1]!.line).toBe(2);
  });

  it('keeps a backslash before a newline in the word and still ends the line', () => {
    const es = entries('a TXT x\\\nb A 1\n');
    expect(words(es[0]!)).toEqual(['a', 'TXT', 'x\\']);
    expect(es[1]!.line).toBe(2);
  });
});
