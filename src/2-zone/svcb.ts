// SVCB and HTTPS RDATA (RFC 9460): SvcPriority, TargetName, then `key=value` SvcParams, written on
// the wire sorted by key. GSLB zones publish HTTPS records next to their pools, so these get a text
// format rather than only the RFC 3597 one.

import { parseIPv4, parseIPv6 } from '../0-base/address.ts';
import { decodeEscapes, RdataError, type RdataReader, type RdataWriter } from './rdata-io.ts';
import { decodeBase64 } from '../0-base/encoding.ts';
import { nameEnd } from '../0-base/name.ts';
import { parseDecimal } from './ttl.ts';

/** RFC 9460 §14.3.2, RFC 9461 (dohpath), RFC 9540 (ohttp). */
const KEYS: Record<string, number> = {
  mandatory: 0,
  alpn: 1,
  'no-default-alpn': 2,
  port: 3,
  ipv4hint: 4,
  ech: 5,
  ipv6hint: 6,
  dohpath: 7,
  ohttp: 8,
};
const KEY_NAMES = new Map(Object.entries(KEYS).map(([k, v]) => [v, k]));
const MANDATORY = 0,
  ALPN = 1,
  NO_DEFAULT_ALPN = 2,
  PORT = 3,
  IPV4HINT = 4,
  ECH = 5,
  IPV6HINT = 6,
  OHTTP = 8;

/** Key number of a key name (`alpn`, `key65000`), or undefined. RFC 9460 §14.3.3: 65535 is invalid. */
function keyNumber(name: string): number | undefined {
  const known = KEYS[name];
  if (known !== undefined) return known;
  const m = /^key(\d{1,5})$/.exec(name);
  const n = m ? Number(m[1]) : NaN;
  return n < 65535 ? n : undefined;
}

const keyName = (k: number): string => KEY_NAMES.get(k) ?? `key${k}`;

export function encodeSvcb(r: RdataReader, w: RdataWriter): void {
  w.u16(r.int('SvcPriority', 0xffff));
  w.bytes(r.name('TargetName'));
  const params = new Map<number, Buffer>();
  while (!r.done) {
    const t = r.token('SvcParam');
    if (t.quoted) r.fail(`SvcParam "${t.text}" must be written key=value`, t.line);
    const eq = t.text.indexOf('=');
    const keyText = eq < 0 ? t.text : t.text.slice(0, eq);
    const key = keyNumber(keyText.toLowerCase());
    if (key === undefined) r.fail(`unknown SvcParamKey "${keyText}"`, t.line);
    if (params.has(key)) r.fail(`SvcParamKey ${keyText} given twice`, t.line);
    let raw = eq < 0 ? '' : t.text.slice(eq + 1);
    if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
    try {
      params.set(key, paramValue(key, decodeEscapes(raw), eq >= 0));
    } catch (e) {
      if (e instanceof RdataError) r.fail(`${keyText}: ${e.message}`, t.line);
      throw e;
    }
  }
  const mandatory = params.get(MANDATORY);
  for (let i = 0; mandatory && i < mandatory.length; i += 2) {
    const k = mandatory.readUInt16BE(i);
    if (!params.has(k)) r.fail(`mandatory lists ${keyName(k)}, which is not given`);
  }
  // RFC 9460 §7.1.1: no-default-alpn without alpn leaves no protocol at all.
  if (params.has(NO_DEFAULT_ALPN) && !params.has(ALPN)) r.fail('no-default-alpn needs alpn');
  for (const k of [...params.keys()].sort((a, b) => a - b)) {
    const v = params.get(k)!;
    w.u16(k);
    w.u16(v.length);
    w.bytes(v);
  }
}

function paramValue(key: number, value: Buffer, hasValue: boolean): Buffer {
  if (key === NO_DEFAULT_ALPN || key === OHTTP) {
    if (hasValue) throw new RdataError('takes no value');
    return Buffer.alloc(0);
  }
  if (key > OHTTP) return value; // keyNNNNN: opaque octets
  if (value.length === 0) throw new RdataError('needs a value');
  const text = value.toString('latin1');
  switch (key) {
    case MANDATORY: {
      const keys = text
        .split(',')
        .map((n) => {
          const k = keyNumber(n.toLowerCase());
          if (k === undefined) throw new RdataError(`unknown key "${n}"`);
          if (k === MANDATORY) throw new RdataError('cannot list mandatory itself');
          return k;
        })
        .sort((a, b) => a - b);
      if (keys.some((k, i) => keys[i - 1] === k)) throw new RdataError('lists a key twice');
      return u16s(keys);
    }
    case ALPN: {
      const ids = valueList(value);
      if (ids.some((id) => id.length === 0 || id.length > 255))
        throw new RdataError('each alpn-id must be 1..255 octets');
      return Buffer.concat(ids.flatMap((id) => [Buffer.from([id.length]), id]));
    }
    case PORT: {
      const port = parseDecimal(text);
      if (port === undefined || port > 0xffff) throw new RdataError(`"${text}" is not a port number`);
      return u16s([port]);
    }
    case IPV4HINT:
    case IPV6HINT:
      return Buffer.concat(
        text.split(',').map((a) => {
          const b = key === IPV4HINT ? parseIPv4(a) : parseIPv6(a);
          if (!b) throw new RdataError(`"${a}" is not an IPv${key === IPV4HINT ? 4 : 6} address`);
          return b;
        }),
      );
    case ECH: {
      const b = decodeBase64(text);
      if (!b) throw new RdataError('is not base64');
      return b;
    }
    default: // dohpath: a URI template, kept as written
      return value;
  }
}

/** RFC 9460 Appendix A.1: items split at `,`; `\,` and `\\` (after string decoding) are literal. */
function valueList(value: Buffer): Buffer[] {
  const items: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === 0x5c && i + 1 < value.length) cur.push(value[++i]!);
    else if (c === 0x2c) {
      items.push(Buffer.from(cur));
      cur = [];
    } else cur.push(c);
  }
  items.push(Buffer.from(cur));
  return items;
}

function u16s(values: number[]): Buffer {
  const b = Buffer.allocUnsafe(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

/** Wire checks of SvcParams (RFC 9460 §2.2): keys strictly increasing, lengths in bounds. */
export function checkSvcbParams(d: Buffer): string | undefined {
  let p = nameEnd(d, 2);
  let last = -1;
  while (p >= 0 && p < d.length) {
    if (p + 4 > d.length) return 'SvcParam header cut short';
    const key = d.readUInt16BE(p);
    const len = d.readUInt16BE(p + 2);
    p += 4 + len;
    if (p > d.length) return `SvcParam ${keyName(key)} value cut short`;
    if (key <= last) return 'SvcParamKeys are not in strictly increasing order';
    if (key === 65535) return 'SvcParamKey 65535 is reserved';
    const bad =
      (key === PORT && len !== 2) ||
      (key === IPV4HINT && (len === 0 || len % 4 !== 0)) ||
      (key === IPV6HINT && (len === 0 || len % 16 !== 0)) ||
      (key === MANDATORY && (len === 0 || len % 2 !== 0)) ||
      ((key === NO_DEFAULT_ALPN || key === OHTTP) && len !== 0);
    if (bad) return `SvcParam ${keyName(key)} has a bad length ${len}`;
    last = key;
  }
  return undefined;
}
