/**
 * One read transfer on its own socket (RFC 1350 section 4: a fresh TID per
 * transfer). Sends the OACK or the first window, drives retransmission with
 * back-off, and frees its socket, file handle and timer exactly once.
 */
import type { Peer, UdpTransport } from '../net/pinned-udp.ts';
import { BlockSource, type BlockReader, type PacketSource } from './block-source.ts';
import { decode, encode, ErrorCode, Opcode } from './codec.ts';
import { MalformedPacket } from './malformed-packet.ts';
import { blockCount, type Negotiated } from './options.ts';
import { RtoEstimator, type RtoConfig } from './rto.ts';
import { SendWindow } from './window.ts';

/** How a transfer ended. */
export type EndReason = 'complete' | 'probe' | 'client-error' | 'timeout' | 'stall-block1' | 'io-error';

/** How the server reports an ended transfer: a timeout that missed only the final ACK is a finish (final-ack.ts). */
export type ReportedReason = EndReason | 'final-ack-unseen';

/** The summary handed to the server when a transfer ends. */
export interface TransferResult {
  reason: EndReason;
  detail: string;
  bytes: number;
  retransmits: number;
  durationMs: number;
  /** Highest block acknowledged (absolute). */
  acked: number;
  /** True once data started flowing (OACK acknowledged or no OACK). */
  started: boolean;
}

/** Counters the transfer bumps in the server's stats. */
export interface TransferCounters {
  malformed: number;
  strayTid: number;
  duplicateAcks: number;
  sendErrors: number;
}

/** What every transfer needs, whichever side runs it (this file or native-transfer.ts). */
export interface TransferCommon {
  peer: Peer;
  size: number;
  neg: Negotiated;
  rto: RtoConfig;
  /** Give up sooner when block 1 never gets through with a big blksize (firmware quirk). */
  block1StallRetries: number;
  now: () => number;
  counters: TransferCounters;
  onStart: () => void;
  onEnd: (r: TransferResult) => void;
}

/** Everything one transfer in JavaScript needs. */
export interface TransferInit extends TransferCommon {
  sock: UdpTransport;
  fh: BlockReader;
  /** The file's packets when already laid out (the cache); else they are streamed from `fh`. */
  source?: PacketSource;
}

/** A running read transfer. */
export class Transfer {
  private readonly win: SendWindow;
  private readonly src: PacketSource;
  private readonly rto: RtoEstimator;
  private readonly t0: number;
  private awaitingOack: boolean;
  private tries = 0;
  private retransmits = 0;
  private timer: NodeJS.Timeout | null = null;
  private armedMs = 0;
  private loading = false;
  private ended = false;
  private probeAbs = 0;
  private probeAt = 0;

  constructor(private readonly o: TransferInit) {
    this.win = new SendWindow(blockCount(o.size, o.neg.blksize), o.neg.windowsize);
    this.src = o.source ?? new BlockSource(o.fh, o.size, o.neg.blksize, o.neg.windowsize);
    this.rto = new RtoEstimator(o.rto, o.neg.timeoutMs);
    this.t0 = o.now();
    this.awaitingOack = o.neg.oack !== null;
    o.sock.onMessage((buf, from) => this.onMessage(buf, from));
  }

  /** Send the OACK (RFC 2347) or the first window. */
  start(): void {
    if (this.awaitingOack) this.sendOack();
    else {
      this.o.onStart();
      this.pump();
    }
    this.arm();
  }

  /** The client re-sent its request (our first answer was lost): answer again now, once per wait. */
  onDuplicateRequest(): void {
    if (this.awaitingOack && this.tries === 0) {
      this.retransmits++;
      this.sendOack();
    }
  }

  /** Abort from outside (server stopping): tell the client, free everything. */
  abort(detail: string): void {
    this.send(encode({ op: Opcode.ERROR, code: ErrorCode.NOT_DEFINED, message: detail }));
    this.finish('io-error', detail);
  }

  private sendOack(): void {
    this.send(encode({ op: Opcode.OACK, options: this.o.neg.oack ?? [] }));
  }

  private send(buf: Buffer): void {
    this.o.sock.send(buf, this.o.peer).catch(() => {
      this.o.counters.sendErrors++;
    });
  }

