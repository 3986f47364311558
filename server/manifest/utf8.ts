/**
 * UTF-8 checked byte by byte (RFC 3629 4, the well-formed byte sequences): overlong forms, surrogates,
 * code points past U+10FFFF and cut sequences are refused, and the first bad byte is named with its line,
 * so an operator can find it in the spreadsheet. Pure.
 */

/** Offset of the first byte that is not part of well-formed UTF-8, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // RFC 3629 4: the second byte's range depends on the first byte (this is what excludes overlongs and surrogates).
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + len > n) return i;
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let k = 2; k < len; k++) if ((b[i + k]! & 0xc0) !== 0x80) return i;
    i += len;
  }
  return -1;
}

/** Decode UTF-8, or say where it is not: `{ text }` or `{ offset, line }` (1-based line of the bad byte). */
export function decodeUtf8(b: Uint8Array): { text: string } | { offset: number; line: number } {
  const bad = firstInvalidUtf8(b);
  if (bad < 0) return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b) };
  let line = 1;
  for (let k = 0; k < bad; k++) if (b[k] === 0x0a) line++;
  return { offset: bad, line };
}
