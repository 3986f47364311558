/**
 * The overwrite pass: zeros over every byte of a disk, in large writes, then a flush, so an erase the
 * agent reports as done is on the medium (a volatile write cache would otherwise hold the tail).
 */
import fs from 'node:fs';

/** Bytes per write: large enough to stream, small enough to report progress often. */
export const OVERWRITE_CHUNK = 4 * 1024 * 1024;

/** Write `size` zero bytes from offset 0 and fsync; `onProgress` gets the bytes written so far. */
export async function overwriteZeros(diskPath: string, size: number, onProgress: (n: number) => void): Promise<void> {
  // O_EXCL on a block device refuses one that is mounted or held by the kernel (open(2)).
  const fh = await fs.promises.open(diskPath, fs.constants.O_WRONLY | fs.constants.O_EXCL);
  try {
    const zeros = Buffer.alloc(OVERWRITE_CHUNK);
    let done = 0;
    while (done < size) {
      const n = Math.min(OVERWRITE_CHUNK, size - done);
      const { bytesWritten } = await fh.write(zeros, 0, n, done);
      if (bytesWritten <= 0) throw new Error(`write at byte ${done} wrote nothing (end of device?)`);
      done += bytesWritten;
      onProgress(done);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
}
