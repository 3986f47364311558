/**
 * `bundle export`: a prepared data dir as one ustar file with `manifest.json` first (every member's
 * path, size and sha256). What goes in: the verified loaders, the microkernel of each architecture,
 * every image with its record, and the store's tags, tasks, policies and settings; nodes with
 * `withNodes`, the secrets key and password hashes with `withSecrets`. Two passes: hash everything,
 * then write, hashing again so a file that changed in between fails the export instead of shipping
 * a bundle whose manifest lies.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { ccError } from '../errors/cc-error.ts';
import { imageDir } from '../images/image-store.ts';
import { KEY_FILE } from '../secrets/key-file.ts';
import { fsyncFile, renameDurably } from '../store/durable-file.ts';
import type { HashCache } from '../prepare/inventory/hash-cache.ts';
import { MICROKERNEL_FILES } from '../images/microkernel-install.ts';
import { preparedMicrokernels } from '../prepare/inventory/prepared.ts';
import { inspectLoaders } from '../prepare/inventory/loaders.ts';
import { loadersDir } from '../prepare/layout.ts';
import { BUNDLE_FORMAT, BUNDLE_VERSION, MANIFEST_NAME, SECRETS_PATH, type Manifest } from './manifest.ts';
import { exportStore, type Catalog } from './store-data.ts';
import { TarWriter, type ByteSink } from './tar-io.ts';

/** The Crashcart version recorded in manifests. */
export const CRASHCART_VERSION = '0.1.0';

/** One member to write: a file on disk or bytes in memory. */
interface Item {
  path: string;
  bytes: number;
  sha256: string;
  file?: string;
  data?: Buffer;
}

/** What to export from. */
export interface ExportSource {
  dataDir: string;
  catalog: Catalog;
  hashes: HashCache;
}

/** What goes in. */
export interface ExportOptions {
  withNodes: boolean;
  withSecrets: boolean;
  now: Date;
  onProgress?: (what: string, done: number, total: number) => void;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function fileItem(p: string, file: string, hashes: HashCache): Promise<Item> {
  const st = await fs.stat(file);
  const sum = await hashes.sha256(file);
  if (!sum) throw ccError('CC_ERR_DATA_DIR', `cannot read ${file}`);
  return { path: p, bytes: st.size, sha256: sum, file };
}

/** Pass 1: the members and the manifest. */
export async function bundleItems(src: ExportSource, o: ExportOptions): Promise<{ items: Item[]; manifest: Manifest; skipped: string[] }> {
  const items: Item[] = [];
  const skipped: string[] = [];
  const loaders = await inspectLoaders([{ dir: loadersDir(src.dataDir), kind: 'data-dir', pinned: true }], src.hashes);
  for (const l of loaders)
    for (const f of l.files) {
      if (f.status === 'verified') items.push(await fileItem(`loaders/${f.name}`, f.path!, src.hashes));
      else if (f.status === 'mismatch') skipped.push(`loaders/${f.name} (not the pinned build: run crashcart prepare)`);
    }
  for (const m of await preparedMicrokernels(src.dataDir, src.hashes)) {
    if (!m.dir) continue;
    for (const f of MICROKERNEL_FILES) {
      const p = path.join(m.dir, f);
      if (await fs.stat(p).catch(() => null)) items.push(await fileItem(`microkernel/${m.arch}/${f}`, p, src.hashes));
    }
  }
  for (const img of await src.catalog.store.images.find({}, { name: 1 }))
    for (const f of img.files)
      items.push(await fileItem(`images/${img.name}/${f.name}`, path.join(imageDir(src.dataDir, img.name), f.name), src.hashes));
  for (const [name, text] of await exportStore(src.catalog, o)) {
    const data = Buffer.from(text, 'utf8');
    items.push({ path: `store/${name}.json`, bytes: data.length, sha256: sha(data), data });
  }
  if (o.withSecrets) {
    const key = await fs.readFile(path.join(src.dataDir, KEY_FILE)).catch(() => null);
    if (key) items.push({ path: SECRETS_PATH, bytes: key.length, sha256: sha(key), data: key });
  }
  const manifest: Manifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    created_at: o.now.toISOString(),
    crashcart: CRASHCART_VERSION,
    contents: { nodes: o.withNodes, secrets: o.withSecrets },
    files: items.map((i) => ({ path: i.path, bytes: i.bytes, sha256: i.sha256 })),
  };
  return { items, manifest, skipped };
}

/** Pass 2: write the archive to `sink`, re-hashing every file as it goes. */
export async function writeBundle(items: readonly Item[], manifest: Manifest, sink: ByteSink, o: ExportOptions): Promise<number> {
  const w = new TarWriter(sink, Math.floor(o.now.getTime() / 1000));
  await w.addBuffer(MANIFEST_NAME, Buffer.from(JSON.stringify(manifest, null, 1) + '\n'));
  const total = items.reduce((n, i) => n + i.bytes, 0);
  let done = 0;
  for (const i of items) {
    if (i.data) await w.addBuffer(i.path, i.data);
    else {
      const h = createHash('sha256');
      const tap: ByteSink = { write: async (c) => void h.update(c) };
      await w.addFile(i.path, i.file!, i.bytes, (n) => o.onProgress?.(i.path, done + n, total), tap);
      if (h.digest('hex') !== i.sha256) throw ccError('CC_ERR_DATA_DIR', `${i.file} changed while it was being bundled; export again`);
    }
    done += i.bytes;
    o.onProgress?.(i.path, done, total);
  }
  await w.finish();
  return w.written;
}

/** Export into `file` (written beside it, fsync'ed, renamed into place). */
export async function exportBundleToFile(
  file: string,
  src: ExportSource,
  o: ExportOptions,
): Promise<{ files: number; bytes: number; skipped: string[]; manifest: Manifest }> {
  const { items, manifest, skipped } = await bundleItems(src, o);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.part`);
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    const bytes = await writeBundle(items, manifest, { write: async (c) => void (await fh.write(c)) }, o);
    await fh.close();
    await fsyncFile(tmp);
    await renameDurably(tmp, file);
    return { files: items.length, bytes, skipped, manifest };
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
