/**
 * Where `prepare` (and `bundle import`) put artifacts: straight into a data dir this process holds
 * the lock of, or through the admin API of the appliance that holds it (issue 10 §4: one process
 * writes a data dir). Both check what the data dir already holds first, so a rerun sends nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Prepared } from '../../contract/prepared.ts';
import type { AdminClient } from '../cli/admin-client.ts';
import { ccError } from '../errors/cc-error.ts';
import {
  MICROKERNEL_FILES,
  clearMicrokernelStaging,
  installStagedMicrokernel,
  stageMicrokernelFile,
  type MicrokernelFile,
} from '../images/microkernel-install.ts';
import { findMicrokernel } from '../boot/microkernel-assets.ts';
import { HashCache } from './inventory/hash-cache.ts';
import { inspectPrepared } from './inventory/prepared.ts';
import { loadersDir, type MicrokernelArch } from './layout.ts';
import type { Collection } from '../store/collection.ts';
import type { ImageDoc } from '../store/docs.ts';
import type { DiskImageInfo } from '../../contract/disk-image.ts';
import { importDiskImage } from '../images/disk-import.ts';

/** Bytes sent or copied of one file so far. */
export type FileProgress = (file: string, done: number, total: number) => void;

/** A data dir to install into. */
export interface InstallTarget {
  /** For messages: "data dir /x" or "the appliance at https://...". */
  readonly where: string;
  /** What the data dir holds now. */
  prepared(): Promise<Prepared>;
  /** Folder `prepareLoaders` fills: the data dir's own (local) or a staging folder in the cache (remote). */
  readonly loaderWorkDir: string;
  /** Make these loader files (already verified in `loaderWorkDir`) live in the data dir. */
  publishLoaders(names: readonly string[], onBytes: FileProgress): Promise<void>;
  /** Install the microkernel in `fromDir` (vmlinuz, initrd.img, manifest.json) for `arch`; returns its version. */
  installMicrokernel(arch: MicrokernelArch, fromDir: string, onBytes: FileProgress): Promise<string>;
  /** Import the disk image `file` (a built image's zstd file) as image `name`; `builder` says which recipe made it. */
  installDiskImage(name: string, file: string, builder: DiskImageInfo['builder'], onBytes: FileProgress): Promise<void>;
}

/** The microkernel files present in `dir`, vmlinuz and initrd.img required. */
export function microkernelFilesIn(dir: string): MicrokernelFile[] {
  const present = MICROKERNEL_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
  for (const need of ['vmlinuz', 'initrd.img'] as const)
    if (!present.includes(need)) throw ccError('CC_ERR_CONFIG_INVALID', `${path.join(dir, need)} is missing: not a microkernel folder`);
  return present;
}

/** Into a data dir whose lock the caller holds; `images` is its open store's collection (disk images are recorded there). */
export function localTarget(dataDir: string, images?: Collection<ImageDoc>): InstallTarget {
  const hashes = new HashCache();
  return {
    where: `data dir ${dataDir}`,
    prepared: () => inspectPrepared(dataDir, hashes),
    loaderWorkDir: loadersDir(dataDir),
    async publishLoaders() {
      // prepareLoaders installed them in place, atomically and durably.
    },
    async installMicrokernel(arch, fromDir, onBytes) {
      const files = microkernelFilesIn(fromDir);
      await clearMicrokernelStaging(dataDir, arch);
      for (const f of files) {
        const p = path.join(fromDir, f);
        const size = fs.statSync(p).size;
        await stageMicrokernelFile(dataDir, f, fs.createReadStream(p), (n) => onBytes(f, n, size), arch);
      }
      await installStagedMicrokernel(dataDir, files, arch);
      return findMicrokernel(dataDir, null, arch)?.version ?? 'unversioned';
    },
    async installDiskImage(name, file, builder, onBytes) {
      if (!images) throw ccError('CC_ERR_INTERNAL', 'this data dir target was opened without its store');
      const size = fs.statSync(file).size;
      await importDiskImage({
        col: images,
        dataDir,
        name,
        source: fs.createReadStream(file, { highWaterMark: 1 << 20 }),
        sourceSize: size,
        builder,
        now: () => new Date(),
        onProgress: (p) => onBytes(p.phase === 'receive' ? path.basename(file) : p.phase, p.done, p.total),
      });
    },
  };
}

/** Through the admin API of the appliance holding the data dir; `stagingDir` is a folder of our own (the cache). */
export function remoteTarget(client: AdminClient, stagingDir: string): InstallTarget {
  const send = async (url: string, file: string, name: string, onBytes: FileProgress) => {
    const size = fs.statSync(file).size;
    return client.call<{ sha256?: string }>('PUT', url, {
      stream: fs.createReadStream(file),
      length: size,
      onBytes: (n) => onBytes(name, n, size),
    });
  };
  return {
    where: `the appliance at ${client.baseUrl}`,
    prepared: () => client.call<Prepared>('GET', '/api/v1/prepared'),
    loaderWorkDir: stagingDir,
    async publishLoaders(names, onBytes) {
      // The appliance checks each file against the same pins before it goes live.
      for (const n of names) await send(`/api/v1/loaders/${encodeURIComponent(n)}`, path.join(stagingDir, n), n, onBytes);
    },
    async installMicrokernel(arch, fromDir, onBytes) {
      const files = microkernelFilesIn(fromDir);
      for (const f of files) await send(`/api/v1/microkernel/staging/${f}?arch=${arch}`, path.join(fromDir, f), f, onBytes);
      const r = await client.call<{ version: string }>('POST', '/api/v1/microkernel/install', { json: { files, arch } });
      return r.version;
    },
    async installDiskImage(name, file, _builder, onBytes) {
      // The upload route takes no builder record: the appliance inspects the image itself.
      await send(`/api/v1/images/${encodeURIComponent(name)}/disk`, file, path.basename(file), onBytes);
    },
  };
}
