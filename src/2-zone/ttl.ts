// TTL values as written in zone files: bare seconds, or BIND-style unit components
// (`1h30m`, `2w`, `1D`), used by $TTL, the record TTL field and the SOA timers.

/** RFC 2181 §8: a TTL is an unsigned 31-bit value. */
export const MAX_TTL = 0x7fffffff;

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/**
 * Seconds of a TTL text, or undefined if it is not one. As in BIND, a number with no unit must
 * stand alone: `1h30` is rejected rather than guessed to be 1h30s.
 */
export function parseTtl(text: string): number | undefined {
  const bare = parseDecimal(text);
  if (bare !== undefined) return bare <= MAX_TTL ? bare : undefined;
  let total = 0;
  let i = 0;
  while (i < text.length) {
    const start = i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    if (i === start || i === text.length) return undefined;
    const unit = UNIT[text[i]!.toLowerCase()];
    if (unit === undefined) return undefined;
    total += Number(text.slice(start, i)) * unit;
    i++;
  }
  return i > 0 && total <= MAX_TTL ? total : undefined;
}

/** True if the text looks like a TTL attempt (starts with a digit), to tell it from a type name. */
export function looksLikeTtl(text: string): boolean {
  return text.length > 0 && isDigit(text.charCodeAt(0));
}

/** Value of an all-digit text, or undefined. */
export function parseDecimal(text: string): number | undefined {
  if (text.length === 0 || text.length > 15) return undefined;
  for (let i = 0; i < text.length; i++) if (!isDigit(text.charCodeAt(i))) return undefined;
  return Number(text);
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
