// Splits master-file text into entries (RFC 1035 §5.1): one entry per line, or per run of lines
// joined by parentheses. Comments, parentheses and quoting are handled here, so the parser only
// ever sees tokens. Escapes are kept raw in token text: a `\.` in a name and a `\"` in a string
// mean different things, so only the consumer that knows the field type can decode them.
//
// The text is a "binary string": one char per file byte (the loader reads files as latin1), so
// TXT data written in UTF-8 reaches the wire as the same bytes BIND would put there.

export interface Token {
  /** Raw text: for a quoted token, what lies between the quotes; escapes not decoded. */
  readonly text: string;
  readonly quoted: boolean;
  /** 1-based line the token starts on. */
  readonly line: number;
}

export interface Entry {
  /** Line the entry starts on. */
  readonly line: number;
  /** RFC 1035 §5.1: a line starting with a blank has no owner (the previous one is reused). */
  readonly blankStart: boolean;
  readonly tokens: readonly Token[];
  /** Set when the entry is malformed; its tokens are then incomplete and must be skipped. */
  readonly error?: { readonly line: number; readonly reason: string };
}

const SP = 0x20,
  TAB = 0x09,
  CR = 0x0d,
  LF = 0x0a,
  SEMI = 0x3b,
  LPAR = 0x28,
  RPAR = 0x29,
  QUOTE = 0x22,
  BSL = 0x5c;

export class Lexer {
  readonly #text: string;
  #pos = 0;
  #line = 1;

  constructor(text: string) {
    // A UTF-8 byte order mark, as read in latin1, is not part of the first owner name.
    this.#text = text.startsWith('\xef\xbb\xbf') ? text.slice(3) : text;
  }

  /** The next entry with at least one token (or an error), or null at the end of the text. */
  next(): Entry | null {
    const text = this.#text;
    const len = text.length;
    while (this.#pos < len) {
      const startLine = this.#line;
      const first = text.charCodeAt(this.#pos);
      const blankStart = first === SP || first === TAB;
      const tokens: Token[] = [];
      let depth = 0;
      let parenLine = 0;
      let error: Entry['error'];
      let nested: Entry['error'];
      let pos = this.#pos;
      for (;;) {
        if (pos >= len) {
          if (depth > 0 && !error) error = { line: parenLine, reason: '"(" is never closed' };
          break;
        }
        const c = text.charCodeAt(pos);
        if (c === LF) {
          pos++;
          this.#line++;
          if (depth === 0 || error) break;
        } else if (c === SP || c === TAB || c === CR) {
          pos++;
        } else if (c === SEMI) {
          const nl = text.indexOf('\n', pos);
          pos = nl < 0 ? len : nl;
        } else if (c === LPAR) {
          // RFC 1035 §5.1 groups lines with one pair of parentheses; BIND and Knot refuse nesting.
          // The entry still runs to its last ")", so its other lines are not read as entries.
          if (depth > 0) nested ??= { line: this.#line, reason: 'nested "(": parentheses do not nest (RFC 1035 §5.1)' };
          else parenLine = this.#line;
          depth++;
          pos++;
        } else if (c === RPAR) {
          if (depth === 0) error ??= { line: this.#line, reason: 'unbalanced ")"' };
          else depth--;
          pos++;
        } else if (c === QUOTE) {
          const end = closingQuote(text, pos + 1);
          if (end < 0) {
            error ??= { line: this.#line, reason: 'quoted string is not closed on its line' };
            const nl = text.indexOf('\n', pos);
            pos = nl < 0 ? len : nl;
          } else {
            tokens.push({ text: text.slice(pos + 1, end), quoted: true, line: this.#line });
            pos = end + 1;
          }
        } else {
          const start = pos;
          pos = wordEnd(text, pos);
          if (pos < 0) {
            error ??= { line: this.#line, reason: 'quoted string is not closed on its line' };
            const nl = text.indexOf('\n', start);
            pos = nl < 0 ? len : nl;
          } else {
            tokens.push({ text: text.slice(start, pos), quoted: false, line: this.#line });
          }
        }
      }
      this.#pos = pos;
      error ??= nested;
      if (error) return { line: startLine, blankStart, tokens, error };
      if (tokens.length > 0) return { line: startLine, blankStart, tokens };
    }
    return null;
  }
}

/** Index of the `"` closing a string whose content starts at `pos`, or -1 if the line ends first. */
function closingQuote(text: string, pos: number): number {
  for (let i = pos; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return i;
    if (c === BSL) i++;
    else if (c === LF) return -1;
  }
  return -1;
}

/**
 * End of an unquoted word. A `"` inside a word opens a quoted run that stays part of the word:
 * RFC 9460 writes SVCB parameters as `alpn="h2,h3"`, and the space in `key="a b"` must not split it.
 * Returns -1 if such a run is not closed on its line.
 */
function wordEnd(text: string, pos: number): number {
  let i = pos;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SP || c === TAB || c === CR || c === LF || c === SEMI || c === LPAR || c === RPAR) break;
    if (c === BSL) {
      // A backslash before the newline stays in the word (a dangling escape the field decoder
      // reports); the newline itself must still end the line.
      if (text.charCodeAt(i + 1) === LF) {
        i++;
        break;
      }
      i++;
    } else if (c === QUOTE) {
      i = closingQuote(text, i + 1);
      if (i < 0) return -1;
    }
  }
  return Math.min(i, text.length);
}
