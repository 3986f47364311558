/**
 * A read transfer whose data phase runs in Crashcart's own addon
 * (native/tftp-pump.c): the OACK, every DATA block, the ACKs, the window,
 * the retransmission timer and the block-1 rule, on a socket the addon opens
 * and owns, on the addon's pump thread (off Node's loop). The request phase
 * (decode, path checks, negotiation, the cache) stays in server.ts, and
 * onStart/onEnd run on the main thread. Same surface and same TransferResult as transfer.ts, so
 * the server treats both alike.
 *
 * The addon writes the rules of transfer.ts, window.ts and rto.ts a second
 * time, in C. test/tftp/server.test.ts runs every protocol case (lock-step,
 * windows, loss, rollover past block 65535, Sorcerer's Apprentice, give-up,
 * block-1 stall, tsize probe, queueing, stop) against both, so the two cannot
 * drift apart unnoticed. `--tftp-js` runs every transfer in JavaScript.
 */
import { getSystemErrorName } from 'node:util';
import { loadAddon } from '../net/native-addon.ts';
import { decode, encode, Opcode } from './codec.ts';
import type { EndReason, TransferCommon } from './transfer.ts';

interface PumpOptions {
  address: string;
  ifindex: number;
  peerAddress: string;
  peerPort: number;
  size: number;
  blksize: number;
  windowsize: number;
  packets: Buffer | null;
  fd: number;
  oack: Buffer | null;
  initialMs: number;
  minMs: number;
  maxMs: number;
  maxRetries: number;
  fixedMs: number;
  block1StallRetries: number;
  onStart: () => void;
  onEnd: (
    reason: number,
    acked: number,
    retransmits: number,
    malformed: number,
    duplicateAcks: number,
    sendErrors: number,
    started: boolean,
    readErrno: number,
    clientError: Buffer | undefined,
  ) => void;
}

interface Addon {
  start(o: PumpOptions): object;
  duplicateRequest(job: object): void;
  abort(job: object, message: string): void;
  /** Pump threads: PUMP_THREADS (native/tftp-pump.c, one) planned; running once a transfer started. */
  threads(): { planned: number; running: number };
  /**
   * Since the process started: loop turns the pump threads spent polling instead of sleeping, after a block to a
   * client whose round trip is at most 0.2 ms (SPIN_MAX_US), and datagrams read in those turns.
   */
  polling(): { turns: number; reads: number };
}

/** The loaded addon, or why not (the TFTP plugin says it once at start). */
export const tftpPump = loadAddon<Addon>('tftp-pump');

/** The addon's reason codes, in its order. */
const REASONS: readonly EndReason[] = ['complete', 'probe', 'client-error', 'timeout', 'stall-block1', 'io-error'];

/** Where the pump's socket lives: the appliance's address, pinned to the NIC. */
export interface PumpSocket {
  address: string;
  ifindex: number | null;
}

/** Everything one native transfer needs. */
export interface NativeTransferInit extends TransferCommon {
  at: PumpSocket;
  /** The whole file laid out as DATA packets at `neg.blksize` (the cache), or null to read from `fd`. */
  packets: Buffer | null;
  fd: number;
}

/** A running read transfer in the addon. */
export class NativeTransfer {
  private job: object | null = null;
  private abortDetail: string | null = null;
  private readonly t0: number;

  /** Nothing opens yet: `start` opens the socket (and throws with the errno's code, as a bind would). */
  constructor(private readonly o: NativeTransferInit) {
    this.t0 = o.now();
    if (!tftpPump.addon) throw new Error(`NativeTransfer without the addon: ${tftpPump.why}`);
  }

  /** Send the OACK or the first window. */
  start(): void {
    const o = this.o;
    const addon = tftpPump.addon!;
    const oack = o.neg.oack === null ? null : encode({ op: Opcode.OACK, options: o.neg.oack });
    let ended = false;
    const job = addon.start({
      address: o.at.address,
      ifindex: o.at.ifindex ?? -1,
      peerAddress: o.peer.address,
      peerPort: o.peer.port,
      size: o.size,
      blksize: o.neg.blksize,
      windowsize: o.neg.windowsize,
      packets: o.packets,
      fd: o.fd,
      oack,
      initialMs: o.rto.initialMs,
      minMs: o.rto.minMs,
      maxMs: o.rto.maxMs,
      maxRetries: o.rto.maxRetries,
      fixedMs: o.neg.timeoutMs ?? -1,
      block1StallRetries: o.block1StallRetries,
      onStart: () => o.onStart(),
      onEnd: (code, acked, retransmits, malformed, duplicateAcks, sendErrors, started, readErrno, clientError) => {
        ended = true;
        this.job = null;
        o.counters.malformed += malformed;
        o.counters.duplicateAcks += duplicateAcks;
        o.counters.sendErrors += sendErrors;
        const reason = REASONS[code] ?? 'io-error';
        o.onEnd({
          reason,
          detail: this.detail(reason, acked, started, readErrno, clientError),
          bytes: reason === 'complete' ? o.size : Math.min(o.size, acked * o.neg.blksize),
          retransmits,
          durationMs: o.now() - this.t0,
          acked,
          started,
        });
      },
    });
    if (ended) return; // it ended inside start (its first block unreadable): nothing left to hold
    this.job = job;
    // No OACK: data flows from the first datagram on. Reported once the socket is open (a failed open is a setup
    // failure, with no start).
    if (oack === null) o.onStart();
  }

  /** The client re-sent its request: the addon answers the OACK again, once per wait. */
  onDuplicateRequest(): void {
    if (this.job) tftpPump.addon!.duplicateRequest(this.job);
  }

  /** Abort from outside (server stopping): the client is told, everything is freed before this returns. */
  abort(detail: string): void {
    if (!this.job) return;
    this.abortDetail = detail;
    tftpPump.addon!.abort(this.job, detail);
  }

  /** The same `detail` texts transfer.ts gives. */
  private detail(reason: EndReason, acked: number, started: boolean, readErrno: number, clientError: Buffer | undefined): string {
    switch (reason) {
      case 'complete':
        return 'complete';
      case 'probe':
      case 'client-error': {
        const p = clientError ? decode(clientError) : null; // ERROR decodes leniently: never throws
        return p && p.op === Opcode.ERROR ? `client sent error ${p.code}: ${p.message}` : 'client sent an error';
      }
      case 'timeout':
        return `client stopped acknowledging: gave up after ${this.o.rto.maxRetries} retransmissions of ${started ? `block ${acked + 1}` : 'the OACK'}`;
      case 'stall-block1':
        return `no ACK for block 1 with blksize ${this.o.neg.blksize}`;
      case 'io-error':
        if (this.abortDetail !== null) return this.abortDetail;
        return readErrno === 0
          ? `file shrank during the transfer (expected ${this.o.size} bytes)`
          : `read failed: ${getSystemErrorName(-readErrno)}`;
    }
  }
}
