/** A BlockSource over a file (the staged raw image), for the pure inspectors. */
import fsp from 'node:fs/promises';
import type { BlockSource } from './codec/block-source.ts';

/** Open `file` read-only; call `close` when done. */
export async function openFileSource(file: string): Promise<BlockSource & { close(): Promise<void> }> {
  const h = await fsp.open(file, 'r');
  const { size } = await h.stat();
  return {
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(n);
      let done = 0;
      while (done < n) {
        const { bytesRead } = await h.read(buf, done, n - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === n ? buf : buf.subarray(0, done);
    },
    close: () => h.close(),
  };
}
