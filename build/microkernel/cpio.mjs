// Deterministic "newc" cpio writer (the format the kernel unpacks as initramfs, see the kernel's
// Documentation/driver-api/early-userspace/buffer-format.rst): entries sorted by path, inode numbers in
// that order, uid/gid 0 and one fixed mtime, so the same tree always gives the same bytes.

/** One archive entry: a directory, a regular file, a symlink or a character device. */
// { path, type: 'dir'|'file'|'symlink'|'char', mode, data?: Buffer, target?: string, rdev?: [major, minor] }

const TYPE_BITS = { dir: 0o040000, file: 0o100000, symlink: 0o120000, char: 0o020000 };

function hex8(n) {
  return n.toString(16).padStart(8, '0');
}

function pad4(n) {
  return (4 - (n % 4)) % 4;
}

/** Serialise entries into one cpio buffer; `mtime` is seconds since the epoch (SOURCE_DATE_EPOCH). */
export function writeCpio(entries, mtime) {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const chunks = [];
  let ino = 1;
  const push = (name, mode, body, rdev, nlink) => {
    const nameBuf = Buffer.from(name + '\0', 'utf8');
    const header = '070701' + [ino++, mode, 0, 0, nlink, mtime, body.length, 0, 0, rdev[0], rdev[1], nameBuf.length, 0].map(hex8).join('');
    chunks.push(Buffer.from(header, 'latin1'), nameBuf, Buffer.alloc(pad4(110 + nameBuf.length)));
    chunks.push(body, Buffer.alloc(pad4(body.length)));
  };
  for (const e of sorted) {
    const bits = TYPE_BITS[e.type];
    if (bits === undefined) throw new Error(`cpio: unknown entry type ${e.type} for ${e.path}`);
    const body = e.type === 'file' ? e.data : e.type === 'symlink' ? Buffer.from(e.target, 'utf8') : Buffer.alloc(0);
    push(e.path, bits | (e.mode & 0o7777), body, e.rdev ?? [0, 0], e.type === 'dir' ? 2 : 1);
  }
  ino = 0;
  push('TRAILER!!!', 0, Buffer.alloc(0), [0, 0], 1);
  const out = Buffer.concat(chunks);
  // The kernel reads the archive in 512-byte blocks like cpio(1) writes it.
  return Buffer.concat([out, Buffer.alloc(pad512(out.length))]);
}

function pad512(n) {
  return (512 - (n % 512)) % 512;
}
