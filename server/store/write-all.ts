/** A synchronous append that never leaves a line half-written by us. */
import fs from 'node:fs';

/**
 * Write all of `text` to `fd` now. A string goes to write(2) without a Buffer of ours (Node encodes it on the
 * stack); a short write (a disk filling part-way) is finished from a Buffer, write(2) by write(2).
 */
export function writeAllSync(fd: number, text: string): void {
  const n = fs.writeSync(fd, text);
  if (n === text.length && n === Buffer.byteLength(text)) return;
  const buf = Buffer.from(text, 'utf8');
  for (let off = n; off < buf.length;) off += fs.writeSync(fd, buf, off, buf.length - off);
}
