/**
 * Unpack an installer ISO's tree into `<dataDir>/images/NAME/repo/` (served by the node plane as a package
 * repository, docs/images.md "Installer ISOs as repositories"). The pure walk (iso-walk.ts) refuses hostile
 * names, extents and loops; here the plan is checked as a whole (symbolic links stay inside the tree, the
 * files fit the image and the disk), the tree is written into a staging folder, every link is resolved
 * again on disk, and only then is the folder renamed into place and the record written durably. Any
 * failure removes the staging folder: the store is as it was.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { IsoRepo } from '../../../contract/iso-repo.ts';
import type { Collection } from '../../store/collection.ts';
import type { ImageDoc } from '../../store/docs.ts';
import { ccError, CcError } from '../../errors/cc-error.ts';
import { MalformedPacket } from '../../net/malformed.ts';
import { fsyncDir, renameDurably } from '../../store/durable-file.ts';
import { openFileSink } from '../../store/file-sink.ts';
import { openFileSource } from '../file-source.ts';
import { assertNotDiskImage, imageDir } from '../image-store.ts';
import { openIso, type IsoEntry } from './iso-walk.ts';
import { detectRepo } from './repo-detect.ts';

/**
 * Files may declare at most this many times the image's size in total: hard links (two records, one
 * extent) are legal, but a crafted ISO pointing thousands of records at one big extent is a bomb.
 */
export const ISO_AMPLIFICATION = 2;

/** What an ISO import needs. */
export interface IsoImportOptions {
  col: Collection<ImageDoc>;
  dataDir: string;
  name: string;
  /** The ISO on this machine (an upload staged by the caller, or the operator's file). */
  iso: string;
  /** sha256 of the ISO, as received. */
  sha256: string;
  now: () => Date;
  onProgress?: (done: number, total: number) => void;
}

/** `target` of the link at `linkPath` resolved as a path (no file system), or null when it leaves the tree. */
export function resolveInside(linkPath: string, target: string): string | null {
  if (target.startsWith('/') || target.includes('\0')) return null;
  const out = linkPath.split('/').slice(0, -1);
  for (const seg of target.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(seg);
  }
  return out.join('/');
}

/** Read the tree and check it as a whole; throws CC_ERR_ISO_INVALID. */
async function plan(iso: string): Promise<{ entries: IsoEntry[]; names: IsoRepo['names']; volumeId: string; size: number }> {
  const src = await openFileSource(iso);
  try {
    const tree = await openIso(src);
    const entries: IsoEntry[] = [];
    for await (const e of tree.walk()) entries.push(e);
    for (const e of entries)
      if (e.kind === 'symlink' && resolveInside(e.path, e.target) === null)
        throw ccError('CC_ERR_ISO_INVALID', `${e.path} is a symbolic link to ${JSON.stringify(e.target)}, outside the ISO's tree`);
    const bytes = entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0);
    if (bytes > ISO_AMPLIFICATION * src.size)
      throw ccError('CC_ERR_ISO_INVALID', `its files declare ${bytes} bytes in a ${src.size}-byte image (records sharing extents)`);
    return { entries, names: tree.names, volumeId: tree.volumeId, size: src.size };
  } catch (e) {
    if (e instanceof MalformedPacket) throw ccError('CC_ERR_ISO_INVALID', `${e.reason} (byte ${e.offset})`);
    throw e;
  } finally {
    await src.close();
  }
}

