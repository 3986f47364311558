/**
 * `crashcart image build debian12`: mmdebstrap (packages, hooks that configure the tree and pack it
 * into ext4) -> assemble the GPT disk -> zstd. The result is cached in the output folder with a
 * manifest; a build with the same key (recipe version and options) reuses it. Every step reports
 * progress.
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../boot/microkernel-assets.ts';
import { ccError } from '../../errors/cc-error.ts';
import { requireTools } from '../tool-run.ts';
import { zstdCompressFile, DEFAULT_ZSTD_LEVEL } from '../zstd-compress.ts';
import { assembleDisk } from './assemble-disk.ts';
import { runMmdebstrap, type MmdebstrapOptions } from './mmdebstrap.ts';
import { stableUuid, stableVolumeId } from './stable-ids.ts';
import * as R from './recipe-debian12.ts';

/** Options of a build (the CLI fills them from flags). */
export interface BuildOptions {
  outDir: string;
  debCacheDir: string;
  mirror: string;
  securityMirror: string;
  epoch: number;
  extraPackages: string[];
  components: string[];
  allModules: boolean;
  rebuild: boolean;
  zstdLevel: number;
  /** A phase starts (1-based index of `total`). */
  onPhase: (index: number, total: number, what: string) => void;
  /** Progress inside a phase: a status (`key` groups lines that only count up) or bytes done of total. */
  onProgress: (text: string, done?: number, total?: number, key?: string) => void;
}

/** What a build leaves in `outDir/manifest.json`. */
export interface BuildManifest {
  recipe: 'debian12';
  recipe_version: number;
  key: string;
  source_date_epoch: number;
  file: string;
  raw: { size: number; sha256: string };
  zst: { size: number; sha256: string; level: number };
  packages: string[];
  seconds: number;
}

const PHASES = 4;
/** Paths go into mmdebstrap hook command lines: keep them to characters a shell leaves alone. */
const SAFE_PATH = /^[A-Za-z0-9_./+-]+$/;

/** The cache key: anything that changes the image's bytes. */
export function buildKey(o: Pick<BuildOptions, 'epoch' | 'extraPackages' | 'components' | 'allModules'>): string {
  const what = { v: R.RECIPE_VERSION, epoch: o.epoch, extra: [...o.extraPackages].sort(), comp: o.components, all: o.allModules };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16);
}

/** Read a previous build's manifest if it matches `key` and its file is there. */
async function cached(outDir: string, key: string): Promise<BuildManifest | null> {
  try {
    const m = JSON.parse(await fsp.readFile(path.join(outDir, 'manifest.json'), 'utf8')) as BuildManifest;
    const st = await fsp.stat(path.join(outDir, m.file));
    return m.key === key && st.size === m.zst.size ? m : null;
  } catch {
    return null;
  }
}

/** Build (or reuse) the debian12 image; returns the manifest and the path of the .zst. */
export async function buildDebian12(o: BuildOptions): Promise<{ manifest: BuildManifest; file: string; reused: boolean }> {
  const key = buildKey(o);
  const prev = o.rebuild ? null : await cached(o.outDir, key);
  if (prev) return { manifest: prev, file: path.join(o.outDir, prev.file), reused: true };
  requireTools(['mmdebstrap', 'mke2fs', 'debugfs', 'mkfs.vfat', 'mmd', 'mcopy', 'zstd', 'unshare'], 'building a disk image');
  for (const p of [o.outDir, o.debCacheDir])
    if (!SAFE_PATH.test(path.resolve(p))) throw ccError('CC_ERR_CONFIG_INVALID', `folder "${p}": use letters, digits and . _ / + - only`);
  const started = Date.now();
  const work = path.resolve(o.outDir, '.work');
  await fsp.rm(work, { recursive: true, force: true });
  await fsp.mkdir(work, { recursive: true });
  await fsp.mkdir(o.debCacheDir, { recursive: true });
  const seed = `crashcart-debian12-${key}`;
  const rootUuid = stableUuid(seed, 'root-filesystem');
  const espId = stableVolumeId(seed, 'esp');
  try {
    o.onPhase(1, PHASES, 'install Debian 12 packages with mmdebstrap and pack the root filesystem');
    const mm: MmdebstrapOptions = {
      suite: R.SUITE,
      mirror: o.mirror,
      securityMirror: o.securityMirror,
      components: o.components,
      packages: [...Object.keys(R.PACKAGES), ...o.extraPackages],
      dpkgExcludes: [...R.DOC_EXCLUDES, ...(o.allModules ? [] : R.MODULE_EXCLUDES)],
      dpkgIncludes: R.DOC_INCLUDES,
      hookDir: path.join(REPO_ROOT, 'build', 'disk-image'),
      outDir: work,
      debCacheDir: path.resolve(o.debCacheDir),
      mode: process.getuid?.() === 0 ? 'root' : 'unshare',
      env: {
        SOURCE_DATE_EPOCH: String(o.epoch),
        CC_ROOT_UUID: rootUuid,
        CC_ESP_UUID: espId,
        CC_OUT: work,
        CC_ROOT_SLACK_MB: String(R.LAYOUT.rootSlackMiB),
      },
    };
    // Off a terminal, one line per stage and per 50 packages.
    await runMmdebstrap(mm, (stage, n) =>
      o.onProgress(n ? `${stage} (${n} packages set up)` : stage, undefined, undefined, `${stage}/${Math.floor(n / 50)}`),
    );
    o.onPhase(2, PHASES, 'assemble the GPT disk: BIOS boot partition, EFI system partition, root');
    const disk = await assembleDisk({ workDir: work, seed, espVolumeId: espId, epoch: o.epoch, ...R.LAYOUT });
    o.onPhase(3, PHASES, `compress with zstd -${o.zstdLevel}`);
    const zst = path.join(work, 'disk.raw.zst');
    const packed = await zstdCompressFile(disk.file, zst, o.zstdLevel, (n) => o.onProgress('compressing', n, disk.size));
    o.onPhase(4, PHASES, 'record the manifest');
    const packages = (await fsp.readFile(path.join(work, 'packages.txt'), 'utf8')).split('\n').filter(Boolean);
    const manifest: BuildManifest = {
      recipe: 'debian12',
      recipe_version: R.RECIPE_VERSION,
      key,
      source_date_epoch: o.epoch,
      file: 'disk.raw.zst',
      raw: { size: packed.sourceSize, sha256: packed.sourceSha256 },
      zst: { size: packed.size, sha256: packed.sha256, level: o.zstdLevel },
      packages,
      seconds: Math.round((Date.now() - started) / 1000),
    };
    await fsp.rename(zst, path.join(o.outDir, manifest.file));
    await fsp.writeFile(path.join(o.outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    return { manifest, file: path.join(o.outDir, manifest.file), reused: false };
  } finally {
    await fsp.rm(work, { recursive: true, force: true });
  }
}

/** Defaults the CLI starts from. */
export const BUILD_DEFAULTS = {
  mirror: R.DEFAULT_MIRROR,
  securityMirror: R.DEFAULT_SECURITY_MIRROR,
  epoch: R.DEFAULT_SOURCE_DATE_EPOCH,
  components: ['main'],
  zstdLevel: DEFAULT_ZSTD_LEVEL,
};
