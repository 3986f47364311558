/**
 * Pure rule for a give-up at the very end of a read transfer. RFC 1350 section 6 leaves the final ACK to the
 * client's goodwill: a receiver that has the last block may stop at once, and boot loaders do (GRUB and iPXE start
 * the image they just fetched; under emulation the ACK can still sit in the firmware's driver when it hands over).
 * So when every block went out and only the final window was never acknowledged, the server cannot tell a booted
 * client from a vanished one, and the likelier story is the booted client. Such a transfer is reported as a finish
 * marked "final ACK not seen", not as a failure. Applied once, where both transfer paths (transfer.ts and the
 * native pump through native-transfer.ts) hand their result to the server (server.ts `ended`).
 */
import { blockCount } from './options.ts';
import type { ReportedReason, TransferResult } from './transfer.ts';

/** What the transfer was: its file size and what was negotiated. */
export interface TransferShape {
  size: number;
  blksize: number;
  windowsize: number;
  /** An OACK was sent: its ACK proves the client was there even when no DATA block was acknowledged. */
  hadOack: boolean;
}

/** What the give-up knew about the transfer. */
export interface GiveUpState extends TransferShape {
  /** Highest block the client acknowledged (absolute; 0 for none). */
  acked: number;
  /** The OACK was acknowledged (or none was sent). */
  started: boolean;
}

/**
 * True when the client answered during the transfer and the only blocks it never acknowledged are the file's
 * last window (with lock-step, the final block alone). The window after the last ACK then reaches the end of
 * the file, so every block was sent at least once.
 */
export function onlyFinalAckMissing(s: GiveUpState): boolean {
  if (!s.started) return false;
  if (s.acked === 0 && !s.hadOack) return false; // nothing ever came back: no sign of a client at all
  const total = blockCount(s.size, s.blksize);
  return s.acked < total && total - s.acked <= s.windowsize;
}

/** The `detail` of such a finish. */
export function finalAckDetail(s: GiveUpState): string {
  const total = blockCount(s.size, s.blksize);
  return `final ACK not seen: every block was sent, the client acknowledged ${s.acked} of ${total} (RFC 1350 leaves the last ACK to the client; boot loaders often start the file before it leaves)`;
}

/** A transfer's result with the reason the server reports. */
export type Reported = Omit<TransferResult, 'reason'> & { reason: ReportedReason };

/** A transfer's result as the server reports it: a timeout with only the final window unacknowledged is a finish. */
export function settle(r: TransferResult, t: TransferShape): Reported {
  const state: GiveUpState = { ...t, acked: r.acked, started: r.started };
  if (r.reason !== 'timeout' || !onlyFinalAckMissing(state)) return r;
  return { ...r, reason: 'final-ack-unseen', detail: finalAckDetail(state), bytes: t.size };
}
