/**
 * Pure option negotiation for a read request: RFC 2347 (OACK), RFC 2348
 * (blksize), RFC 2349 (timeout, tsize), RFC 7440 (windowsize).
 */
import type { TftpOption } from './codec.ts';

/** RFC 2348: smallest and largest blksize a client may ask for. */
export const BLKSIZE_MIN = 8;
/** RFC 2348: 65464 = 65535 - 20 (IP) - 8 (UDP) - 4 (TFTP) - 39 of slack the RFC keeps. */
export const BLKSIZE_MAX = 65464;
/** RFC 1350: the block size when no option was negotiated. */
export const BLKSIZE_DEFAULT = 512;
/** RFC 7440 section 3: windowsize ranges 1..65535; we cap lower to bound a burst. */
export const WINDOWSIZE_MAX = 64;
/** A window's bytes are bounded so one transfer's burst fits a socket buffer (256 KiB). */
export const WINDOW_BYTES_MAX = 256 * 1024;

/** What the server allows this client. */
export interface NegotiationLimits {
  /** Largest blksize for this path (MTU-derived, maybe lowered per client). */
  blksizeCap: number;
  /** Largest windowsize. */
  windowsizeCap: number;
  /** The file's size, for tsize. */
  fileSize: number;
}

/** The parameters of one transfer and the OACK to send (null: plain RFC 1350, no OACK). */
export interface Negotiated {
  blksize: number;
  windowsize: number;
  /** RFC 2349 timeout in ms if the client asked for one, else null (adaptive). */
  timeoutMs: number | null;
  oack: TftpOption[] | null;
  /** Options the client asked for, lowercased, for events. */
  requested: Record<string, string>;
}

/** Parse a decimal option value strictly (no sign, no spaces, no hex). */
function num(v: string): number | null {
  return /^\d{1,10}$/.test(v) ? Number(v) : null;
}

/** Decide the transfer parameters; unknown and invalid options are ignored as RFC 2347 allows. */
export function negotiate(options: readonly TftpOption[], lim: NegotiationLimits): Negotiated {
  const out: Negotiated = { blksize: BLKSIZE_DEFAULT, windowsize: 1, timeoutMs: null, oack: null, requested: {} };
  const oack: TftpOption[] = [];
  const seen = new Set<string>();
  for (const [name, value] of options) {
    const key = name.toLowerCase();
    if (seen.has(key)) continue; // RFC 2347 does not define repeats: the first one counts
    seen.add(key);
    out.requested[key] = value;
    const n = num(value);
    if (key === 'blksize' && n !== null && n >= BLKSIZE_MIN) {
      // RFC 2348: the server may answer a smaller value; never above what the path carries unfragmented.
      out.blksize = Math.max(BLKSIZE_MIN, Math.min(n, BLKSIZE_MAX, lim.blksizeCap));
      oack.push([name, String(out.blksize)]);
    } else if (key === 'tsize' && n !== null) {
      // RFC 2349: a read request carries tsize 0; the OACK carries the file size. For an empty file we
      // leave it out (RFC 2347 lets a server skip any option): curl 7.88 rejects "tsize 0" in an OACK.
      if (lim.fileSize > 0) oack.push([name, String(lim.fileSize)]);
    } else if (key === 'timeout' && n !== null && n >= 1 && n <= 255) {
      // RFC 2349: accepted as asked (seconds), echoed unchanged.
      out.timeoutMs = n * 1000;
      oack.push([name, value]);
    } else if (key === 'windowsize' && n !== null && n >= 1 && n <= 65535) {
      out.windowsize = n; // finalised below, once blksize is known
    }
  }
  if (out.windowsize > 1 || 'windowsize' in out.requested) {
    // RFC 7440 section 3: the server may answer a smaller window than asked.
    const byBytes = Math.max(1, Math.floor(WINDOW_BYTES_MAX / out.blksize));
    out.windowsize = Math.max(1, Math.min(out.windowsize, lim.windowsizeCap, byBytes));
    const asked = options.find(([k]) => k.toLowerCase() === 'windowsize');
    if (asked && num(asked[1]) !== null && num(asked[1])! >= 1) oack.push([asked[0], String(out.windowsize)]);
  }
  out.oack = oack.length > 0 ? oack : null;
  return out;
}

/** RFC 7440/1350: number of DATA blocks for a file; a multiple of blksize ends with an empty block. */
export function blockCount(size: number, blksize: number): number {
  return Math.floor(size / blksize) + 1;
}
