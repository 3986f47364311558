/**
 * The file tree of an ISO 9660 image, read as the operator would see it mounted: Rock Ridge names, modes
 * and symbolic links when the volume has them (IEEE P1282), else Joliet names (the supplementary volume
 * descriptor with UCS-2 escapes), else plain ISO 9660 identifiers without their `;1` version. The image is
 * hostile: every name is checked (no `.`, `..`, `/`, NUL, empty), every extent must lie inside the image,
 * a directory seen twice is a loop, and depth, entry count, directory size and continuation areas are
 * bounded. Pure over a BlockSource; it yields what to copy and never writes.
 */
import { MalformedPacket } from '../../net/malformed.ts';
import { readExact, type BlockSource } from '../codec/block-source.ts';
import {
  DIR_FLAG,
  FIRST_DESCRIPTOR_SECTOR,
  ISO_SECTOR,
  decodeDirRecord,
  decodeVolumeDescriptor,
  isJoliet,
  ucs2,
  type DirRecord,
  type VolumeDescriptor,
} from './iso-records.ts';
import { continuation, decodeSusp, readRockRidge, spSkip, type SuspEntry } from './rock-ridge.ts';

const PROTO = 'iso9660';

/** Bounds a real installer ISO stays far inside (a Debian DVD: ~4,000 directories, ~60,000 files, depth 7). */
export const ISO_LIMITS = {
  /** Directory nesting. */
  depth: 32,
  /** Entries in the whole tree. */
  entries: 500_000,
  /** One directory's extent (about 40,000 entries). */
  dirBytes: 8 * 1024 * 1024,
  /** Descriptors read before the terminator (ECMA-119 8.3). */
  descriptors: 64,
  /** Continuation areas followed for one record (P1281 5.1). */
  continuations: 16,
} as const;

/** One entry of the tree. `path` is relative, components joined by `/`. */
export type IsoEntry =
  | { kind: 'dir'; path: string }
  | { kind: 'file'; path: string; offset: number; size: number }
  | { kind: 'symlink'; path: string; target: string };

/** An opened ISO: how names are read, the volume label, and the walk. */
export interface IsoTree {
  names: 'rock-ridge' | 'joliet' | 'iso9660';
  volumeId: string;
  /** Every entry, parents before children. Throws MalformedPacket on the first hostile entry. */
  walk(): AsyncGenerator<IsoEntry>;
}

/** The checks every name passes (it becomes a file name in the store). */
function checkName(name: string, where: number): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || Buffer.byteLength(name) > 255)
    throw new MalformedPacket(
      PROTO,
      where,
      `refused name ${JSON.stringify(name)}: a path component must not be empty, ".", ".." or hold "/" or NUL`,
    );
  return name;
}

/** ISO 9660 identifier without `;version` and a lone trailing dot (ECMA-119 7.5.1). */
function plainName(id: Uint8Array): string {
  return String.fromCharCode(...id)
    .replace(/;\d*$/, '')
    .replace(/\.$/, '');
}

