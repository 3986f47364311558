/**
 * Which microkernel this appliance would serve per architecture, from where, its version and size,
 * and whether its files match the sha256s its own manifest records (the build writes them). The
 * folders are searched in the order the node plane uses (`findMicrokernel`, server/prepare/layout.ts).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  MICROKERNEL_ARCHES,
  legacyMicrokernelDir,
  microkernelCandidates,
  preparedMicrokernelDir,
  shippedMicrokernelDir,
  type MicrokernelArch,
} from '../layout.ts';
import { besideFlagDir, microkernelDirsFor } from '../../boot/microkernel-select.ts';
import type { HashCache } from './hash-cache.ts';

/** Where a microkernel was found. */
export type MicrokernelSource = 'flag' | 'data-dir' | 'package' | 'build';

/** One architecture's microkernel as found. */
export interface MicrokernelState {
  arch: MicrokernelArch;
  /** verified: files match the manifest; unverified: no manifest digests to check; mismatch; missing. */
  status: 'verified' | 'unverified' | 'mismatch' | 'missing';
  dir: string | null;
  source: MicrokernelSource | null;
  version: string | null;
  /** vmlinuz + initrd.img. */
  bytes: number;
  files: { name: string; bytes: number; sha256: string | null }[];
  /** Why it does not verify. */
  problem?: string;
}

/** The manifest fields read here (build/microkernel/build.mjs writes more). */
interface Manifest {
  version?: string;
  files?: Record<string, { bytes?: number; sha256?: string }>;
  initrd?: { sha256?: string };
}

const BOOT_FILES = ['vmlinuz', 'initrd.img'] as const;
/** Kernel files a microkernel may have besides (amd64: Debian's kernel behind a zstd stub, for iPXE). */
const OPTIONAL_FILES = ['vmlinuz-zstd'] as const;

async function readManifest(dir: string): Promise<Manifest | null> {
  try {
    const v = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as unknown;
    return v && typeof v === 'object' ? (v as Manifest) : null;
  } catch {
    return null;
  }
}

async function complete(dir: string): Promise<boolean> {
  for (const f of BOOT_FILES) if (!(await fs.lstat(path.join(dir, f)).catch(() => null))?.isFile()) return false;
  return true;
}

/** Inspect one folder that holds vmlinuz and initrd.img. */
export async function inspectMicrokernelDir(
  dir: string,
  arch: MicrokernelArch,
  source: MicrokernelSource,
  hashes: HashCache,
): Promise<MicrokernelState> {
  const m = await readManifest(dir);
  const files: MicrokernelState['files'] = [];
  const wrong: string[] = [];
  let checked = 0;
  /** Record one file and compare it with the manifest; true when the manifest has a sha256 for it. */
  const inspect = async (f: string, st: { size: number }): Promise<boolean> => {
    const p = path.join(dir, f);
    const sha = await hashes.sha256(p);
    files.push({ name: f, bytes: st.size, sha256: sha });
    const want = m?.files?.[f];
    if (!want?.sha256) return false;
    if (want.sha256 !== sha || (want.bytes !== undefined && want.bytes !== st.size)) wrong.push(f);
    return true;
  };
  for (const f of BOOT_FILES) if (await inspect(f, await fs.stat(path.join(dir, f)))) checked++;
  const bytes = files.reduce((n, f) => n + f.bytes, 0);
  // Optional files are checked when present: a wrong vmlinuz-zstd is what iPXE would boot.
  for (const f of OPTIONAL_FILES) {
    const st = await fs.stat(path.join(dir, f)).catch(() => null);
    if (st?.isFile()) await inspect(f, st);
  }
  const version = m?.version ?? m?.initrd?.sha256?.slice(0, 12) ?? 'unversioned';
  const base = { arch, dir, source, version, bytes, files };
  if (wrong.length > 0) return { ...base, status: 'mismatch', problem: `${wrong.join(', ')} differ from manifest.json` };
  if (checked < BOOT_FILES.length) return { ...base, status: 'unverified', problem: 'manifest.json records no sha256 to check' };
  return { ...base, status: 'verified' };
}

/** Find and inspect the microkernel of `arch` the way the node plane finds it. */
export async function inspectMicrokernel(
  dataDir: string,
  root: string,
  flagDir: string | null,
  arch: MicrokernelArch,
  hashes: HashCache,
): Promise<MicrokernelState> {
  const prepared = new Set([preparedMicrokernelDir(dataDir, arch), legacyMicrokernelDir(dataDir)]);
  // The serving side's own list (microkernel-select.ts), so doctor reports what machines will get.
  const dirs = microkernelDirsFor(dataDir, flagDir, arch, root);
  const own = new Set(microkernelCandidates(dataDir, root, arch));
  for (const dir of dirs) {
    if (!(await complete(dir))) continue;
    const fromFlag = flagDir !== null && (arch === 'amd64' || (dir === besideFlagDir(flagDir, arch) && !own.has(dir)));
    const source: MicrokernelSource = fromFlag
      ? 'flag'
      : prepared.has(dir)
        ? 'data-dir'
        : dir === shippedMicrokernelDir(root, arch)
          ? 'package'
          : 'build';
    return inspectMicrokernelDir(dir, arch, source, hashes);
  }
  return { arch, status: 'missing', dir: null, source: null, version: null, bytes: 0, files: [] };
}

/** Every architecture's microkernel. */
export async function inspectMicrokernels(
  dataDir: string,
  root: string,
  flagDir: string | null,
  hashes: HashCache,
): Promise<MicrokernelState[]> {
  const out: MicrokernelState[] = [];
  for (const arch of MICROKERNEL_ARCHES) out.push(await inspectMicrokernel(dataDir, root, flagDir, arch, hashes));
  return out;
}
