/**
 * Streams a file's blocks with a bounded read-ahead: the current chunk plus
 * at most one prefetched chunk (each a few windows, >= 64 KiB), so a 1 GiB
 * file costs what a 1 MiB file costs. Chunks are fresh buffers, so blocks
 * still queued in a socket stay valid.
 */
/** What blocks are read from: an open file (fs FileHandle) or a rendered file in memory (memory-file.ts). */
export interface BlockReader {
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  close(): Promise<void>;
}

/** Read-ahead of at least this many bytes (page-cache friendly, 64 KiB). */
const CHUNK_MIN_BYTES = 64 * 1024;

interface Chunk {
  first: number;
  blocks: number;
  buf: Buffer;
}

/** Blocks of one open file, by absolute (non-wrapping) block number from 1. */
export class BlockSource {
  private cur: Chunk | null = null;
  private ahead: Chunk | null = null;
  private prefetching = false;
  private readonly blocksPerChunk: number;
  private readonly lastBlock: number;

  constructor(
    private readonly fh: BlockReader,
    private readonly size: number,
    private readonly blksize: number,
    windowsize: number,
  ) {
    this.blocksPerChunk = Math.max(2 * windowsize, Math.ceil(CHUNK_MIN_BYTES / blksize));
    this.lastBlock = Math.floor(size / blksize) + 1;
  }

  /** The payload of block `abs` if it is loaded, else null (call `load`). */
  get(abs: number): Buffer | null {
    let c = this.cur;
    if (!c || abs < c.first || abs >= c.first + c.blocks) {
      const a = this.ahead;
      if (!a || abs < a.first || abs >= a.first + a.blocks) return null;
      this.cur = c = a;
      this.ahead = null;
    }
    // Past the middle of the current chunk: read the next one while the network works.
    if (!this.ahead && !this.prefetching && abs - c.first >= c.blocks / 2) this.prefetch(c.first + c.blocks);
    const start = (abs - c.first) * this.blksize;
    return c.buf.subarray(start, Math.min(start + this.blksize, c.buf.length));
  }

  /** Load the chunk that starts at block `abs`; throws if the file shrank underneath us. */
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

  private async read(abs: number): Promise<Chunk> {
    const offset = (abs - 1) * this.blksize;
    const want = Math.max(0, Math.min(this.blocksPerChunk * this.blksize, this.size - offset));
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.fh.read(buf, got, want - got, offset + got);
      if (bytesRead === 0) throw new Error(`file shrank during the transfer (expected ${this.size} bytes)`);
      got += bytesRead;
    }
    // The final (short or empty) block belongs to the chunk that reaches the end of the file.
    const full = Math.floor(want / this.blksize);
    return { first: abs, blocks: offset + want >= this.size ? full + 1 : full, buf };
  }
}
