/**
 * Byte patches of a pinned loader file: at each offset the bytes must be exactly `from` (so a patch meets only the
 * build it was written for) and become `to`, of the same length. The registry uses them to change a setting that
 * Debian's iPXE build fixed at compile time (registry.ts, `IPXE_BANNER_PATCH`); the file's pin before and after
 * (`LoaderFile.fromPackage`, `LoaderFile.sha256`) bracket it. Pure: bytes in, bytes out.
 */
import { ccError } from '../../errors/cc-error.ts';

/** One change: `to` replaces `from` at `offset` (both lowercase hex, one length). */
export interface BytePatch {
  /** Offset in the file, in bytes. */
  readonly offset: number;
  /** The bytes the package's file holds there (hex). */
  readonly from: string;
  /** The bytes put there instead (hex, as long as `from`). */
  readonly to: string;
}

const HEX = /^(?:[0-9a-f]{2})+$/;

/**
 * A copy of `data` with every patch applied. Throws CC_ERR_LOADER_UNPACK (the pin names the wrong file) when a patch
 * is malformed, runs past the end, overlaps another, or finds other bytes than its `from`.
 */
export function applyPatches(data: Uint8Array, patches: readonly BytePatch[], what: string): Buffer {
  const out = Buffer.from(data);
  const taken: [number, number][] = [];
  for (const p of patches) {
    if (!HEX.test(p.from) || !HEX.test(p.to) || p.from.length !== p.to.length)
      throw ccError('CC_ERR_LOADER_UNPACK', `${what}: the patch at ${p.offset} is not two hex strings of one length`);
    const from = Buffer.from(p.from, 'hex');
    const end = p.offset + from.length;
    if (!Number.isSafeInteger(p.offset) || p.offset < 0 || end > out.length)
      throw ccError('CC_ERR_LOADER_UNPACK', `${what}: the patch at ${p.offset} runs past the end (${out.length} bytes)`);
    if (taken.some(([a, b]) => p.offset < b && a < end))
      throw ccError('CC_ERR_LOADER_UNPACK', `${what}: the patch at ${p.offset} overlaps another`);
    const found = out.subarray(p.offset, end);
    if (!found.equals(from))
      throw ccError('CC_ERR_LOADER_UNPACK', `${what}: at ${p.offset} the file holds ${found.toString('hex')}, the patch expects ${p.from}`);
    taken.push([p.offset, end]);
  }
  for (const p of patches) Buffer.from(p.to, 'hex').copy(out, p.offset);
  return out;
}
