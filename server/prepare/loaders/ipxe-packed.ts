/**
 * iPXE's compressed x86 BIOS images (`undionly.kpxe`): an uncompressed prefix, then the rest of iPXE as one raw
 * LZMA1 stream, laid out as
 *
 *   [prefix .. lengthAt) [length: u32 LE = stream bytes + 4] [stream] [check: u32 LE]
 *
 * where `check` is the bitwise complement of the CRC-32 (IEEE) of the stream, so that iPXE's unpacker, running the
 * CRC over the stream and the check together, ends at zero; it refuses the image otherwise ("Installation failed").
 * The prefix also holds the whole image's size in 16-byte paragraphs (`paragraphsAt`, u16 LE), which it copies before
 * unpacking. The file ends with the check. Unpacking and repacking lets the registry change one setting inside
 * (registry.ts, the BIOS prompt); every field is checked on the way in, so a layout meets only the build it was
 * measured on. Pure: bytes in, bytes out. Errors are CC_ERR_LOADER_UNPACK (the layout or pin names the wrong file).
 */
import { crc32 } from '../../images/codec/crc32.ts';
import { ccError } from '../../errors/cc-error.ts';
import { lzmaDecode } from './lzma-decode.ts';
import { lzmaEncode } from './lzma-encode.ts';
import type { LzmaProps } from './lzma-model.ts';

/** Where a build keeps its stream and sizes (found by reading the file; see docs/boot.md). */
export interface PackedLayout {
  /** Offset of the u32 length field; the stream starts 4 bytes later. */
  readonly lengthAt: number;
  /** Offset of the u16 image size in 16-byte paragraphs, inside the prefix. */
  readonly paragraphsAt: number;
  /** Bytes the stream unpacks to. */
  readonly payloadBytes: number;
}

/** iPXE's unpacker (unlzma) is written for these three parameters only. */
export const IPXE_LZMA: LzmaProps = Object.freeze({ lc: 2, lp: 0, pb: 0 });

const PARAGRAPH = 16;

const checkOf = (stream: Uint8Array): number => (crc32(stream) ^ 0xffffffff) >>> 0;

/** The payload of a packed image, after every field of `layout` was found consistent with the file. */
export function unpackImage(file: Uint8Array, layout: PackedLayout, what: string): Buffer {
  const fail = (why: string) => ccError('CC_ERR_LOADER_UNPACK', `${what}: ${why}`);
  const b = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const start = layout.lengthAt + 4;
  if (layout.paragraphsAt + 2 > layout.lengthAt || start + 8 > b.length) throw fail(`the layout does not fit a file of ${b.length} bytes`);
  const length = b.readUInt32LE(layout.lengthAt);
  if (start + length !== b.length)
    throw fail(`the stream's length field says ${length} bytes, the file holds ${b.length - start} after it`);
  const paragraphs = b.readUInt16LE(layout.paragraphsAt);
  if (paragraphs !== Math.ceil(b.length / PARAGRAPH))
    throw fail(`the prefix's image size is ${paragraphs} paragraphs, the file is ${b.length} bytes`);
  const stream = b.subarray(start, b.length - 4);
  if (checkOf(stream) !== b.readUInt32LE(b.length - 4)) throw fail('the stream does not match its CRC-32 check');
  let out;
  try {
    out = lzmaDecode(stream, IPXE_LZMA, layout.payloadBytes + 1);
  } catch (e) {
    throw fail(`the stream does not unpack (${(e as Error).message})`);
  }
  if (!out.endMarker || out.data.length !== layout.payloadBytes)
    throw fail(`the stream unpacks to ${out.data.length}${out.endMarker ? '' : ' or more'} bytes, the layout says ${layout.payloadBytes}`);
  return Buffer.from(out.data);
}

/** `file` with its stream replaced by `payload` packed again, and the length, size and check fields to match. */
export function repackImage(file: Uint8Array, layout: PackedLayout, payload: Uint8Array): Buffer {
  const stream = lzmaEncode(payload, IPXE_LZMA);
  const start = layout.lengthAt + 4;
  const out = Buffer.alloc(start + stream.length + 4);
  out.set(file.subarray(0, layout.lengthAt));
  out.writeUInt32LE(stream.length + 4, layout.lengthAt);
  stream.copy(out, start);
  out.writeUInt32LE(checkOf(stream), start + stream.length);
  const paragraphs = Math.ceil(out.length / PARAGRAPH);
  if (paragraphs > 0xffff) throw new RangeError(`a packed image of ${out.length} bytes does not fit the prefix's 16-bit size`);
  out.writeUInt16LE(paragraphs, layout.paragraphsAt);
  return out;
}
