/**
 * A file the core rendered for one request (a GRUB configuration naming one node), served like a file on
 * disk: the transfer reads it block by block through the same `BlockReader` an open file provides.
 */
import type { BlockReader } from './block-source.ts';

/** A read-only view of `data` with the FileHandle calls a transfer makes. */
export function memoryFile(data: Uint8Array): BlockReader {
  return {
    async read(buffer, offset, length, position) {
      const n = Math.max(0, Math.min(length, data.length - position));
      buffer.set(data.subarray(position, position + n), offset);
      return { bytesRead: n };
    },
    async close() {},
  };
}
