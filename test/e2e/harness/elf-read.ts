/** Just enough of ELF64 (little-endian) to check a built image: the CPU a file is for and the libraries it needs. */

/** e_machine (62 x86-64, 183 AArch64), or -1 when `b` is not an ELF file. */
export function elfMachine(b: Buffer): number {
  return b.length >= 20 && b.readUInt32BE(0) === 0x7f454c46 ? b.readUInt16LE(0x12) : -1;
}

/** DT_NEEDED entries of an ELF64 file, read through its section headers ([] when it has no .dynamic). */
export function neededLibraries(b: Buffer): string[] {
  if (elfMachine(b) < 0) return [];
  const shoff = Number(b.readBigUInt64LE(0x28));
  const shnum = b.readUInt16LE(0x3c);
  const sec = (i: number) => ({
    type: b.readUInt32LE(shoff + i * 64 + 4),
    off: Number(b.readBigUInt64LE(shoff + i * 64 + 0x18)),
    size: Number(b.readBigUInt64LE(shoff + i * 64 + 0x20)),
    link: b.readUInt32LE(shoff + i * 64 + 0x28),
  });
  const out: string[] = [];
  for (let i = 0; i < shnum; i++) {
    const s = sec(i);
    if (s.type !== 6) continue; // SHT_DYNAMIC
    const str = sec(s.link);
    for (let o = s.off; o + 16 <= s.off + s.size; o += 16) {
      const tag = b.readBigInt64LE(o);
      if (tag === 0n) break;
      if (tag === 1n) {
        const at = str.off + Number(b.readBigUInt64LE(o + 8));
        out.push(b.toString('latin1', at, b.indexOf(0, at)));
      }
    }
  }
  return out;
}
