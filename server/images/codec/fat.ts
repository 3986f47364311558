/**
 * Read-only FAT12/16/32 directory walk, enough to answer "does this EFI system partition hold
 * EFI/BOOT/BOOTX64.EFI" without mounting it. Field offsets and the FAT-type rule (cluster count
 * < 4085 FAT12, < 65525 FAT16, else FAT32) are from Microsoft's FAT specification ("FAT: General
 * Overview of On-Disk Format", sections 3, 4 and 6); UEFI 2.10 13.3 says an ESP uses it.
 * Pure over a BlockSource; every chain and directory walk is bounded by the volume's size.
 */
import { MalformedPacket } from '../../net/malformed.ts';
import { readExact, type BlockSource } from './block-source.ts';

/** One directory entry (the short 8.3 name, and the long name when the entry has one). */
export interface FatDirEntry {
  /** Long file name if present, else the short name as NAME.EXT. */
  name: string;
  /** The 8.3 name as NAME.EXT, upper case. */
  shortName: string;
  isDir: boolean;
  size: number;
  firstCluster: number;
}

/** An opened FAT volume. */
export interface FatVolume {
  type: 'fat12' | 'fat16' | 'fat32';
  label: string;
  /** Entries of a directory (the root when `dir` is null). */
  readDir(dir: FatDirEntry | null): Promise<FatDirEntry[]>;
  /** Find a path like `EFI/BOOT/BOOTX64.EFI`, case-insensitive on long or short names. */
  lookup(path: string): Promise<FatDirEntry | null>;
}

const PROTO = 'fat';
/** Our bound on a directory's size (a hostile chain could be the whole volume): 64 Ki entries. */
const MAX_DIR_BYTES = 2 * 1024 * 1024;

/** Open the FAT volume in `src` (a partition). Throws MalformedPacket when it is not one. */
export async function openFat(src: BlockSource): Promise<FatVolume> {
  const bs = await readExact(src, PROTO, 0, 512);
  const v = new DataView(bs.buffer, bs.byteOffset, 512);
  if (bs[510] !== 0x55 || bs[511] !== 0xaa) throw new MalformedPacket(PROTO, 510, 'no 0x55AA boot sector signature');
  const bytsPerSec = v.getUint16(11, true);
  const secPerClus = bs[13]!;
  const rsvd = v.getUint16(14, true);
  const numFats = bs[16]!;
  const rootEntCnt = v.getUint16(17, true);
  const totSec = v.getUint16(19, true) || v.getUint32(32, true);
  const fatSz = v.getUint16(22, true) || v.getUint32(36, true);
  if (![512, 1024, 2048, 4096].includes(bytsPerSec)) throw new MalformedPacket(PROTO, 11, `bytes per sector ${bytsPerSec}`);
  if (secPerClus === 0 || (secPerClus & (secPerClus - 1)) !== 0) throw new MalformedPacket(PROTO, 13, `sectors per cluster ${secPerClus}`);
  if (rsvd === 0 || numFats === 0 || fatSz === 0) throw new MalformedPacket(PROTO, 14, 'no reserved sectors or FATs');
  const rootDirSectors = Math.ceil((rootEntCnt * 32) / bytsPerSec);
  const firstData = rsvd + numFats * fatSz + rootDirSectors;
  if (totSec <= firstData || totSec * bytsPerSec > src.size)
    throw new MalformedPacket(PROTO, 19, `${totSec} sectors do not fit the ${src.size}-byte partition`);
  const clusters = Math.floor((totSec - firstData) / secPerClus);
  // FAT spec section 3.5: the type follows from the cluster count alone.
  const type = clusters < 4085 ? 'fat12' : clusters < 65525 ? 'fat16' : 'fat32';
  const clusterBytes = secPerClus * bytsPerSec;
  const fatAt = rsvd * bytsPerSec;
  const rootCluster = type === 'fat32' ? v.getUint32(44, true) : 0;
  const labelAt = type === 'fat32' ? 71 : 43;
  const label = new TextDecoder('latin1').decode(bs.subarray(labelAt, labelAt + 11)).trimEnd();
  const eoc = type === 'fat12' ? 0xff8 : type === 'fat16' ? 0xfff8 : 0x0ffffff8;

  async function next(cluster: number): Promise<number> {
    if (type === 'fat12') {
      const o = fatAt + cluster + (cluster >> 1);
      const b = await readExact(src, PROTO, o, 2);
      const w = b[0]! | (b[1]! << 8);
      return cluster & 1 ? w >> 4 : w & 0xfff;
    }
    const width = type === 'fat16' ? 2 : 4;
    const b = await readExact(src, PROTO, fatAt + cluster * width, width);
    const dv = new DataView(b.buffer, b.byteOffset, width);
    return type === 'fat16' ? dv.getUint16(0, true) : dv.getUint32(0, true) & 0x0fffffff;
  }

  /** Bytes of a cluster chain, bounded by the cluster count (a loop ends there) and `limit`. */
  async function chain(first: number, limit: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    let c = first;
    for (let hops = 0; c >= 2 && c < eoc && hops <= clusters && total < limit; hops++) {
      if (c > clusters + 1) throw new MalformedPacket(PROTO, fatAt, `cluster ${c} beyond the volume`);
      parts.push(await readExact(src, PROTO, (firstData + (c - 2) * secPerClus) * bytsPerSec, clusterBytes));
      total += clusterBytes;
      c = await next(c);
    }
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  async function readDir(dir: FatDirEntry | null): Promise<FatDirEntry[]> {
    const raw =
      dir === null && type !== 'fat32'
        ? await readExact(src, PROTO, (rsvd + numFats * fatSz) * bytsPerSec, rootEntCnt * 32)
        : await chain(dir === null ? rootCluster : dir.firstCluster, MAX_DIR_BYTES);
    return parseDir(raw);
  }

  async function lookup(path: string): Promise<FatDirEntry | null> {
    let dir: FatDirEntry | null = null;
    const parts = path.split('/').filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const want = parts[i]!.toUpperCase();
      const found: FatDirEntry | undefined = (await readDir(dir)).find((e) => e.name.toUpperCase() === want || e.shortName === want);
      if (!found || (i < parts.length - 1 && !found.isDir)) return null;
      dir = found;
    }
    return dir;
  }

  return { type, label, readDir, lookup };
}

