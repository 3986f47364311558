/**
 * OS images (installer kernel + initrd, or an ISO) in `<dataDir>/images/<name>/`,
 * served by the node plane with Range. Files are streamed to a temp name,
 * hashed on the way, fsync'ed and renamed (and the folder fsync'ed, so the
 * rename survives a power loss): nothing half-written is ever served.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import type { Collection } from '../store/collection.ts';
import type { ImageDoc } from '../store/docs.ts';
import { ccError } from '../errors/cc-error.ts';
import { fsyncDir, renameDurably } from '../store/durable-file.ts';
import { openFileSink, type FileSink } from '../store/file-sink.ts';

/** File names an image may hold. */
export const IMAGE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Progress callback: bytes done and total (total 0 when unknown). */
export type Progress = (done: number, total: number) => void;

/** Image folder of a name. */
export function imageDir(dataDir: string, name: string): string {
  return path.join(dataDir, 'images', name);
}

/** Stream one file into an image, hashing it; returns its entry. */
export async function writeImageFile(
  dataDir: string,
  name: string,
  file: string,
  src: Readable,
  total: number,
  onProgress?: Progress,
): Promise<{ name: string; size: number; sha256: string }> {
  if (!IMAGE_FILE.test(file)) throw ccError('CC_ERR_IMAGE_IMPORT', `bad file name "${file}" (letters, digits, . _ - only)`);
  const dir = imageDir(dataDir, name);
  if (!fs.existsSync(dir)) {
    await fsp.mkdir(dir, { recursive: true });
    await fsyncDir(path.dirname(dir));
  }
  const tmp = path.join(dir, `.${file}.part-${process.pid}`);
  const hash = createHash('sha256');
  let size = 0;
  let lastReport = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      if (onProgress && size - lastReport >= 4 * 1024 * 1024) {
        lastReport = size;
        onProgress(size, total);
      }
      cb(null, chunk);
    },
  });
  let sink: FileSink | undefined;
  try {
    sink = await openFileSink(tmp, 'w', 0o644);
    await pipeline(src, meter, sink.out);
    const h = await fsp.open(tmp, 'r');
    await h.sync();
    await h.close();
    await renameDurably(tmp, path.join(dir, file));
  } catch (e) {
    await sink?.settled();
    await fsp.rm(tmp, { force: true });
    throw ccError('CC_ERR_IMAGE_IMPORT', `${file}: ${(e as Error).message}`);
  }
  onProgress?.(size, total || size);
  return { name: file, size, sha256: hash.digest('hex') };
}

/** Refuse to add installer files to a disk image (it would overwrite the stored disk under its checksums). */
export async function assertNotDiskImage(col: Collection<ImageDoc>, name: string): Promise<void> {
  if ((await col.findOne({ _id: name }))?.kind === 'disk')
    throw ccError('CC_ERR_IMAGE_EXISTS', `"${name}" is a disk image; installer files go into an image of their own`);
}

/** Record (or extend) an image with a file entry. */
export async function recordImageFile(
  col: Collection<ImageDoc>,
  name: string,
  entry: { name: string; size: number; sha256: string },
  now: Date,
): Promise<ImageDoc> {
  const old = await col.findOne({ _id: name });
  const files = [...(old?.files ?? []).filter((f) => f.name !== entry.name), entry].sort((a, b) => a.name.localeCompare(b.name));
  const doc: ImageDoc = {
    _id: name,
    name,
    kind: files.some((f) => f.name.toLowerCase().endsWith('.iso')) ? 'iso' : 'kernel-initrd',
    files,
    created_at: old?.created_at ?? now.toISOString(),
    // An unpacked ISO repository stays with the image when installer files are added.
    ...(old?.repo ? { repo: old.repo } : {}),
  };
  await col.put(doc, { durable: true });
  return doc;
}

/** Import files from paths on this machine (CLI `crashcart image import`). */
export async function importImageFromPaths(
  col: Collection<ImageDoc>,
  dataDir: string,
  name: string,
  paths: { file: string; from: string }[],
  onProgress?: (file: string, done: number, total: number) => void,
): Promise<ImageDoc> {
  let doc: ImageDoc | null = null;
  await assertNotDiskImage(col, name);
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = await fsp.stat(p.from);
    } catch {
      throw ccError('CC_ERR_IMAGE_IMPORT', `cannot read ${p.from}`);
    }
    const entry = await writeImageFile(dataDir, name, p.file, fs.createReadStream(p.from), st.size, (d, t) => onProgress?.(p.file, d, t));
    doc = await recordImageFile(col, name, entry, new Date());
  }
  if (!doc) throw ccError('CC_ERR_IMAGE_IMPORT', 'no files given');
  return doc;
}

/** Delete an image and its files. */
export async function deleteImage(col: Collection<ImageDoc>, dataDir: string, name: string): Promise<void> {
  const n = await col.remove({ _id: name }, { durable: true });
  if (n === 0) throw ccError('CC_ERR_NOT_FOUND', `image "${name}"`);
  await fsp.rm(imageDir(dataDir, name), { recursive: true, force: true });
}
