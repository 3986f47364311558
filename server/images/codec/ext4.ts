/**
 * Read-only ext2/3/4 path lookup and small-file reads, enough to look inside a root filesystem
 * (os-release, /etc/cloud) without mounting it. Layout from the Linux kernel's "ext4 Data
 * Structures and Algorithms" (Documentation/filesystems/ext4: superblock 2.1, block group
 * descriptors 3.4, inodes 4.1, extent tree 4.2.2, block maps 4.2.1, linear directories 4.3.1; hash
 * tree directories stay readable linearly, 4.3.2). Pure over a BlockSource, every count bounded.
 * Not supported (reported as MalformedPacket, so the caller says "could not look inside"):
 * meta_bg group descriptors, compression, inline-data files.
 */
import { MalformedPacket } from '../../net/malformed.ts';
import { readExact, type BlockSource } from './block-source.ts';
import { decodeGuid } from './guid.ts';

/** Superblock magic (s_magic). */
export const EXT4_MAGIC = 0xef53;
/** An inode as far as lookups need it. */
export interface Ext4Inode {
  ino: number;
  mode: number;
  size: number;
  flags: number;
  /** The 60-byte i_block area: extent tree root, block map, or a fast symlink's target. */
  block: Uint8Array;
}
/** One directory entry. */
export interface Ext4DirEntry {
  name: string;
  ino: number;
}
/** An opened filesystem. */
export interface Ext4Volume {
  uuid: string;
  label: string;
  blockSize: number;
  /** Resolve an absolute path, following symlinks (16 at most); null when absent. */
  lookup(path: string): Promise<Ext4Inode | null>;
  /** Up to `max` bytes of a regular file. */
  readFile(inode: Ext4Inode, max: number): Promise<Uint8Array>;
  /** Entries of a directory (without . and ..). */
  readDir(inode: Ext4Inode): Promise<Ext4DirEntry[]>;
}

const PROTO = 'ext4';
const S_IFMT = 0xf000;
/** File type bits of i_mode. */
export const S_IFDIR = 0x4000;
/** Regular file. */
export const S_IFREG = 0x8000;
/** Symbolic link. */
export const S_IFLNK = 0xa000;
const EXTENTS_FL = 0x80000;
const INLINE_DATA_FL = 0x10000000;
const INCOMPAT_COMPRESSION = 0x1;
const INCOMPAT_FILETYPE = 0x2;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_64BIT = 0x80;
const MAX_DIR_BYTES = 8 * 1024 * 1024;
const MAX_SYMLINKS = 16;

