/**
 * Which microkernel a booting machine gets: its architecture as the boot loader names it (iPXE's
 * `${buildarch}`, GRUB's `$grub_cpu`) picks the folder, and the node plane serves each architecture under
 * its own URL folder (`/mk/` for amd64, as before; `/mk/arm64/`).
 */
import { findMicrokernel, microkernelArch, REPO_ROOT, type MicrokernelAssets } from './microkernel-assets.ts';
import { servingMicrokernelDirs } from '../prepare/layout.ts';

/** Architectures a microkernel is built for (Debian's names). */
export type MkArch = 'amd64' | 'arm64';

/** Every architecture a microkernel can be built for, in the order `doctor` lists them. */
export const MICROKERNEL_ARCHES: readonly MkArch[] = ['amd64', 'arm64'];

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

/**
 * The complete microkernel of `arch` to serve, or null: the first complete folder of the one list
 * (server/prepare/layout.ts servingMicrokernelDirs), so what `prepare` put in the data dir is served.
 */
export function findMicrokernelFor(dataDir: string, flagDir: string | null, arch: MkArch): MicrokernelAssets | null {
  for (const d of servingMicrokernelDirs(dataDir, REPO_ROOT, flagDir, arch)) {
    const mk = findMicrokernel(dataDir, d);
    if (mk) return mk;
  }
  return null;
}

/** Readiness of every architecture's microkernel, for `crashcart doctor` and `serve`'s start-up summary. */
export function microkernelReadiness(
  dataDir: string,
  flagDir: string | null,
): { arch: MkArch; ready: boolean; dir: string | null; version: string | null }[] {
  return MICROKERNEL_ARCHES.map((arch) => {
    const mk = findMicrokernelFor(dataDir, flagDir, arch);
    return { arch, ready: mk !== null, dir: mk?.dir ?? null, version: mk?.version ?? null };
  });
}
