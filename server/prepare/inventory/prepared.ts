/**
 * What the data dir itself holds (not the package's or the build's fallbacks): the idempotency
 * check of `prepare`, the answer of GET /api/v1/prepared, and what `bundle export` carries.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Prepared } from '../../../contract/prepared.ts';
import { MICROKERNEL_ARCHES, legacyMicrokernelDir, loadersDir, preparedMicrokernelDir } from '../layout.ts';
import type { HashCache } from './hash-cache.ts';
import { inspectImages } from './images.ts';
import { inspectLoaders } from './loaders.ts';
import { inspectMicrokernelDir, type MicrokernelState } from './microkernels.ts';

const complete = async (dir: string) =>
  (await fs.lstat(path.join(dir, 'vmlinuz')).catch(() => null))?.isFile() === true &&
  (await fs.lstat(path.join(dir, 'initrd.img')).catch(() => null))?.isFile() === true;

/** The microkernel of every architecture as the data dir holds it (an amd64 one imported before issue 12 counts). */
export async function preparedMicrokernels(dataDir: string, hashes: HashCache): Promise<MicrokernelState[]> {
  const out: MicrokernelState[] = [];
  for (const arch of MICROKERNEL_ARCHES) {
    const dirs = [preparedMicrokernelDir(dataDir, arch), ...(arch === 'amd64' ? [legacyMicrokernelDir(dataDir)] : [])];
    let found: MicrokernelState | null = null;
    for (const dir of dirs) if (!found && (await complete(dir))) found = await inspectMicrokernelDir(dir, arch, 'data-dir', hashes);
    out.push(found ?? { arch, status: 'missing', dir: null, source: null, version: null, bytes: 0, files: [] });
  }
  return out;
}

/** Everything prepared in `dataDir`. */
export async function inspectPrepared(dataDir: string, hashes: HashCache): Promise<Prepared> {
  const loaders = await inspectLoaders([{ dir: loadersDir(dataDir), kind: 'data-dir', pinned: true }], hashes);
  return {
    loaders: loaders.map((l) => ({
      name: l.name,
      arch: l.arch,
      ready: l.ready,
      files: l.files.map((f) => ({ name: f.name, status: f.status, bytes: f.bytes })),
    })),
    microkernels: (await preparedMicrokernels(dataDir, hashes)).map((m) => ({
      arch: m.arch,
      status: m.status,
      version: m.version,
      bytes: m.bytes,
      files: m.files,
    })),
    images: await inspectImages(dataDir),
  };
}