/** Open the image: find the primary descriptor (and a Joliet one), decide how names are read. */
export async function openIso(src: BlockSource): Promise<IsoTree> {
  let primary: VolumeDescriptor | null = null;
  let joliet: VolumeDescriptor | null = null;
  for (let i = 0; i < ISO_LIMITS.descriptors; i++) {
    const at = (FIRST_DESCRIPTOR_SECTOR + i) * ISO_SECTOR;
    const vd = decodeVolumeDescriptor(await readExact(src, PROTO, at, ISO_SECTOR), at);
    if (vd.type === 255) break;
    if (vd.type === 1 && !primary) primary = vd;
    if (vd.type === 2 && !joliet && isJoliet(vd.escapes)) joliet = vd;
  }
  if (!primary?.root) throw new MalformedPacket(PROTO, FIRST_DESCRIPTOR_SECTOR * ISO_SECTOR, 'no primary volume descriptor');
  const bs = primary.logicalBlockSize;
  const pvd = primary;
  // P1281 5.3: the root's "." record of a SUSP volume starts with SP; its skip applies to every record.
  const rootAt = pvd.root!.extent * bs;
  const rootSelf = decodeDirRecord(await readExact(src, PROTO, rootAt, Math.min(255, Math.max(0, src.size - rootAt))), 0, rootAt);
  const skip = spSkip(decodeSusp(rootSelf.systemUse));
  const names: IsoTree['names'] = skip !== null ? 'rock-ridge' : joliet ? 'joliet' : 'iso9660';
  const vd = names === 'joliet' ? joliet! : pvd;

  async function suspOf(r: DirRecord, at: number): Promise<SuspEntry[]> {
    const entries = decodeSusp(r.systemUse.subarray(skip ?? 0), at);
    for (let n = 0, i = 0; i < entries.length; i++) {
      if (entries[i]!.sig !== 'CE') continue;
      if (++n > ISO_LIMITS.continuations) throw new MalformedPacket(PROTO, at, 'too many Rock Ridge continuation areas');
      const ce = continuation(entries[i]!);
      if (ce.length > ISO_SECTOR || ce.offset + ce.length > bs) throw new MalformedPacket(PROTO, at, 'continuation area passes its block');
      const area = await readExact(src, PROTO, ce.block * bs + ce.offset, ce.length);
      entries.push(...decodeSusp(area, ce.block * bs + ce.offset));
    }
    return entries;
  }

  async function* walk(): AsyncGenerator<IsoEntry> {
    const root = vd.root!;
    const seen = new Set<number>([root.extent]);
    const stack: { extent: number; size: number; path: string; depth: number }[] = [
      { extent: root.extent, size: root.size, path: '', depth: 0 },
    ];
    let count = 0;
    while (stack.length) {
      const dir = stack.pop()!;
      if (dir.size > ISO_LIMITS.dirBytes)
        throw new MalformedPacket(PROTO, dir.extent * bs, `directory ${dir.path || '/'} of ${dir.size} bytes is over the limit`);
      const at = dir.extent * bs;
      const data = await readExact(src, PROTO, at, dir.size);
      const taken = new Set<string>();
      let off = 0;
      while (off < data.length) {
        // ECMA-119 6.8.1.1: a record never crosses a sector; a zero length byte means "next sector".
        if (data[off] === 0) {
          off = (Math.floor(off / ISO_SECTOR) + 1) * ISO_SECTOR;
          continue;
        }
        const sectorEnd = Math.min(data.length, (Math.floor(off / ISO_SECTOR) + 1) * ISO_SECTOR);
        const r = decodeDirRecord(data.subarray(0, sectorEnd), off, at);
        const where = at + off;
        off += data[off]!;
        if (r.name.length === 1 && r.name[0]! <= 1) continue; // "." and ".."
        if (r.flags & DIR_FLAG.associated) continue;
        if (r.flags & DIR_FLAG.multiExtent) throw new MalformedPacket(PROTO, where, 'multi-extent files (over 4 GiB) are not supported');
        if (++count > ISO_LIMITS.entries) throw new MalformedPacket(PROTO, where, `more than ${ISO_LIMITS.entries} entries`);
        const rr = names === 'rock-ridge' ? readRockRidge(await suspOf(r, where)) : null;
        if (rr?.relocated) throw new MalformedPacket(PROTO, where, 'relocated directories (Rock Ridge RE/CL/PL) are not supported');
        const raw = rr?.name ?? (names === 'joliet' ? ucs2(r.name).replace(/;\d*$/, '') : plainName(r.name));
        const name = checkName(raw, where);
        if (taken.has(name)) throw new MalformedPacket(PROTO, where, `${dir.path}${name} appears twice`);
        taken.add(name);
        const path = dir.path + name;
        const type = rr?.mode != null ? rr.mode & 0o170000 : null;
        if (r.flags & DIR_FLAG.directory) {
          if (type !== null && type !== 0o040000)
            throw new MalformedPacket(PROTO, where, `${path}: a directory record with mode ${type.toString(8)}`);
          if (seen.has(r.extent))
            throw new MalformedPacket(PROTO, where, `${path}: directory loop (its extent ${r.extent} is listed twice)`);
          if (dir.depth + 1 > ISO_LIMITS.depth)
            throw new MalformedPacket(PROTO, where, `${path}: deeper than ${ISO_LIMITS.depth} directories`);
          seen.add(r.extent);
          yield { kind: 'dir', path };
          stack.push({ extent: r.extent, size: r.size, path: path + '/', depth: dir.depth + 1 });
        } else if (rr?.target != null || type === 0o120000) {
          if (rr?.target == null) throw new MalformedPacket(PROTO, where, `${path}: a symbolic link without a target`);
          yield { kind: 'symlink', path, target: rr.target };
        } else if (type === null || type === 0o100000) {
          const offset = r.extent * bs;
          if (r.size > 0 && offset + r.size > src.size)
            throw new MalformedPacket(
              PROTO,
              where,
              `${path}: ${r.size} bytes at block ${r.extent} pass the end of the image (${src.size} bytes)`,
            );
          yield { kind: 'file', path, offset, size: r.size };
        } else throw new MalformedPacket(PROTO, where, `${path}: special file (mode ${type.toString(8)}) refused`);
      }
    }
  }
  return { names, volumeId: pvd.volumeId, walk };
}
