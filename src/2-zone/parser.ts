// RFC 1035 §5 master-file parser. Pure: it reads text it is given and asks a callback for
// $INCLUDE files, so the loader alone decides which files may be read. It collects every error
// of a file rather than stopping at the first (a bad line loses only its own record), so one
// `gslbd check` run shows an operator everything to fix.

import { isMetaType, Type, typeFromName } from '../0-base/constants.ts';
import { NameError } from '../0-base/name.ts';
import { GslbError, SourceError } from '../0-base/errors.ts';
import { Lexer, type Entry, type Token } from './lexer.ts';
import { encodeRdata } from './rdata.ts';
import { RdataError, toWireName } from './rdata-io.ts';
import { soaMinimum } from '../0-base/serial.ts';
import { pause, SLICE_MS } from '../0-base/slices.ts';
import { looksLikeTtl, MAX_TTL, parseTtl } from './ttl.ts';
import type { ParsedRecord } from './types.ts';

export interface IncludeSource {
  /** Name used in messages and records; also what include-loop detection compares. */
  readonly file: string;
  /** File content as a binary string (one char per byte, e.g. read as latin1). */
  readonly text: string;
}

/**
 * Reads the file an `$INCLUDE` names. It may refuse (a path outside the zones directory, say) by
 * throwing; the message becomes the reason of an error at the $INCLUDE line.
 */
export type IncludeReader = (
  target: string,
  from: { readonly file: string; readonly line: number },
) => IncludeSource | Promise<IncludeSource>;

export interface ParseOptions {
  /** Without a reader, $INCLUDE is an error. */
  readonly include?: IncludeReader;
}

export interface ParseResult {
  /** Records in file order, included files in place; records of bad lines are left out. */
  readonly records: ParsedRecord[];
  /** ERR_ZONE_SYNTAX (or the include reader's code), each at its file and line. */
  readonly errors: SourceError[];
  readonly warnings: SourceError[];
}

/** Include nesting beyond this is surely a mistake even without a loop. */
const MAX_INCLUDE_DEPTH = 16;
/** Past this many errors the input is likely not a zone file at all; listing more helps no one. */
export const MAX_ERRORS = 1000;

/** Per file: RFC 1035 §5.1 says $INCLUDE never changes the origin of the file that includes. */
interface FileState {
  origin: Uint8Array;
  owner: Buffer | undefined;
}

/**
 * Parses master-file `text` read from `file`, with `origin` (a wire name) as the initial $ORIGIN.
 * Never throws for bad input: errors are returned.
 */
export async function parseZone(
  text: string,
  file: string,
  origin: Uint8Array,
  options: ParseOptions = {},
): Promise<ParseResult> {
  const run = new Run(options.include);
  await run.file(text, file, { origin, owner: undefined });
  return { records: run.records, errors: run.errors, warnings: run.warnings };
}

const CLASSES: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4, NONE: 254, ANY: 255 };

/** Class number of a class mnemonic or RFC 3597 `CLASSnnn`, or undefined if the token is not one. */
function classOf(text: string): number | undefined {
  const upper = text.toUpperCase();
  const known = CLASSES[upper];
  if (known !== undefined) return known;
  const m = /^CLASS(\d{1,5})$/.exec(upper);
  return m ? Number(m[1]) : undefined;
}

class Run {
  readonly records: ParsedRecord[] = [];
  readonly errors: SourceError[] = [];
  readonly warnings: SourceError[] = [];
  readonly #include: IncludeReader | undefined;
  /** Files being read, outermost first, for loop detection. */
  readonly #stack: string[] = [];
  // TTL state spans included files, as in BIND.
  #defaultTtl: number | undefined;
  #lastTtl: number | undefined;
  #sliceStart = performance.now();
  /** Set once an $INCLUDE went too deep: the zone fails, and no further file is read. */
  #tooDeep = false;

  constructor(include: IncludeReader | undefined) {
    this.#include = include;
  }