/** Parse 32-byte directory entries, joining VFAT long-name entries (attribute 0x0F) to the short entry they precede. */
export function parseDir(raw: Uint8Array): FatDirEntry[] {
  const out: FatDirEntry[] = [];
  let lfn: string[] = [];
  for (let o = 0; o + 32 <= raw.length; o += 32) {
    const first = raw[o]!;
    if (first === 0x00) break; // FAT spec 6.1: no entries follow
    const attr = raw[o + 11]!;
    if (first === 0xe5) {
      lfn = [];
      continue; // deleted
    }
    if ((attr & 0x3f) === 0x0f) {
      const units: number[] = [];
      for (const [a, n] of [
        [1, 5],
        [14, 6],
        [28, 2],
      ] as const)
        for (let k = 0; k < n; k++) units.push(raw[o + a + 2 * k]! | (raw[o + a + 2 * k + 1]! << 8));
      const end = units.findIndex((u) => u === 0 || u === 0xffff);
      const part = String.fromCharCode(...(end < 0 ? units : units.slice(0, end)));
      // Long-name pieces come last piece first (ordinal 0x40 marks the last).
      lfn = first & 0x40 ? [part] : [part, ...lfn];
      continue;
    }
    if (attr & 0x08) {
      lfn = [];
      continue; // volume label
    }
    const base = new TextDecoder('latin1').decode(raw.subarray(o, o + 8)).trimEnd();
    const ext = new TextDecoder('latin1').decode(raw.subarray(o + 8, o + 11)).trimEnd();
    const b0 = first === 0x05 ? '\u00e5' + base.slice(1) : base;
    const shortName = b0 + (ext ? `.${ext}` : '');
    // Windows NT and mtools keep an all-lower-case 8.3 name as upper case plus case flags in byte 12
    // (0x08: base lower case, 0x10: extension lower case) instead of a long-name entry.
    const nt = raw[o + 12]!;
    const shown = (nt & 0x08 ? b0.toLowerCase() : b0) + (ext ? `.${nt & 0x10 ? ext.toLowerCase() : ext}` : '');
    const v = new DataView(raw.buffer, raw.byteOffset + o, 32);
    const entry: FatDirEntry = {
      name: lfn.length ? lfn.join('') : shown,
      shortName,
      isDir: (attr & 0x10) !== 0,
      size: v.getUint32(28, true),
      firstCluster: v.getUint16(20, true) * 65536 + v.getUint16(26, true),
    };
    lfn = [];
    if (shortName !== '.' && shortName !== '..') out.push(entry);
  }
  return out;
}
