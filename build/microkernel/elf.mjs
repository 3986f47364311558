// Minimal ELF64 reader: the DT_NEEDED list of a program or library (instead of ldd, which would run
// foreign binaries) and the .modinfo strings of a kernel module (instead of modinfo, absent on many hosts).

/** Is this buffer an ELF64 little-endian file? */
export function isElf(buf) {
  return buf.length > 64 && buf.readUInt32BE(0) === 0x7f454c46 && buf[4] === 2 && buf[5] === 1;
}

/** e_machine of an ELF file (62 x86-64, 183 AArch64). */
export function machine(buf) {
  return buf.readUInt16LE(0x12);
}

/** Section headers by name: { offset, size, type, link, addr } (addr: the load address, a bigint). */
export function sections(buf) {
  if (!isElf(buf)) throw new Error('not an ELF64 little-endian file');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const list = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    if (o + 64 > buf.length) throw new Error('section header table runs past the end of the file');
    list.push({
      nameOff: buf.readUInt32LE(o),
      type: buf.readUInt32LE(o + 4),
      addr: buf.readBigUInt64LE(o + 0x10),
      offset: Number(buf.readBigUInt64LE(o + 0x18)),
      size: Number(buf.readBigUInt64LE(o + 0x20)),
      link: buf.readUInt32LE(o + 0x28),
      index: i,
    });
  }
  const strtab = list[shstrndx];
  const byName = new Map();
  for (const s of list) {
    const start = strtab.offset + s.nameOff;
    const end = buf.indexOf(0, start);
    s.name = buf.toString('latin1', start, end);
    byName.set(s.name, s);
  }
  return { list, byName };
}

/** Program interpreter (PT_INTERP), e.g. /lib64/ld-linux-x86-64.so.2, or null for static files. */
export function interpreter(buf) {
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (buf.readUInt32LE(o) === 3) {
      const off = Number(buf.readBigUInt64LE(o + 8));
      const size = Number(buf.readBigUInt64LE(o + 0x20));
      return buf.toString('latin1', off, off + size).replace(/\0+$/, '');
    }
  }
  return null;
}

/** Shared libraries a file needs (DT_NEEDED, in order). */
export function needed(buf) {
  const { list, byName } = sections(buf);
  const dyn = byName.get('.dynamic');
  if (!dyn) return [];
  const str = list[dyn.link];
  const out = [];
  for (let o = dyn.offset; o + 16 <= dyn.offset + dyn.size; o += 16) {
    const tag = buf.readBigInt64LE(o);
    if (tag === 0n) break;
    if (tag === 1n) {
      const start = str.offset + Number(buf.readBigUInt64LE(o + 8));
      out.push(buf.toString('latin1', start, buf.indexOf(0, start)));
    }
  }
  return out;
}

/** key -> values[] from a kernel module's .modinfo section (depends, alias, firmware, ...). */
export function modinfo(buf) {
  const sec = sections(buf).byName.get('.modinfo');
  const info = new Map();
  if (!sec) return info;
  for (const entry of buf.toString('latin1', sec.offset, sec.offset + sec.size).split('\0')) {
    const i = entry.indexOf('=');
    if (i <= 0) continue;
    const k = entry.slice(0, i);
    if (!info.has(k)) info.set(k, []);
    info.get(k).push(entry.slice(i + 1));
  }
  return info;
}

/** Symbols of the static symbol table (.symtab; stripped files have none) whose names match `re`: { name, value, size }. */
export function symbolsMatching(buf, re) {
  const { list, byName } = sections(buf);
  const symtab = byName.get('.symtab');
  if (!symtab) return [];
  const strtab = list[symtab.link];
  const out = [];
  // Elf64_Sym: st_name u32, st_info u8, st_other u8, st_shndx u16, st_value u64, st_size u64 (24 bytes).
  for (let o = symtab.offset; o + 24 <= symtab.offset + symtab.size; o += 24) {
    const at = strtab.offset + buf.readUInt32LE(o);
    const name = buf.toString('latin1', at, buf.indexOf(0, at));
    if (re.test(name)) out.push({ name, value: Number(buf.readBigUInt64LE(o + 8)), size: Number(buf.readBigUInt64LE(o + 16)) });
  }
  return out;
}

/** File offset of virtual address `vma` in a loadable segment (PT_LOAD), or -1. */
export function fileOffsetOf(buf, vma) {
  const phoff = Number(buf.readBigUInt64LE(0x20));
  const phentsize = buf.readUInt16LE(0x36);
  const phnum = buf.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (buf.readUInt32LE(o) !== 1) continue;
    const offset = Number(buf.readBigUInt64LE(o + 8));
    const vaddr = Number(buf.readBigUInt64LE(o + 0x10));
    const filesz = Number(buf.readBigUInt64LE(o + 0x20));
    if (vma >= vaddr && vma < vaddr + filesz) return offset + (vma - vaddr);
  }
  return -1;
}
