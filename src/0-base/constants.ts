// DNS numbers used across gslbd (RFC 1035 §3.2, IANA DNS parameters).

export const Type = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  NAPTR: 35,
  DNAME: 39,
  OPT: 41,
  DS: 43,
  SSHFP: 44,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  NSEC3: 50,
  TLSA: 52,
  CDS: 59,
  CDNSKEY: 60,
  SVCB: 64,
  HTTPS: 65,
  CAA: 257,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
} as const;

const typeNames = new Map<number, string>(Object.entries(Type).map(([k, v]) => [v, k]));
const typeNumbers = new Map<string, number>(Object.entries(Type));

/** Mnemonic of a type, or RFC 3597 `TYPEnnn`. */
export function typeName(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

/** Type number of a mnemonic or `TYPEnnn` (case-insensitive); undefined if unknown. */
export function typeFromName(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = typeNumbers.get(upper);
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(upper);
  if (!m) return undefined;
  const n = Number(m[1]);
  return n <= 0xffff ? n : undefined;
}

/** RFC 6895 §3.1: meta-types and q-types, never stored in a zone. */
export function isMetaType(type: number): boolean {
  return type === Type.OPT || (type >= 128 && type <= 255);
}

export const Class = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const Opcode = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADVERS: 16,
  BADSIG: 16,
  BADKEY: 17,
  BADTIME: 18,
  /** RFC 7873 §8: extended RCODE, 7 in the header and 1 in the OPT. */
  BADCOOKIE: 23,
} as const;

/** Header flag bits in the second 16-bit word (RFC 1035 §4.1.1, RFC 4035 §3.2). */
export const Flag = { QR: 0x8000, AA: 0x0400, TC: 0x0200, RD: 0x0100, RA: 0x0080, AD: 0x0020, CD: 0x0010 } as const;

/** RFC 8914 / 6891 option codes we read. */
export const EdnsOption = { NSID: 3, ECS: 8, COOKIE: 10, PADDING: 12 } as const;

/** RFC 6891 §6.2.5 and DNS Flag Day 2020: our advertised and default maximum UDP payload. */
export const UDP_PAYLOAD_MAX = 1232;
/** RFC 1035 §4.2.1: UDP payload without EDNS. */
export const UDP_PAYLOAD_CLASSIC = 512;

/** RCODE mnemonics (RFC 1035 §4.1.1, RFC 2136 §2.2), for logs and metrics labels. */
export const RCODE_NAMES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? (rcode === 16 ? 'BADVERS' : rcode === 23 ? 'BADCOOKIE' : `RCODE${rcode}`);
}
