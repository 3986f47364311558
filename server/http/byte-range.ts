/** HTTP Range (RFC 9110 14.1.2 byte ranges, 14.2 Range, 13.1.5 If-Range) for one file. Pure. */

/** One satisfiable range, inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Longest `Range` header looked at. A single byte range of two 16-digit positions is under 50 characters; a longer
 * header is ignored (the whole file is sent), as several ranges are.
 */
export const RANGE_HEADER_MAX = 200;

const isDigits = (s: string): boolean => /^\d*$/.test(s);

/**
 * `bytes=A-B` split into its two positions (either may be empty), or null. A scan with `indexOf` and trims, no
 * regular expression over the whole header: optional digit groups between optional whitespace made the one used
 * before backtrack in cubic time on a header of spaces (a 16 KB `Range` held the main thread for minutes).
 */
function rangeSpec(header: string): [string, string] | null {
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return null;
  const value = header.slice(eq + 1);
  const dash = value.indexOf('-');
  if (dash < 0 || value.indexOf('-', dash + 1) >= 0) return null;
  const a = value.slice(0, dash).trim();
  const b = value.slice(dash + 1).trim();
  return isDigits(a) && isDigits(b) ? [a, b] : null;
}

/**
 * What to send for a `Range` header on a file of `size` bytes: a range (206), `'unsatisfiable'` (416), or
 * null for the whole file (no header, another unit, a malformed value, or several ranges: RFC 9110
 * 14.2 lets a server ignore Range, and multipart answers are not worth it for boot assets).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header || header.length > RANGE_HEADER_MAX) return null;
  const spec = rangeSpec(header);
  if (!spec) return null;
  const [a, b] = spec;
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
