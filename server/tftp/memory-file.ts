/**
 * A file the core rendered for one request (a GRUB configuration naming one node), served like a file on
 * disk: the transfer reads it through the same `BlockReader` (readv) an open file provides.
 */
import { createHash } from 'node:crypto';
import type { BlockReader } from './block-source.ts';

/** A read-only view of `data` with the FileHandle calls a transfer makes (readv, close). */
export function memoryFile(data: Uint8Array): BlockReader {
  return {
    async readv(buffers, position) {
      // Like readv(2): fill the views in order from `position`, stopping at the end of the data.
      let at = Math.max(0, position);
      let bytesRead = 0;
      for (const b of buffers) {
        if (at >= data.length) break;
        const view = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        const n = Math.min(view.length, data.length - at);
        view.set(data.subarray(at, at + n));
        at += n;
        bytesRead += n;
      }
      return { bytesRead };
    },
    async close() {},
  };
}

/** The cache key of rendered contents (file-cache.ts): same bytes, same key; never a disk file's key. */
export function memoryVersion(data: Uint8Array): string {
  return `mem:${createHash('sha256').update(data).digest('hex')}`;
}
