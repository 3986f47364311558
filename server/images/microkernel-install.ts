/**
 * Installing a microkernel into `<dataDir>/microkernel/<arch>`: files are staged in
 * `microkernel.importing/<arch>/` (each streamed, hashed, fsync'ed, renamed), then the
 * staged folder replaces the live one with two renames and a directory fsync.
 * Used by `crashcart microkernel import` and `crashcart prepare` on their own and by
 * the admin API when an appliance holds the data dir.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { ccError } from '../errors/cc-error.ts';
import { fsyncDir, renameDurably } from '../store/durable-file.ts';
import { openFileSink, type FileSink } from '../store/file-sink.ts';
import { legacyMicrokernelDir, preparedMicrokernelDir, type MicrokernelArch } from '../prepare/layout.ts';

import { MICROKERNEL_FILES, type MicrokernelFile } from '../../contract/images.ts';

// The file names are part of the admin API (the staging route's parameter): defined in the contract.
export { MICROKERNEL_FILES, type MicrokernelFile };

/** Live folder of one architecture's microkernel. */
export const microkernelDir = (dataDir: string, arch: MicrokernelArch = 'amd64') => preparedMicrokernelDir(dataDir, arch);
const stagingDir = (dataDir: string, arch: MicrokernelArch) => path.join(dataDir, 'microkernel.importing', arch);

/** Stream one file into the staging folder; returns its size and sha256. */
export async function stageMicrokernelFile(
  dataDir: string,
  file: MicrokernelFile,
  src: Readable,
  onBytes?: (done: number) => void,
  arch: MicrokernelArch = 'amd64',
): Promise<{ name: string; size: number; sha256: string }> {
  if (!(MICROKERNEL_FILES as readonly string[]).includes(file))
    throw ccError('CC_ERR_BAD_REQUEST', `a microkernel holds ${MICROKERNEL_FILES.join(', ')}, not "${file}"`);
  const dir = stagingDir(dataDir, arch);
  await fsp.mkdir(dir, { recursive: true, mode: 0o755 });
  const tmp = path.join(dir, `.${file}.part-${process.pid}`);
  const hash = createHash('sha256');
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      onBytes?.(size);
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
    throw ccError('CC_ERR_IMAGE_IMPORT', `microkernel ${file}: ${(e as Error).message}`);
  }
  return { name: file, size, sha256: hash.digest('hex') };
}

/** Forget anything staged earlier (an import that was interrupted). */
export async function clearMicrokernelStaging(dataDir: string, arch: MicrokernelArch = 'amd64'): Promise<void> {
  await fsp.rm(stagingDir(dataDir, arch), { recursive: true, force: true });
}

/** Make the staged `files` the live microkernel; anything else staged is dropped. */
export async function installStagedMicrokernel(
  dataDir: string,
  files: readonly MicrokernelFile[],
  arch: MicrokernelArch = 'amd64',
): Promise<string> {
  const dir = stagingDir(dataDir, arch);
  for (const need of ['vmlinuz', 'initrd.img'] as const)
    if (!files.includes(need)) throw ccError('CC_ERR_BAD_REQUEST', `a microkernel needs ${need}`);
  for (const f of files) if (!fs.existsSync(path.join(dir, f))) throw ccError('CC_ERR_BAD_REQUEST', `${f} was not uploaded before install`);
  for (const f of await fsp.readdir(dir)) if (!(files as readonly string[]).includes(f)) await fsp.rm(path.join(dir, f), { force: true });
  await fsyncDir(dir);
  const live = microkernelDir(dataDir, arch);
  const old = `${live}.old`;
  await fsp.mkdir(path.dirname(live), { recursive: true, mode: 0o755 });
  await fsp.rm(old, { recursive: true, force: true });
  // Two renames: the live folder is missing only between them (boots then get CC_ERR_NO_MICROKERNEL and retry).
  if (fs.existsSync(live)) await fsp.rename(live, old);
  await renameDurably(dir, live);
  await fsp.rm(old, { recursive: true, force: true });
  // The staging parent (`microkernel.importing/`) goes when no other architecture is being staged.
  await fsp.rmdir(path.dirname(dir)).catch(() => undefined);
  // An amd64 microkernel imported before issue 12 lay flat in <data-dir>/microkernel: the new one replaces it.
  if (arch === 'amd64') for (const f of MICROKERNEL_FILES) await fsp.rm(path.join(legacyMicrokernelDir(dataDir), f), { force: true });
  return live;
}
