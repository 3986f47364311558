/**
 * Small files (first-stage loaders) laid out as DATA packets once per file
 * version and blksize, shared by every transfer: a rack that powers on
 * together asks for the same undionly.kpxe a hundred times, and each transfer
 * then sends views of one buffer, with no read (thread-pool trip) and no copy
 * per block. Keyed by the opened file's device, inode, size and change times,
 * so a replaced file is read afresh; bounded in bytes, least recently used out.
 */
import type { FileHandle } from 'node:fs/promises';
import { PacketRun } from './packet-run.ts';

/** Files up to this size are cached: loaders are 0.1-2 MB; OS images go over HTTP. */
export const CACHE_FILE_MAX_BYTES = 8 * 1024 * 1024;
/** All cached runs together: a few loaders at a few blksizes. */
export const CACHE_TOTAL_MAX_BYTES = 64 * 1024 * 1024;

/** The cache of one TFTP server. */
export class FileCache {
  private readonly runs = new Map<string, PacketRun>();
  private readonly loading = new Map<string, Promise<PacketRun>>();
  private bytes = 0;
  /** Loads from disk, and transfers served from memory (for stats and tests). */
  loads = 0;
  hits = 0;

  constructor(
    private readonly fileMax = CACHE_FILE_MAX_BYTES,
    private readonly totalMax = CACHE_TOTAL_MAX_BYTES,
  ) {}

  /** True when a file of `size` bytes is cached rather than streamed. */
  fits(size: number): boolean {
    return size <= this.fileMax;
  }

  /** The whole file `version` as packets of `blksize`, read from `fh` on the first request. */
  async get(version: string, fh: FileHandle, size: number, blksize: number): Promise<PacketRun> {
    const key = `${version}|${blksize}`;
    const hit = this.runs.get(key);
    if (hit) {
      this.runs.delete(key); // most recently used goes last
      this.runs.set(key, hit);
      this.hits++;
      return hit;
    }
    let p = this.loading.get(key);
    if (!p) {
      this.loads++;
      p = new PacketRun(1, Math.floor(size / blksize) + 1, blksize, size).fill(fh);
      this.loading.set(key, p);
      p.then(
        (run) => {
          this.loading.delete(key);
          this.add(key, run);
        },
        () => this.loading.delete(key),
      );
    } else this.hits++;
    return p;
  }

  private add(key: string, run: PacketRun): void {
    this.runs.set(key, run);
    this.bytes += run.payloadBytes;
    for (const [k, r] of this.runs) {
      if (this.bytes <= this.totalMax || k === key) break;
      this.runs.delete(k);
      this.bytes -= r.payloadBytes;
    }
  }

  /** Cached bytes. */
  get size(): number {
    return this.bytes;
  }
}