/** Open the ext2/3/4 filesystem in `src` (a partition). */
export async function openExt4(src: BlockSource): Promise<Ext4Volume> {
  const sb = await readExact(src, PROTO, 1024, 1024);
  const v = new DataView(sb.buffer, sb.byteOffset, 1024);
  if (v.getUint16(0x38, true) !== EXT4_MAGIC) throw new MalformedPacket(PROTO, 1024 + 0x38, 'no ext2/3/4 superblock magic');
  const logBs = v.getUint32(0x18, true);
  if (logBs > 6) throw new MalformedPacket(PROTO, 1024 + 0x18, `block size 2^${10 + logBs}`);
  const bs = 1024 << logBs;
  const incompat = v.getUint32(0x60, true);
  if (incompat & (INCOMPAT_COMPRESSION | INCOMPAT_META_BG))
    throw new MalformedPacket(PROTO, 1024 + 0x60, `unsupported features 0x${incompat.toString(16)}`);
  const inodesCount = v.getUint32(0x0, true);
  const inodesPerGroup = v.getUint32(0x28, true);
  const firstDataBlock = v.getUint32(0x14, true);
  const inodeSize = v.getUint32(0x4c, true) >= 1 ? v.getUint16(0x58, true) : 128;
  const descSize = incompat & INCOMPAT_64BIT ? v.getUint16(0xfe, true) : 32;
  if (inodesPerGroup === 0 || inodeSize < 128 || inodeSize > bs || (inodeSize & (inodeSize - 1)) !== 0)
    throw new MalformedPacket(PROTO, 1024 + 0x58, `inode size ${inodeSize} / ${inodesPerGroup} per group`);
  if (descSize < 32 || descSize > 1024 || (descSize & (descSize - 1)) !== 0)
    throw new MalformedPacket(PROTO, 1024 + 0xfe, `descriptor size ${descSize}`);
  const filetype = (incompat & INCOMPAT_FILETYPE) !== 0;
  const uuid = decodeGuidBigEndian(sb.subarray(0x68, 0x78));
  const label = new TextDecoder().decode(sb.subarray(0x78, 0x88)).replace(/\0.*$/s, '');
  const gdtAt = (firstDataBlock + 1) * bs;

  async function inode(ino: number): Promise<Ext4Inode> {
    if (ino < 1 || ino > inodesCount) throw new MalformedPacket(PROTO, 0, `inode ${ino} outside 1..${inodesCount}`);
    const group = Math.floor((ino - 1) / inodesPerGroup);
    const d = await readExact(src, PROTO, gdtAt + group * descSize, descSize);
    const dv = new DataView(d.buffer, d.byteOffset, descSize);
    const table = dv.getUint32(0x8, true) + (descSize >= 64 ? dv.getUint32(0x28, true) * 2 ** 32 : 0);
    const at = table * bs + ((ino - 1) % inodesPerGroup) * inodeSize;
    const raw = await readExact(src, PROTO, at, 160 <= inodeSize ? 160 : 128);
    const iv = new DataView(raw.buffer, raw.byteOffset, raw.length);
    return {
      ino,
      mode: iv.getUint16(0, true),
      size: iv.getUint32(4, true) + iv.getUint32(0x6c, true) * 2 ** 32,
      flags: iv.getUint32(0x20, true),
      block: raw.slice(0x28, 0x28 + 60),
    };
  }

  /** Physical block runs [logical, length, physical (0 = hole)] of an inode, up to logical block `upto`. */
  async function runs(ino: Ext4Inode, upto: number): Promise<[number, number, number][]> {
    if (ino.flags & INLINE_DATA_FL) throw new MalformedPacket(PROTO, 0, `inode ${ino.ino} keeps its data inline (unsupported)`);
    const out: [number, number, number][] = [];
    if (ino.flags & EXTENTS_FL) {
      await walkExtents(ino.block, 0, out, upto);
      return out;
    }
    // Block map (ext2/3): 12 direct pointers, then single and double indirect blocks.
    const ptrs = new DataView(ino.block.buffer, ino.block.byteOffset, 60);
    for (let i = 0; i < 12 && i < upto; i++) out.push([i, 1, ptrs.getUint32(i * 4, true)]);
    const per = bs / 4;
    const indirect = async (blk: number, base: number, level: number): Promise<void> => {
      if (blk === 0 || base >= upto) return;
      const b = await readExact(src, PROTO, blk * bs, bs);
      const bv = new DataView(b.buffer, b.byteOffset, bs);
      const span = level === 1 ? 1 : per;
      for (let i = 0; i < per && base + i * span < upto; i++) {
        const p = bv.getUint32(i * 4, true);
        if (level === 1) out.push([base + i, 1, p]);
        else await indirect(p, base + i * per, level - 1);
      }
    };
    await indirect(ptrs.getUint32(48, true), 12, 1);
    await indirect(ptrs.getUint32(52, true), 12 + per, 2);
    return out;
  }

  async function walkExtents(node: Uint8Array, depth: number, out: [number, number, number][], upto: number): Promise<void> {
    if (depth > 5) throw new MalformedPacket(PROTO, 0, 'extent tree deeper than 5');
    const nv = new DataView(node.buffer, node.byteOffset, node.length);
    if (nv.getUint16(0, true) !== 0xf30a) throw new MalformedPacket(PROTO, 0, 'bad extent header magic');
    const entries = nv.getUint16(2, true);
    const level = nv.getUint16(6, true);
    if (12 + entries * 12 > node.length) throw new MalformedPacket(PROTO, 2, `${entries} extents overflow the node`);
    for (let i = 0; i < entries; i++) {
      const o = 12 + i * 12;
      const lblk = nv.getUint32(o, true);
      if (lblk >= upto) break;
      if (level === 0) {
        let len = nv.getUint16(o + 4, true);
        const uninit = len > 32768;
        if (uninit) len -= 32768; // ext4 4.2.3: an unwritten extent reads as zeros
        const pblk = nv.getUint16(o + 6, true) * 2 ** 32 + nv.getUint32(o + 8, true);
        out.push([lblk, len, uninit ? 0 : pblk]);
      } else {
        const child = nv.getUint32(o + 4, true) + nv.getUint16(o + 8, true) * 2 ** 32;
        await walkExtents(await readExact(src, PROTO, child * bs, bs), depth + 1, out, upto);
      }
    }
  }

  async function readFile(ino: Ext4Inode, max: number): Promise<Uint8Array> {
    const size = Math.min(ino.size, max);
    const out = new Uint8Array(size);
    const nblocks = Math.ceil(size / bs);
    for (const [l, len, p] of await runs(ino, nblocks)) {
      if (p === 0) continue;
      const n = Math.min(len, nblocks - l);
      if (n <= 0) continue;
      const bytes = Math.min(n * bs, size - l * bs);
      out.set(await readExact(src, PROTO, p * bs, bytes), l * bs);
    }
    return out;
  }

  async function readDir(dir: Ext4Inode): Promise<Ext4DirEntry[]> {
    if ((dir.mode & S_IFMT) !== S_IFDIR) throw new MalformedPacket(PROTO, 0, `inode ${dir.ino} is not a directory`);
    if (dir.size > MAX_DIR_BYTES) throw new MalformedPacket(PROTO, 0, `directory ${dir.ino} is ${dir.size} bytes`);
    const raw = await readFile(dir, dir.size);
    const out: Ext4DirEntry[] = [];
    for (let blk = 0; blk < raw.length; blk += bs) {
      let o = blk;
      while (o + 8 <= blk + bs && o + 8 <= raw.length) {
        const dv = new DataView(raw.buffer, raw.byteOffset + o, 8);
        const ino = dv.getUint32(0, true);
        let recLen = dv.getUint16(4, true);
        if (bs === 65536 && (recLen === 0 || recLen === 65535)) recLen = 65536;
        const nameLen = filetype ? raw[o + 6]! : dv.getUint16(6, true);
        if (recLen < 8 || recLen % 4 !== 0 || o + recLen > blk + bs || 8 + nameLen > recLen)
          throw new MalformedPacket(PROTO, o, `directory ${dir.ino}: bad record length ${recLen}`);
        if (ino !== 0) {
          const name = new TextDecoder().decode(raw.subarray(o + 8, o + 8 + nameLen));
          if (name !== '.' && name !== '..') out.push({ name, ino });
        }
        o += recLen;
      }
    }
    return out;
  }

  async function lookup(path: string): Promise<Ext4Inode | null> {
    let todo = path.split('/').filter(Boolean);
    let stack: Ext4Inode[] = [await inode(2)];
    let links = 0;
    while (todo.length) {
      if (todo.length > 256) throw new MalformedPacket(PROTO, 0, 'path too deep');
      const name = todo.shift()!;
      const cur = stack[stack.length - 1]!;
      if (name === '.') continue;
      if (name === '..') {
        if (stack.length > 1) stack.pop();
        continue;
      }
      if ((cur.mode & S_IFMT) !== S_IFDIR) return null;
      const hit = (await readDir(cur)).find((e) => e.name === name);
      if (!hit) return null;
      const next = await inode(hit.ino);
      if ((next.mode & S_IFMT) === S_IFLNK) {
        if (++links > MAX_SYMLINKS) throw new MalformedPacket(PROTO, 0, `more than ${MAX_SYMLINKS} symlinks in ${path}`);
        const fast = next.size < 60 && !(next.flags & (EXTENTS_FL | INLINE_DATA_FL));
        const target = new TextDecoder().decode(fast ? next.block.subarray(0, next.size) : await readFile(next, 4096));
        if (target.startsWith('/')) stack = [stack[0]!];
        todo = [...target.split('/').filter(Boolean), ...todo];
        continue;
      }
      stack.push(next);
    }
    return stack[stack.length - 1]!;
  }

  return { uuid, label, blockSize: bs, lookup, readFile, readDir };
}

/** ext4 stores s_uuid as 16 bytes in RFC 4122 (big-endian) order, unlike GPT. */
function decodeGuidBigEndian(b: Uint8Array): string {
  const swapped = Uint8Array.of(b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8, 16));
  return decodeGuid(swapped, 0);
}
