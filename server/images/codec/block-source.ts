/**
 * Random access to an image's bytes, so the filesystem readers stay pure: they call `read` and never
 * open a file. `readExact` turns a short read (an image that ends early, a table pointing past the
 * end) into the codecs' one error type.
 */
import { MalformedPacket } from '../../net/malformed.ts';

/** Bytes addressable by offset (a file, a slice of one, or memory in tests). */
export interface BlockSource {
  /** Total bytes. */
  readonly size: number;
  /** Up to `length` bytes at `offset` (fewer only at the end). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Exactly `length` bytes at `offset`, or MalformedPacket naming `protocol`. */
export async function readExact(src: BlockSource, protocol: string, offset: number, length: number): Promise<Uint8Array> {
  if (offset < 0 || length < 0 || offset + length > src.size)
    throw new MalformedPacket(protocol, offset, `read of ${length} bytes at ${offset} passes the end (${src.size})`);
  const b = await src.read(offset, length);
  if (b.length !== length) throw new MalformedPacket(protocol, offset, `short read: ${b.length} of ${length} bytes`);
  return b;
}

/** A window of another source (a partition of a disk). */
export function sliceSource(src: BlockSource, start: number, size: number): BlockSource {
  const end = Math.min(src.size, start + size);
  return {
    size: Math.max(0, end - start),
    read: (offset, length) => src.read(start + offset, Math.max(0, Math.min(length, end - start - offset))),
  };
}

/** A source over bytes in memory (tests, small images). */
export function memorySource(b: Uint8Array): BlockSource {
  return { size: b.length, read: async (offset, length) => b.subarray(offset, Math.min(b.length, offset + length)) };
}