  private onMessage(buf: Buffer, from: Peer): void {
    if (this.ended) return;
    if (from.port !== this.o.peer.port || from.address !== this.o.peer.address) {
      // RFC 1350 section 4: a packet from a foreign TID gets error 5 and does not disturb the transfer.
      this.o.counters.strayTid++;
      this.o.sock
        .send(encode({ op: Opcode.ERROR, code: ErrorCode.UNKNOWN_TID, message: 'unknown transfer ID' }), from)
        .catch(() => undefined);
      return;
    }
    let p;
    try {
      p = decode(buf);
    } catch (e) {
      if (e instanceof MalformedPacket) {
        this.o.counters.malformed++;
        return;
      }
      throw e;
    }
    if (p.op === Opcode.ERROR) {
      // PXE ROMs end a tsize probe with an error right after the OACK, then ask again.
      const probe = this.awaitingOack;
      this.finish(probe ? 'probe' : 'client-error', `client sent error ${p.code}: ${p.message}`);
      return;
    }
    if (p.op !== Opcode.ACK) return;
    if (this.awaitingOack) {
      if (p.block !== 0) return;
      this.awaitingOack = false;
      this.tries = 0;
      this.o.onStart();
      this.pump();
      this.arm();
      return;
    }
    const r = this.win.ack(p.block);
    if (r === 'stray') return;
    if (r === 'duplicate') {
      this.o.counters.duplicateAcks++;
      if (this.win.rewound) {
        this.retransmits++;
        this.pump(true);
      }
      return;
    }
    if (this.probeAbs > 0 && this.win.base > this.probeAbs) {
      this.rto.sample(this.o.now() - this.probeAt);
      this.probeAbs = 0;
    }
    if (r === 'done') {
      this.finish('complete', 'complete');
      return;
    }
    this.tries = 0;
    const rewound = this.win.rewound;
    if (rewound) this.retransmits++;
    this.pump(rewound);
    this.arm();
  }

  /** Put every block the window allows on the wire, loading the next chunk when needed. */
  private pump(isRetransmit = false): void {
    if (this.ended) return;
    const end = this.win.end();
    while (this.win.next <= end) {
      const abs = this.win.next;
      const pkt = this.src.packet(abs);
      if (pkt === null) {
        if (!this.loading) this.loadThenPump(this.win.base, isRetransmit);
        return;
      }
      this.send(pkt);
      this.win.next++;
    }
    if (isRetransmit)
      this.probeAbs = 0; // Karn: no RTT sample across a resend
    else if (this.probeAbs === 0) {
      this.probeAbs = end;
      this.probeAt = this.o.now();
    }
  }

  private loadThenPump(abs: number, isRetransmit: boolean): void {
    this.loading = true;
    this.src.load(abs).then(
      () => {
        this.loading = false;
        this.pump(isRetransmit);
      },
      (e: unknown) => {
        this.loading = false;
        if (this.ended) return;
        const msg = e instanceof Error ? e.message : String(e);
        this.send(encode({ op: Opcode.ERROR, code: ErrorCode.NOT_DEFINED, message: 'read error on server' }));
        this.finish('io-error', msg);
      },
    );
  }

  private arm(): void {
    if (this.ended) return;
    const ms = this.rto.waitMs(this.tries);
    if (this.timer && ms === this.armedMs) {
      this.timer.refresh(); // hot path: one timer per transfer, re-armed per ACK
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.armedMs = ms;
    this.timer = setTimeout(() => this.onTimeout(), ms);
  }

  private onTimeout(): void {
    if (this.ended) return;
    this.tries++;
    const atBlock1 = !this.awaitingOack && this.win.base === 1;
    if (atBlock1 && this.o.neg.blksize > 512 && this.tries > this.o.block1StallRetries) {
      this.send(
        encode({ op: Opcode.ERROR, code: ErrorCode.NOT_DEFINED, message: 'no ACK for block 1; retry, a smaller blksize will be used' }),
      );
      this.finish('stall-block1', `no ACK for block 1 with blksize ${this.o.neg.blksize}`);
      return;
    }
    if (this.tries > this.o.rto.maxRetries) {
      const at = this.awaitingOack ? 'the OACK' : `block ${this.win.base}`;
      this.send(encode({ op: Opcode.ERROR, code: ErrorCode.NOT_DEFINED, message: `timed out waiting for the ACK of ${at}` }));
      this.finish('timeout', `client stopped acknowledging: gave up after ${this.o.rto.maxRetries} retransmissions of ${at}`);
      return;
    }
    this.retransmits++;
    this.probeAbs = 0;
    if (this.awaitingOack) this.sendOack();
    else {
      this.win.rewind();
      this.pump(true);
    }
    this.arm();
  }

  private finish(reason: EndReason, detail: string): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const acked = this.win.base - 1;
    this.o.onEnd({
      reason,
      detail,
      bytes: reason === 'complete' ? this.o.size : Math.min(this.o.size, acked * this.o.neg.blksize),
      retransmits: this.retransmits,
      durationMs: this.o.now() - this.t0,
      acked,
      started: !this.awaitingOack,
    });
  }
}