  async file(text: string, file: string, st: FileState): Promise<void> {
    this.#stack.push(file);
    const lexer = new Lexer(text);
    let entries = 0;
    for (let e = lexer.next(); e; e = lexer.next()) {
      // A large zone parses in slices: queries are answered between them during a reload.
      if ((++entries & 255) === 0 && performance.now() - this.#sliceStart >= SLICE_MS) {
        await pause();
        this.#sliceStart = performance.now();
      }
      if (this.errors.length >= MAX_ERRORS) {
        if (this.errors.length === MAX_ERRORS)
          this.#error(file, e.line, `more than ${MAX_ERRORS} errors: stopped reading`);
        break;
      }
      if (e.error) {
        this.#error(file, e.error.line, e.error.reason);
        continue;
      }
      const first = e.tokens[0]!;
      if (!first.quoted && first.text.startsWith('$')) {
        if (first.text.toUpperCase() === '$INCLUDE') await this.#includeFile(e, file, st);
        else this.#directive(e, file, st);
      } else {
        this.#record(e, file, st);
      }
    }
    this.#stack.pop();
  }

  #error(file: string, line: number, reason: string): void {
    this.errors.push(new SourceError('ERR_ZONE_SYNTAX', file, line, reason));
  }

  #name(t: Token, origin: Uint8Array, what: string, file: string): Buffer | undefined {
    if (t.quoted) {
      this.#error(file, t.line, `${what} must not be quoted`);
      return undefined;
    }
    try {
      return toWireName(t.text, origin);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      this.#error(file, t.line, `${what}: ${e.message}`);
      return undefined;
    }
  }

  #directive(e: Entry, file: string, st: FileState): void {
    const [d, arg, extra] = e.tokens as [Token, Token | undefined, Token | undefined];
    const name = d.text.toUpperCase();
    if (name !== '$ORIGIN' && name !== '$TTL') {
      const why =
        name === '$GENERATE' ? 'is not supported' : 'is not a directive (RFC 1035 §5.1: $ORIGIN, $INCLUDE, $TTL)';
      return this.#error(file, e.line, `${d.text} ${why}`);
    }
    if (!arg) return this.#error(file, e.line, `${name} needs an argument`);
    if (extra) return this.#error(file, extra.line, `unexpected "${extra.text}" after ${name} ${arg.text}`);
    if (name === '$ORIGIN') {
      // A relative $ORIGIN is relative to the current one, as in BIND.
      const origin = this.#name(arg, st.origin, '$ORIGIN', file);
      if (origin) st.origin = origin;
      return;
    }
    const ttl = arg.quoted ? undefined : parseTtl(arg.text);
    if (ttl === undefined)
      return this.#error(
        file,
        arg.line,
        `$TTL "${arg.text}" is not a TTL (seconds or units like 1h30m, at most ${MAX_TTL})`,
      );
    this.#defaultTtl = ttl; // RFC 2308 §4
  }

  /** `$INCLUDE <file> [<origin>]`: the file is read with that origin (default: the current one). */
  async #includeFile(e: Entry, file: string, st: FileState): Promise<void> {
    const [, target, originTok, extra] = e.tokens;
    if (!target) return this.#error(file, e.line, '$INCLUDE needs a file name');
    if (extra)
      return this.#error(
        file,
        extra.line,
        `unexpected "${extra.text}" after $INCLUDE ${target.text} ${originTok!.text}`,
      );
    const origin = originTok ? this.#name(originTok, st.origin, '$INCLUDE origin', file) : st.origin;
    if (!origin) return;
    if (!this.#include) return this.#error(file, e.line, '$INCLUDE is not allowed here');
    // The stack holds the zone file itself, so it may reach MAX_INCLUDE_DEPTH + 1 files.
    if (this.#stack.length > MAX_INCLUDE_DEPTH) {
      // Said once: files that include two files each would otherwise repeat it 2^depth times
      // (capped only by MAX_ERRORS), and reading on past it would read as many files.
      if (!this.#tooDeep) this.#error(file, e.line, `$INCLUDE nested more than ${MAX_INCLUDE_DEPTH} deep`);
      this.#tooDeep = true;
      return;
    }
    if (this.#tooDeep) return;
    let src: IncludeSource;
    try {
      src = await this.#include(target.text, { file, line: e.line });
    } catch (err) {
      const code = err instanceof GslbError ? err.code : 'ERR_ZONE_IO';
      this.errors.push(new SourceError(code, file, e.line, `$INCLUDE ${target.text}: ${(err as Error).message}`));
      return;
    }
    if (this.#stack.includes(src.file)) {
      return this.#error(file, e.line, `$INCLUDE loop: ${[...this.#stack, src.file].join(' → ')}`);
    }
    // The included file starts from the current owner; ours is unchanged when it ends.
    await this.file(src.text, src.file, { origin, owner: st.owner });
  }

  #record(e: Entry, file: string, st: FileState): void {
    const tokens = e.tokens;
    let i = 0;
    let owner = st.owner;
    if (!e.blankStart) {
      owner = this.#name(tokens[0]!, st.origin, 'owner name', file);
      if (!owner) return;
      st.owner = owner;
      i = 1;
    } else if (!owner) {
      return this.#error(file, e.line, 'no owner name, and no earlier record to take it from');
    }
    // RFC 1035 §5.1: [<TTL>] [<class>] <type>, TTL and class in either order.
    let ttl: number | undefined;
    let hasClass = false;
    let t: Token | undefined;
    for (t = tokens[i]; t && !t.quoted; t = tokens[++i]) {
      const cls = classOf(t.text);
      // ANY is a class and a (meta-)type: after a class it can only be the type.
      if (cls !== undefined && !(hasClass && typeFromName(t.text) !== undefined)) {
        if (hasClass) return this.#error(file, t.line, `class given twice ("${t.text}")`);
        if (cls !== 1) return this.#error(file, t.line, `class ${t.text} is not supported: only IN`);
        hasClass = true;
      } else if (looksLikeTtl(t.text)) {
        if (ttl !== undefined) return this.#error(file, t.line, `TTL given twice ("${t.text}")`);
        ttl = parseTtl(t.text);
        if (ttl === undefined)
          return this.#error(
            file,
            t.line,
            `"${t.text}" is not a TTL (seconds or units like 1h30m, at most ${MAX_TTL})`,
          );
      } else {
        break;
      }
    }
    if (!t) return this.#error(file, tokens[tokens.length - 1]!.line, 'missing type');
    const type = t.quoted ? undefined : typeFromName(t.text);
    if (type === undefined)
      return this.#error(file, t.line, `unknown type "${t.text}" (use TYPEnnn for types without a mnemonic)`);
    if (type === 0 || isMetaType(type))
      return this.#error(file, t.line, `${t.text} is a reserved or meta-type and cannot be in a zone (RFC 6895 §3.1)`);
    let rdata: Buffer;
    try {
      rdata = encodeRdata(type, tokens, i + 1, st.origin);
    } catch (err) {
      if (!(err instanceof RdataError)) throw err;
      return this.#error(file, err.line || e.line, err.message);
    }
    if (ttl === undefined) {
      ttl = this.#implicitTtl(type, rdata, file, e.line);
      if (ttl === undefined) return;
    } else {
      this.#lastTtl = ttl;
    }
    this.records.push({ owner: owner!, type, ttl, rdata, file, line: e.line });
  }

  /**
   * TTL of a record written without one, as BIND does: the $TTL value; else the last TTL given
   * (RFC 1035 §5.1); else, for the SOA only, its MINIMUM field, which then serves as $TTL for the
   * records after it (RFC 2308 §4 made MINIMUM the negative TTL, but zones written before $TTL
   * existed relied on it). Any other record with no TTL to take is an error.
   */
  #implicitTtl(type: number, rdata: Buffer, file: string, line: number): number | undefined {
    if (this.#defaultTtl !== undefined) return this.#defaultTtl;
    if (this.#lastTtl !== undefined) return this.#lastTtl;
    if (type === Type.SOA) {
      const minimum = Math.min(soaMinimum(rdata), MAX_TTL);
      this.#defaultTtl = minimum;
      this.warnings.push(
        new SourceError('ERR_ZONE_SYNTAX', file, line, `no TTL given and no $TTL: using the SOA MINIMUM ${minimum}`),
      );
      return minimum;
    }
    this.#error(file, line, 'no TTL given and no $TTL or earlier TTL to use');
    return undefined;
  }
}
