/**
 * Where the discovery microkernel comes from: `--microkernel` alone when given, else the data dir
 * (`crashcart prepare` / `microkernel import`), then what a package or a build carries
 * (server/prepare/layout.ts lists the folders in order).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { microkernelCandidates } from '../prepare/layout.ts';

/** The install root (holds package.json, resources/, build/out): found by walking up, so sources and the dist bundle agree. */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'resources'))) return dir;
    dir = path.dirname(dir);
  }
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
})();

/** A usable microkernel. */
export interface MicrokernelAssets {
  dir: string;
  version: string;
  /**
   * The kernel file iPXE boots: `vmlinuz-zstd` (Debian's kernel behind a zstd boot stub, build/microkernel/kernel-stub.mjs)
   * when the manifest lists it and it is there, else `vmlinuz`. shim/GRUB always boot `vmlinuz`, Debian's signed file.
   */
  ipxeKernel: IpxeKernel;
}

/** The kernel files iPXE may be given. */
export type IpxeKernel = 'vmlinuz' | 'vmlinuz-zstd';

const complete = (dir: string) => fs.existsSync(path.join(dir, 'vmlinuz')) && fs.existsSync(path.join(dir, 'initrd.img'));

/** Find the microkernel to serve for `arch` (checked on every boot, so an import takes effect at once). */
export function findMicrokernel(dataDir: string, flagDir: string | null, arch: MicrokernelArch = 'amd64'): MicrokernelAssets | null {
  // An explicit --microkernel (the x86 one) is the only place looked at (no silent fallback).
  const dirs = flagDir && arch === 'amd64' ? [flagDir] : microkernelCandidates(dataDir, REPO_ROOT, arch);
  for (const dir of dirs) {
    if (!complete(dir)) continue;
    return { dir, ...manifestFacts(dir) };
  }
  return null;
}

/** The kernel file iPXE boots from the microkernel folder `dir` (benches boot what machines boot). */
export function ipxeKernelOf(dir: string): IpxeKernel {
  return manifestFacts(dir).ipxeKernel;
}

/** What a folder's manifest says that boots need. */
interface ManifestFacts {
  version: string;
  ipxeKernel: IpxeKernel;
}

/** Facts read from manifest files, by path, with the stat that identifies the file version they came from. */
const manifestCache = new Map<string, { stat: string; facts: ManifestFacts }>();

/**
 * The version a folder's manifest.json names ('unversioned' without one), and the kernel iPXE boots. Every boot
 * asks (three times per machine: /boot, kernel, initrd), so the parsed answer is kept until the file's device,
 * inode, size or times change: a stat(2) instead of reading and parsing 14 KB of JSON, and an import is still
 * seen at once (an import replaces the folder, manifest included).
 */
function manifestFacts(dir: string): ManifestFacts {
  const file = path.join(dir, 'manifest.json');
  let stat: string;
  try {
    const st = fs.statSync(file);
    stat = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch {
    return { version: 'unversioned', ipxeKernel: 'vmlinuz' }; // manifest is optional
  }
  const kept = manifestCache.get(file);
  if (kept?.stat === stat) return kept.facts;
  const facts: ManifestFacts = { version: 'unversioned', ipxeKernel: 'vmlinuz' };
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      version?: string;
      initrd?: { sha256?: string };
      files?: Record<string, unknown>;
    };
    facts.version = m.version ?? m.initrd?.sha256?.slice(0, 12) ?? facts.version;
    // Listed and present: a folder copied without it (or an older build) boots Debian's vmlinuz, as before.
    if (m.files?.['vmlinuz-zstd'] && fs.existsSync(path.join(dir, 'vmlinuz-zstd'))) facts.ipxeKernel = 'vmlinuz-zstd';
  } catch {
    /* unreadable or not JSON: unversioned, as without one */
  }
  manifestCache.set(file, { stat, facts });
  return facts;
}

/** Architectures a microkernel is built for (Debian's names, as `npm run build:microkernel -- --arch` takes them). */
export type MicrokernelArch = 'amd64' | 'arm64';

/**
 * Folder of each architecture's microkernel, the same under build/out/ and the data dir: amd64 keeps the
 * historic `microkernel`, others get a suffix. build/microkernel/arch.mjs writes there (a test keeps both in step).
 */
export const MICROKERNEL_DIRS: Readonly<Record<MicrokernelArch, string>> = Object.freeze({
  amd64: 'microkernel',
  arm64: 'microkernel-arm64',
});

/**
 * The microkernel architecture for what a machine calls itself: iPXE's `${buildarch}` (i386, x86_64, arm64),
 * `uname -m` (x86_64, aarch64) or Debian's name; null when no microkernel can run there. `i386` maps to amd64:
 * BIOS `undionly.kpxe` is a 32-bit iPXE on every x86 machine, and no server that PXE-boots today lacks 64-bit.
 */
export function microkernelArch(name: string): MicrokernelArch | null {
  switch (name.toLowerCase()) {
    case 'amd64':
    case 'x86_64':
    case 'x64':
    case 'i386':
      return 'amd64';
    case 'arm64':
    case 'aarch64':
      return 'arm64';
    default:
      return null;
  }
}

/** Where the microkernel for `arch` lives under `base` (build/out or the data dir); pure, no file access. */
export function microkernelDirFor(arch: MicrokernelArch, base: string): string {
  return path.join(base, MICROKERNEL_DIRS[arch]);
}
