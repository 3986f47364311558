/**
 * Pure sliding-window sender state for one read transfer (RFC 7440 with
 * windowsize 1 = RFC 1350 lock-step). Blocks are counted absolutely from 1;
 * the 16-bit wire number is `abs & 0xffff`, so transfers past 65535 blocks
 * roll over to 0 (what tftp-hpa, atftp, curl and iPXE expect).
 */

/** What an ACK did to the window. */
export type AckResult = 'advanced' | 'done' | 'duplicate' | 'stray';

/** Sender window over blocks 1..last. */
export class SendWindow {
  /** Lowest block not yet acknowledged. */
  base = 1;
  /** Next block to put on the wire. */
  next = 1;
  /** True when the last `ack()` moved `next` back to `base` (a resend is due). */
  rewound = false;
  /** Base at which a duplicate ACK already triggered a resend (bounds Sorcerer's Apprentice). */
  private dupResentAt = 0;
  /**
   * Highest block sent before the last resend (NewReno's "recover" point, RFC 6582). A resend makes the
   * receiver see blocks it already has, and it answers those with a repeat of its last ACK; that repeat
   * is not news. Honouring it resent the next window too, whose copies provoked the next repeat: after a
   * single spurious timeout every later window went out twice.
   */
  private recover = 0;

  constructor(
    /** Number of the final block (short or empty). */
    readonly last: number,
    readonly size: number,
  ) {}

  /** Last block the window allows on the wire now. */
  end(): number {
    return Math.min(this.base + this.size - 1, this.last);
  }

  /** Map a 16-bit ACK number onto the absolute block it can mean: one of base-1 .. next-1. */
  resolve(wire: number): number | null {
    const prev = this.base - 1;
    const abs = prev + ((wire - (prev & 0xffff)) & 0xffff);
    return abs <= this.next - 1 ? abs : null;
  }

  /**
   * Apply an ACK. RFC 1350 lock-step: a duplicate ACK is ignored, never answered
   * with a resend (the Sorcerer's Apprentice bug). RFC 7440 section 4: the next
   * window always starts right after the block the receiver acknowledged, so a
   * receiver that saw a gap (and ACKed its last in-order block) gets the rest
   * again, and both sides count the window from the same ACK. A repeated ACK
   * with a window is answered once per window position.
   */
  ack(wire: number): AckResult {
    const abs = this.resolve(wire);
    this.rewound = false;
    if (abs === null) return 'stray';
    if (abs === this.base - 1) {
      if (this.size > 1 && this.next > this.base && this.dupResentAt !== this.base && abs > this.recover) {
        this.dupResentAt = this.base;
        this.recover = this.next - 1;
        this.next = this.base;
        this.rewound = true;
      }
      return 'duplicate';
    }
    this.base = abs + 1;
    if (abs >= this.last) return 'done';
    this.rewound = abs < this.next - 1;
    this.next = this.base;
    return 'advanced';
  }

  /** Timeout: go back to the first unacknowledged block (go-back-N). */
  rewind(): void {
    this.recover = Math.max(this.recover, this.next - 1);
    this.next = this.base;
  }
}
