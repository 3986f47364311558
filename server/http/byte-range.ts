/** HTTP Range (RFC 9110 14.1.2 byte ranges, 14.2 Range, 13.1.5 If-Range) for one file. Pure. */

/** One satisfiable range, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What to send for a `Range` header on a file of `size` bytes: a range (206), `'unsatisfiable'` (416), or
 * null for the whole file (no header, another unit, a malformed value, or several ranges: RFC 9110
 * 14.2 lets a server ignore Range, and multipart answers are not worth it for boot assets).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return null;
  if (a === '') {
    // Suffix: the last `b` bytes (RFC 9110 14.1.2); a zero-length suffix cannot be satisfied.
    const n = Number(b);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return null; // invalid: last-pos before first-pos, ignored
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

/** RFC 9110 13.1.5: a Range applies only when If-Range (an ETag or a date) still names this version. */
export function ifRangeHolds(ifRange: string | undefined, etag: string, mtimeMs: number): boolean {
  if (!ifRange) return true;
  const v = ifRange.trim();
  // A weak ETag never satisfies If-Range (strong comparison required).
  if (v.startsWith('"') || v.startsWith('W/')) return !etag.startsWith('W/') && v === etag;
  const t = Date.parse(v);
  return Number.isFinite(t) && Math.floor(mtimeMs / 1000) <= Math.floor(t / 1000);
}
