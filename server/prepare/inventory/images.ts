/**
 * The OS and disk images in `<data-dir>/images/<name>/`, read from the folders (a CLI run such as
 * `doctor` must not open the store a running appliance holds). Names and sizes only: each file's
 * sha256 is in the store and checked when it is imported or bundled.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/** One image folder. */
export interface ImageState {
  name: string;
  files: { name: string; bytes: number }[];
  bytes: number;
}

/** Image names are the store's `NameSchema`; anything else in the folder is not an image. */
const IMAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** List the images of a data dir (empty when it has none). */
export async function inspectImages(dataDir: string): Promise<ImageState[]> {
  const dir = path.join(dataDir, 'images');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const out: ImageState[] = [];
  for (const name of names.sort()) {
    if (!IMAGE_NAME.test(name)) continue;
    const d = path.join(dir, name);
    if (!(await fs.lstat(d).catch(() => null))?.isDirectory()) continue;
    const files: ImageState['files'] = [];
    for (const f of (await fs.readdir(d)).sort()) {
      // Dot files are partial uploads (`.linux.part-PID`), never served.
      if (f.startsWith('.')) continue;
      const st = await fs.lstat(path.join(d, f));
      if (st.isFile()) files.push({ name: f, bytes: st.size });
    }
    out.push({ name, files, bytes: files.reduce((n, f) => n + f.bytes, 0) });
  }
  return out;
}
