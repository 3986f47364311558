/**
 * Per-client quirk memory: a client whose transfer stalled at block 1 with a
 * big blksize is offered the RFC 1350 512 bytes next time (some PXE ROMs ask
 * for more than their buffers take). Bounded in size and time.
 */
import { BLKSIZE_DEFAULT } from './options.ts';

/** How long the fallback sticks: one boot attempt, with its retries. */
export const FALLBACK_TTL_MS = 30 * 60_000;
/** Remembered clients at most (a rack is far smaller). */
const MAX_CLIENTS = 4096;

/** Remembered per-IP blksize caps. */
export class ClientMemory {
  private readonly caps = new Map<string, { cap: number; until: number }>();

  /** The cap for `ip` (Infinity when nothing is remembered). */
  blksizeCap(ip: string, now: number): number {
    const e = this.caps.get(ip);
    if (!e) return Infinity;
    if (now > e.until) {
      this.caps.delete(ip);
      return Infinity;
    }
    return e.cap;
  }

  /** Remember that `ip` could not take its blksize. */
  lowerBlksize(ip: string, now: number): void {
    if (this.caps.size >= MAX_CLIENTS) {
      const oldest = this.caps.keys().next().value;
      if (oldest !== undefined) this.caps.delete(oldest);
    }
    this.caps.set(ip, { cap: BLKSIZE_DEFAULT, until: now + FALLBACK_TTL_MS });
  }
}