/** Write the planned tree under `root` (which exists), with progress by bytes. */
async function extract(
  iso: string,
  root: string,
  entries: readonly IsoEntry[],
  total: number,
  onProgress?: (d: number, t: number) => void,
) {
  let done = 0;
  for (const e of entries) {
    const to = path.join(root, e.path);
    if (e.kind === 'dir') await fsp.mkdir(to, { mode: 0o755 });
    else if (e.kind === 'symlink') await fsp.symlink(e.target, to);
    else {
      // Open before a byte moves and closed before the next step (openFileSink): a failed import's cleanup then
      // removes a folder nothing still writes into.
      const sink = await openFileSink(to, 'wx', 0o644);
      try {
        if (e.size > 0)
          await pipeline(fs.createReadStream(iso, { start: e.offset, end: e.offset + e.size - 1, highWaterMark: 1 << 20 }), sink.out);
        else await new Promise<void>((resolve, reject) => sink.out.end(() => resolve()).once('error', reject));
      } finally {
        await sink.settled();
      }
      const h = await fsp.open(to, 'r');
      await h.sync();
      await h.close();
      done += e.size;
      onProgress?.(done, total);
    }
  }
  // A link that is inside the tree by its text can still leave it through another link (`d -> .`, `e -> d/..`):
  // resolve every one on disk. A loop (ELOOP) is refused too.
  const real = await fsp.realpath(root);
  for (const e of entries) {
    if (e.kind !== 'symlink') continue;
    const at = await fsp.realpath(path.join(root, e.path)).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : err));
    if (at instanceof Error || (at !== null && at !== real && !at.startsWith(real + path.sep)))
      throw ccError('CC_ERR_ISO_INVALID', `${e.path} -> ${e.target} resolves outside the ISO's tree or in a loop`);
  }
}

/** Unpack the ISO into the image `name` (created when missing) and record its repository. */
export async function importIsoRepo(o: IsoImportOptions): Promise<ImageDoc> {
  await assertNotDiskImage(o.col, o.name);
  const dir = imageDir(o.dataDir, o.name);
  const old = await o.col.findOne({ _id: o.name });
  if (old?.repo || fs.existsSync(path.join(dir, 'repo')))
    throw ccError('CC_ERR_IMAGE_EXISTS', `image "${o.name}" already has a repository; delete the image first or choose another name`);
  const p = await plan(o.iso);
  const found = detectRepo(p.entries);
  if (!found)
    throw ccError(
      'CC_ERR_ISO_NO_REPO',
      `${path.basename(o.iso)} (volume "${p.volumeId}") has no dists/*/Release and no repodata/repomd.xml`,
    );
  const bytes = p.entries.reduce((n, e) => n + (e.kind === 'file' ? e.size : 0), 0);
  const free = await fsp.statfs(o.dataDir).then((s) => s.bavail * s.bsize);
  if (bytes > free) throw ccError('CC_ERR_IMAGE_IMPORT', `the ISO's tree needs ${bytes} bytes; ${free} are free in ${o.dataDir}`);
  const staging = path.join(o.dataDir, 'images-staging', `${o.name}-iso-${process.pid}-${randomBytes(4).toString('hex')}`);
  const root = path.join(staging, 'repo');
  try {
    await fsp.mkdir(root, { recursive: true, mode: 0o755 });
    await extract(o.iso, root, p.entries, bytes, o.onProgress);
    // Anaconda reads `.treeinfo`, else `treeinfo`; the node plane serves no dot names.
    if (found.installTree && !fs.existsSync(path.join(root, 'treeinfo')))
      await fsp.copyFile(path.join(root, '.treeinfo'), path.join(root, 'treeinfo'));
    await fsyncDir(root);
    await fsp.mkdir(dir, { recursive: true });
    await renameDurably(root, path.join(dir, 'repo'));
  } catch (e) {
    await fsp.rm(staging, { recursive: true, force: true });
    if (e instanceof CcError) throw e;
    throw ccError('CC_ERR_IMAGE_IMPORT', `unpacking ${path.basename(o.iso)}: ${(e as Error).message}`);
  }
  await fsp.rm(staging, { recursive: true, force: true });
  const repo: IsoRepo = {
    kind: found.kind,
    path: 'repo',
    volume_id: p.volumeId,
    names: p.names,
    files: p.entries.filter((e) => e.kind === 'file').length,
    symlinks: p.entries.filter((e) => e.kind === 'symlink').length,
    bytes,
    suites: found.suites,
    repos: found.repos,
    install_tree: found.installTree,
    source: { size: p.size, sha256: o.sha256 },
    imported_at: o.now().toISOString(),
  };
  const doc: ImageDoc = old
    ? { ...old, repo }
    : { _id: o.name, name: o.name, kind: 'iso', files: [], created_at: o.now().toISOString(), repo };
  await o.col.put(doc, { durable: true });
  return doc;
}
