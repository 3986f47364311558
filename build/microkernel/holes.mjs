// Files stored without their longest run of zeros. The kernel unpacks the initramfs by writing every byte of every
// file into memory, zeros included, and on a slow CPU that writing is on the boot's path: the node binary carries
// 28.7 MiB of zeros where icu-trim.mjs removed ICU data it cannot move (the blob's address is linked into the
// binary), a third of its size. The build stores such a file as its head (up to the run) and a tail file (after
// it), and rootfs/fill-holes puts it back at the start of init: `truncate` extends the head to the tail's offset,
// which on the tmpfs leaves a hole (it reads as zeros and takes no memory), then the tail is appended.
// docs/microkernel.md "Size and boot time". Pure: bytes in, parts out.

/** Runs shorter than this are left in place: the tail file and the line in /etc/crashcart/holes cost more. */
export const MIN_HOLE_BYTES = 1024 * 1024;
/** The cut points are multiples of this (a page of the tmpfs: the hole then covers whole pages). */
export const HOLE_ALIGN = 4096;

/**
 * The longest run of zero bytes in `bytes`, narrowed to `align` boundaries, if it is at least `minBytes` long
 * after narrowing: { head, tail, offset, size }, where head is bytes [0, start), tail bytes [offset, size), and
 * every byte in between is zero. Null when there is no such run.
 * @param {Uint8Array} bytes
 */
export function cutZeroRun(bytes, { minBytes = MIN_HOLE_BYTES, align = HOLE_ALIGN } = {}) {
  let bestFrom = 0;
  let bestTo = 0;
  let i = 0;
  while (i < bytes.length) {
    if (bytes[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < bytes.length && bytes[j] === 0) j++;
    if (j - i > bestTo - bestFrom) [bestFrom, bestTo] = [i, j];
    i = j;
  }
  const start = Math.ceil(bestFrom / align) * align;
  const offset = Math.floor(bestTo / align) * align;
  if (offset - start < minBytes) return null;
  return { head: bytes.subarray(0, start), tail: bytes.subarray(offset), offset, size: bytes.length };
}

/** One line of /etc/crashcart/holes, as rootfs/fill-holes reads it: `<size> <offset> <file> <tail file>`. */
export function holeLine({ size, offset }, file, tailFile) {
  for (const p of [file, tailFile]) if (!/^\/[A-Za-z0-9._/-]+$/.test(p)) throw new Error(`hole: ${p}: not a plain absolute path`);
  return `${size} ${offset} ${file} ${tailFile}`;
}
