/**
 * A run of consecutive DATA packets laid out ready to send (RFC 1350 5: opcode
 * 3, 16-bit block number, up to blksize bytes): one buffer, one slot of
 * 4 + blksize bytes per block, headers written once when the run is filled. A
 * block is sent as a view of its slot: no copy, no allocation per block. The
 * run is never written after `fill` resolves, so a datagram the kernel has not
 * taken yet (a queued send) stays valid.
 */
import type { BlockReader } from './block-source.ts';
import { Opcode } from './codec.ts';

/** Most iovecs one readv(2) may take on Linux (IOV_MAX). */
const IOV_MAX = 1024;

/** Blocks `first .. first + count - 1` of a file of `size` bytes, as DATA packets. */
export class PacketRun {
  private readonly stride: number;
  private readonly buf: Buffer;

  constructor(
    readonly first: number,
    readonly count: number,
    private readonly blksize: number,
    private readonly size: number,
  ) {
    this.stride = 4 + blksize;
    this.buf = Buffer.allocUnsafe(count * this.stride);
    for (let i = 0; i < count; i++) {
      const o = i * this.stride;
      const wire = (first + i) & 0xffff; // absolute blocks roll over to 0 after 65535 (docs/tftp.md)
      this.buf[o] = 0;
      this.buf[o + 1] = Opcode.DATA;
      this.buf[o + 2] = wire >>> 8;
      this.buf[o + 3] = wire & 0xff;
    }
  }

  /** Payload bytes of block `abs` (the final block of the file is short, possibly empty). */
  private payloadLen(abs: number): number {
    return Math.max(0, Math.min(this.blksize, this.size - (abs - 1) * this.blksize));
  }

  /** File bytes this run carries. */
  get payloadBytes(): number {
    return Math.max(0, Math.min(this.count * this.blksize, this.size - (this.first - 1) * this.blksize));
  }

  /** The run as laid out: `count` slots of 4 + blksize bytes, headers written (what the native pump sends from). */
  get laidOut(): Buffer {
    return this.buf;
  }

  /** True when block `abs` is in this run. */
  has(abs: number): boolean {
    return abs >= this.first && abs < this.first + this.count;
  }

  /** The DATA packet of block `abs` (must be in the run). */
  packet(abs: number): Buffer {
    const o = (abs - this.first) * this.stride;
    return this.buf.subarray(o, o + 4 + this.payloadLen(abs));
  }

  /** Read the run's payloads from `fh` (readv straight into the slots); throws if the file is shorter than `size`. */
  async fill(fh: BlockReader): Promise<this> {
    const start = (this.first - 1) * this.blksize;
    const want = Math.max(0, Math.min(this.count * this.blksize, this.size - start));
    let got = 0;
    while (got < want) {
      const views: Buffer[] = [];
      // Resume mid-slot after a short read; at most IOV_MAX slots per call.
      for (let b = Math.floor(got / this.blksize); b < this.count && views.length < IOV_MAX; b++) {
        const len = this.payloadLen(this.first + b);
        const skip = b === Math.floor(got / this.blksize) ? got % this.blksize : 0;
        if (len - skip <= 0) break;
        const o = b * this.stride + 4;
        views.push(this.buf.subarray(o + skip, o + len));
      }
      const { bytesRead } = await fh.readv(views, start + got);
      if (bytesRead === 0) throw new Error(`file shrank during the transfer (expected ${this.size} bytes)`);
      got += bytesRead;
    }
    return this;
  }
}
