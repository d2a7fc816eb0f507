// Text encodings of bytes, checked strictly: a zone file, a key file and the API all refuse what
// Buffer.from would silently skip.

/** Bytes of a hex text (any case); undefined if it is not whole octets of hex digits. */
export function decodeHex(text: string): Buffer | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  return Buffer.from(text, 'hex');
}

/** Bytes of a base64 text (RFC 4648 §4, padded); undefined if it is not valid base64. */
export function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
