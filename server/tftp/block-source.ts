/**
 * Where a transfer's DATA packets come from. A small file comes whole from the
 * cache (file-cache.ts): every client of a boot storm shares one laid-out copy
 * and no read runs during the transfer. A large one streams with a bounded
 * read-ahead: the current run plus at most one prefetched run (each >= 256 KiB
 * and >= 2 windows), so a 1 GiB file costs what a 1 MiB file costs. Runs are
 * fresh buffers, so packets still queued in a socket stay valid.
 */
import type { FileHandle } from 'node:fs/promises';
import { PacketRun } from './packet-run.ts';

/** Read-ahead of at least this many bytes: few reads (each a trip to the thread pool), page-cache friendly. */
const CHUNK_MIN_BYTES = 256 * 1024;

/** DATA packets by absolute (non-wrapping) block number from 1. */
export interface PacketSource {
  /** The packet of block `abs` if it is loaded, else null (call `load`). */
  packet(abs: number): Buffer | null;
  /** Load the packets from block `abs` on; throws if the file shrank underneath us. */
  load(abs: number): Promise<void>;
}

/** A whole file already laid out (from the cache). */
export class WholeSource implements PacketSource {
  constructor(private readonly run: PacketRun) {}
  /** The packet of block `abs`. */
  packet(abs: number): Buffer | null {
    return this.run.has(abs) ? this.run.packet(abs) : null;
  }
  /** Nothing to load. */
  async load(): Promise<void> {}
}

/** A file streamed in runs with one run of read-ahead. */
export class BlockSource implements PacketSource {
  private cur: PacketRun | null = null;
  private ahead: PacketRun | null = null;
  private prefetching = false;
  private readonly blocksPerRun: number;
  private readonly lastBlock: number;

  constructor(
    private readonly fh: FileHandle,
    private readonly size: number,
    private readonly blksize: number,
    windowsize: number,
  ) {
    this.blocksPerRun = Math.max(2 * windowsize, Math.ceil(CHUNK_MIN_BYTES / blksize));
    this.lastBlock = Math.floor(size / blksize) + 1;
  }

  /** The packet of block `abs` if it is loaded, else null (call `load`). */
  packet(abs: number): Buffer | null {
    let c = this.cur;
    if (!c || !c.has(abs)) {
      const a = this.ahead;
      if (!a || !a.has(abs)) return null;
      this.cur = c = a;
      this.ahead = null;
    }
    // Past the middle of the current run: read the next one while the network works.
    if (!this.ahead && !this.prefetching && abs - c.first >= c.count / 2) this.prefetch(c.first + c.count);
    return c.packet(abs);
  }

  /** Load the run that starts at block `abs`. */
  async load(abs: number): Promise<void> {
    this.cur = await this.read(abs);
  }

  private prefetch(abs: number): void {
    if (abs > this.lastBlock) return;
    this.prefetching = true;
    this.read(abs).then(
      (c) => {
        this.prefetching = false;
        this.ahead = c;
      },
      () => {
        this.prefetching = false; // a later load() reports the error
      },
    );
  }

  private read(abs: number): Promise<PacketRun> {
    const count = Math.max(1, Math.min(this.blocksPerRun, this.lastBlock - abs + 1));
    return new PacketRun(abs, count, this.blksize, this.size).fill(this.fh);
  }
}
