/** Reads a newc cpio archive (the initramfs format) into path -> entry, to inspect a built image. */

/** One archive member. */
export interface CpioEntry {
  path: string;
  mode: number;
  mtime: number;
  ino: number;
  data: Buffer;
}

const S_IFMT = 0o170000;
/** File type bits. */
export const S_IFREG = 0o100000;
/** Symlink type bits. */
export const S_IFLNK = 0o120000;
/** Directory type bits. */
export const S_IFDIR = 0o040000;

/** Type bits of a mode. */
export const fileType = (mode: number) => mode & S_IFMT;

/** Parse every member up to TRAILER!!!; throws on a malformed header (offset in the message). */
export function readCpio(buf: Buffer): Map<string, CpioEntry> {
  const out = new Map<string, CpioEntry>();
  let o = 0;
  const field = (i: number) => parseInt(buf.toString('latin1', o + 6 + i * 8, o + 14 + i * 8), 16);
  while (o + 110 <= buf.length) {
    if (buf.toString('latin1', o, o + 6) !== '070701') throw new Error(`cpio: bad magic at offset ${o}`);
    const ino = field(0);
    const mode = field(1);
    const mtime = field(5);
    const size = field(6);
    const nameSize = field(11);
    const name = buf.toString('utf8', o + 110, o + 110 + nameSize - 1);
    const dataStart = o + 110 + nameSize + ((4 - ((110 + nameSize) % 4)) % 4);
    if (dataStart + size > buf.length) throw new Error(`cpio: member ${name} runs past the end (offset ${o})`);
    if (name === 'TRAILER!!!') break;
    out.set(name, { path: name, mode, mtime, ino, data: buf.subarray(dataStart, dataStart + size) });
    o = dataStart + size + ((4 - (size % 4)) % 4);
  }
  return out;
}
