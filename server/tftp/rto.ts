/**
 * Retransmission timer values for one transfer: RFC 6298-style smoothed RTT
 * (Karn: no samples from retransmitted blocks) with exponential back-off,
 * never longer than an RFC 2349 timeout the client negotiated.
 */

/** Timing knobs (ms). */
export interface RtoConfig {
  /** Before any sample: RFC 6298 says 1 s. */
  initialMs: number;
  /** Floor: LAN round trips are sub-millisecond, but firmware may pause to write a block, and a busy client answers late. */
  minMs: number;
  /** Ceiling of one wait, after back-off. */
  maxMs: number;
  /** Retransmissions of the same block before the transfer is given up. */
  maxRetries: number;
}

/**
 * Defaults: first wait 1 s (RFC 6298), floor 200 ms, ceiling 4 s, 8 retries. The floor is Linux TCP's minimum
 * RTO. With a 30 ms floor, 96 of 100 lock-step transfers of the 100-machine boot storm retransmitted (406 blocks,
 * about 4 per transfer): a client busy for a few tens of milliseconds looks like a lost ACK, and Karn's rule keeps
 * those long round trips out of the estimate, so the duplicates went on. Over seven storms with 200 ms: 0-12 in 100
 * (docs/perf/changes.md, TFTP, "The retransmission floor"). A lost datagram on a LAN still costs 200 ms against the
 * 1 s or more of tftpd-hpa and dnsmasq. The give-up time (about 14 s on a LAN) outlasts clients' own 5 s re-ACK
 * timers (atftp, tftp-hpa), which is how a lost final ACK of a window is recovered from: RFC 7440 receivers do not
 * re-ACK old blocks.
 */
export const DEFAULT_RTO: RtoConfig = { initialMs: 1000, minMs: 200, maxMs: 4000, maxRetries: 8 };

/** Smoothed RTT estimator with back-off. */
export class RtoEstimator {
  private srtt = -1;
  private rttvar = 0;

  constructor(
    private readonly cfg: RtoConfig,
    private readonly fixedMs: number | null,
  ) {}

  /** Feed one round-trip sample (ms). RFC 6298 section 2. */
  sample(ms: number): void {
    if (this.srtt < 0) {
      this.srtt = ms;
      this.rttvar = ms / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - ms);
      this.srtt = 0.875 * this.srtt + 0.125 * ms;
    }
  }

  /**
   * Wait before the `tries`-th retransmission (0 = first wait). A negotiated RFC 2349 timeout caps
   * every wait: resending sooner than agreed when the measured RTT says a datagram is lost costs one
   * duplicate the client ignores, while waiting the client's whole interval (curl asks for 6 s) per
   * lost datagram would stretch a transfer on a lossy link by minutes.
   */
  waitMs(tries: number): number {
    const cap = this.fixedMs ?? this.cfg.maxMs;
    const base = this.srtt < 0 ? this.cfg.initialMs : Math.max(this.cfg.minMs, this.srtt + 4 * this.rttvar);
    return Math.ceil(Math.min(cap, base * 2 ** tries));
  }
}
