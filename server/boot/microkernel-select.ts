/**
 * Which microkernel a booting machine gets: its architecture as the boot loader names it (iPXE's
 * `${buildarch}`, GRUB's `$grub_cpu`) picks the folder, and the node plane serves each architecture under
 * its own URL folder (`/mk/` for amd64, as before; `/mk/arm64/`).
 */
import path from 'node:path';
import { microkernelCandidates, preparedMicrokernelDir } from '../prepare/layout.ts';
import { findMicrokernel, microkernelArch, REPO_ROOT, type MicrokernelAssets } from './microkernel-assets.ts';

/** Architectures a microkernel is built for (Debian's names). */
export type MkArch = 'amd64' | 'arm64';

/** Every architecture a microkernel can be built for, in the order `doctor` lists them. */
export const MICROKERNEL_ARCHES: readonly MkArch[] = ['amd64', 'arm64'];

/** Folder name of each architecture's microkernel under build/out/ and the data dir (build/microkernel writes there). */
const DIR_NAME: Readonly<Record<MkArch, string>> = { amd64: 'microkernel', arm64: 'microkernel-arm64' };

/** URL folder of an architecture's microkernel on the node plane. */
export function microkernelUrlPath(arch: MkArch): string {
  return arch === 'amd64' ? '/mk' : `/mk/${arch}`;
}

/**
 * The architecture for what a boot loader calls the machine: iPXE `${buildarch}` (i386, x86_64, arm64),
 * GRUB `$grub_cpu` (x86_64, arm64, i386), or `uname -m`. i386 is amd64: the BIOS iPXE is a 32-bit build on
 * every x86 machine. No name at all is amd64, the common case. Null: nothing we build runs there.
 */
export function bootArch(name: string | null | undefined): MkArch | null {
  return microkernelArch(name ?? 'x86_64');
}

/** The folder beside `--microkernel` where another architecture's build sits (build/out/'s layout). */
export function besideFlagDir(flagDir: string, arch: MkArch): string {
  return path.join(path.dirname(path.resolve(flagDir)), DIR_NAME[arch]);
}

/**
 * Folders the microkernel of `arch` is looked for in, first complete one wins: the one list the serving side
 * (TFTP, node plane, boot scripts) and `doctor`'s readiness rows share. Without `--microkernel`: the data
 * dir (`prepare`, imports), a package's copy, the build output (server/prepare/layout.ts). With it, the flag
 * names the amd64 folder and is the only place for amd64 (no silent fallback); another architecture's
 * prepared copy in the data dir wins (the operator put it there), else the folder beside the flag (so one
 * flag serves a mixed rack), and nothing else.
 */
export function microkernelDirsFor(dataDir: string, flagDir: string | null, arch: MkArch, root: string = REPO_ROOT): string[] {
  if (flagDir && arch === 'amd64') return [flagDir];
  if (!flagDir) return microkernelCandidates(dataDir, root, arch);
  return [preparedMicrokernelDir(dataDir, arch), besideFlagDir(flagDir, arch)];
}

/** The complete microkernel of `arch` to serve, or null (the first complete folder of `microkernelDirsFor`). */
export function findMicrokernelFor(dataDir: string, flagDir: string | null, arch: MkArch): MicrokernelAssets | null {
  for (const d of microkernelDirsFor(dataDir, flagDir, arch)) {
    const mk = findMicrokernel(dataDir, d);
    if (mk) return mk;
  }
  return null;
}
