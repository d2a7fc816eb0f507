// Reading validated values out of a YAML document with the line of every node, so each error
// reads `file:line: path: reason`. Used by the pools file and by gslbd.yaml.

import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node as YamlNode, type Scalar } from 'yaml';
import { parseCidr, type Cidr } from './cidr.ts';
import { SourceError, type ErrorCode } from './errors.ts';

const TOO_DEEP = 'nested too deeply to read (flow collections or blocks nested hundreds of levels deep)';

/**
 * The line most likely to nest deepest (indentation plus openings of collections and keys): where
 * to point an operator when the library cannot say.
 */
function deepestLine(text: string): number {
  let best = { line: 1, depth: -1 };
  text.split('\n').forEach((l, i) => {
    const depth = l.length - l.trimStart().length + (l.match(/[[{]|: |- /g)?.length ?? 0);
    if (depth > best.depth) best = { line: i + 1, depth };
  });
  return best.line;
}

export class YamlSource {
  readonly file: string;
  readonly code: ErrorCode;
  readonly errors: SourceError[] = [];
  /**
   * Scalars whose text came from the environment (`${VAR}` in gslbd.yaml): text by nature, so a
   * number read from one is not a quoted number by mistake.
   */
  readonly expanded = new WeakSet<YamlNode>();
  #lines = new LineCounter();
  readonly root: YamlNode | null;

  constructor(file: string, text: string, code: ErrorCode) {
    this.file = file;
    this.code = code;
    let doc: ReturnType<typeof parseDocument>;
    try {
      doc = parseDocument(text, { lineCounter: this.#lines, uniqueKeys: true, prettyErrors: false });
    } catch (e) {
      // yaml 2.9 throws a RangeError (stack overflow) on some inputs nested deeply, such as
      // thousands of implicit keys on one line followed by a key back at the top level.
      if (!(e instanceof RangeError)) throw e;
      this.errors.push(new SourceError(code, file, deepestLine(text), TOO_DEEP));
      this.root = null;
      return;
    }
    for (const e of doc.errors) {
      // The library runs out of stack on collections nested ~2,000 deep and reports it, often
      // many times over, in JavaScript's words: one error in ours is enough.
      const deep = e.code === 'RESOURCE_EXHAUSTION' || e.message.startsWith('Maximum call stack');
      if (deep && this.errors.some((x) => x.reason === TOO_DEEP)) continue;
      const reason = deep ? TOO_DEEP : e.message.split('\n')[0]!;
      this.errors.push(new SourceError(code, file, this.#lines.linePos(e.pos[0]).line, reason));
    }
    this.root = doc.errors.length ? null : (doc.contents as YamlNode | null);
  }

  lineOf(node: YamlNode | null | undefined): number {
    const at = node?.range?.[0];
    return at === undefined ? 0 : this.#lines.linePos(at).line;
  }

  /** Records an error and returns undefined, so callers can write `return src.fail(...)`. */
  fail(node: YamlNode | null | undefined, path: string, reason: string): undefined {
    this.errors.push(new SourceError(this.code, this.file, this.lineOf(node), path ? `${path}: ${reason}` : reason));
    return undefined;
  }
}

/** A YAML mapping being read: tracks which keys were used so unknown ones are reported. */
export class MapReader {
  readonly src: YamlSource;
  readonly path: string;
  readonly yaml: YamlNode;
  #entries = new Map<string, { key: YamlNode; value: YamlNode | null }>();

  constructor(src: YamlSource, node: YamlNode, path: string) {
    this.src = src;
    this.yaml = node;
    this.path = path;
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = pair.key as YamlNode;
        this.#entries.set(String(isScalar(key) ? key.value : key), {
          key,
          value: (pair.value as YamlNode | null) ?? null,
        });
      }
    }
  }

  static of(src: YamlSource, node: YamlNode | null | undefined, path: string): MapReader | undefined {
    if (!node || !isMap(node)) return src.fail(node, path, 'expected a mapping');
    return new MapReader(src, node, path);
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  node(key: string): YamlNode | null | undefined {
    return this.#entries.get(key)?.value;
  }

  line(key?: string): number {
    return this.src.lineOf(key === undefined ? this.yaml : (this.#entries.get(key)?.key ?? this.yaml));
  }

  sub(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  fail(key: string | undefined, reason: string): undefined {
    const n =
      key === undefined ? this.yaml : (this.#entries.get(key)?.value ?? this.#entries.get(key)?.key ?? this.yaml);
    return this.src.fail(n, key === undefined ? this.path : this.sub(key), reason);
  }

  /** An error at the line of `key` itself (the key is what is wrong: a name given twice, say). */
  failAtKey(key: string, reason: string): undefined {
    return this.src.fail(this.#entries.get(key)?.key ?? this.yaml, this.sub(key), reason);
  }

  /** Reports every key not in `known`. */
  only(known: readonly string[]): void {
    for (const [k, { key }] of this.#entries) {
      if (!known.includes(k)) this.src.fail(key, this.sub(k), `unknown key (known keys: ${known.join(', ')})`);
    }
  }

  scalar(key: string): unknown {
    const n = this.node(key);
    if (n === undefined || n === null) return undefined;
    if (!isScalar(n)) return this.fail(key, 'expected a single value');
    return n.value;
  }

  string(key: string, required = false): string | undefined {
    const v = this.scalar(key);
    if (v === undefined || v === null) return required ? this.fail(undefined, `missing "${key}"`) : undefined;
    if (typeof v !== 'string' && typeof v !== 'number') return this.fail(key, 'expected text');
    return String(v);
  }

  number(key: string, min: number, max: number, integer = true): number | undefined {
    const v = this.scalar(key);
    if (v === undefined || v === null) return undefined;
    // `weight: "5"` is text in YAML, and every other tool reading the file (a linter, a script
    // that edits it) sees text: refused, so that the file means one thing to all of them.
    const node = this.node(key) as Scalar;
    if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && !this.src.expanded.has(node)) {
      return this.fail(
        key,
        `expected ${integer ? 'an integer' : 'a number'}, got the quoted text "${String(v)}" (write numbers without quotes)`,
      );
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)))
      return this.fail(key, `expected ${integer ? 'an integer' : 'a number'}, got "${String(v)}"`);
    if (n < min || n > max) return this.fail(key, `${n} is out of range ${min}..${max}`);
    return n;
  }

  boolean(key: string): boolean | undefined {
    const v = this.scalar(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') return this.fail(key, `expected true or false, got "${String(v)}"`);
    return v;
  }

  /** A duration: a number of seconds, or text like `500ms`, `2s`, `1m30s`, `1h`. Returns ms. */
  duration(key: string, minMs: number, maxMs: number): number | undefined {
    const v = this.scalar(key);
    if (v === undefined || v === null) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined) return this.fail(key, `expected a duration like 2s, 500ms or 1m, got "${String(v)}"`);
    if (ms < minMs || ms > maxMs)
      return this.fail(key, `${String(v)} is out of range ${fmtMs(minMs)}..${fmtMs(maxMs)}`);
    return ms;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v))
      return this.fail(key, `"${v}" is not one of ${allowed.join(' | ')}`);
    return v as T;
  }

  /** A list's items (a single scalar counts as a list of one). */
  list(key: string): YamlNode[] | undefined {
    const n = this.node(key);
    if (n === undefined || n === null) return undefined;
    if (isSeq(n)) return n.items as YamlNode[];
    if (isScalar(n)) return [n];
    return this.fail(key, 'expected a list');
  }

  /**
   * A list of address prefixes (`192.0.2.0/24`, `2001:db8::/32`, an address): each one that is not
   * fails at its own line (`key[i]`), and is left out.
   */
  cidrs(key: string): Cidr[] | undefined {
    const items = this.list(key);
    if (items === undefined) return undefined;
    const out: Cidr[] = [];
    for (const [i, n] of items.entries()) {
      const c = isScalar(n) ? parseCidr(String(n.value)) : 'expected an address prefix like 192.0.2.0/24';
      if (typeof c === 'string') this.src.fail(n, `${this.sub(key)}[${i}]`, c);
      else out.push(c);
    }
    return out;
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : undefined;
  if (typeof v !== 'string') return undefined;
  const text = v.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) ms += Number(m[1]) * UNITS[m[2]!]!;
  return Math.round(ms);
}

function fmtMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
