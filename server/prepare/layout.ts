/**
 * Where prepared artifacts live, and where the serving side looks for them, in order. Prepared
 * artifacts go into the data dir (`crashcart prepare`, `bundle import`, `microkernel import`);
 * resources inside a package or a checkout are read-only fallbacks (issue 12):
 *
 *   loaders:     <data-dir>/loaders/             then <root>/resources/ipxe/
 *   microkernel: <data-dir>/microkernel/<arch>/  then <data-dir>/microkernel/ (amd64, imported before
 *                issue 12), <root>/resources/microkernel/<arch>/ (a package), <root>/build/out/<build dir>
 *                (a checkout after `npm run build:microkernel`).
 *
 * Pure: paths only, no file access.
 */
import path from 'node:path';

/** Architectures a microkernel is prepared for (Debian's names, as `build:microkernel --arch` takes them). */
export const MICROKERNEL_ARCHES = ['amd64', 'arm64'] as const;
/** One microkernel architecture. */
export type MicrokernelArch = (typeof MICROKERNEL_ARCHES)[number];

/** Folder of the build output per architecture (build/microkernel/build.mjs: amd64 keeps its historic name). */
const BUILD_DIRS: Readonly<Record<MicrokernelArch, string>> = Object.freeze({ amd64: 'microkernel', arm64: 'microkernel-arm64' });

/** `<data-dir>/loaders`: the first-stage loaders `prepare` installs (flat: shim finds GRUB beside itself). */
export function loadersDir(dataDir: string): string {
  return path.join(dataDir, 'loaders');
}

/** `<data-dir>/microkernel/<arch>`: a prepared (or imported) microkernel. */
export function preparedMicrokernelDir(dataDir: string, arch: MicrokernelArch): string {
  return path.join(dataDir, 'microkernel', arch);
}

/** `<data-dir>/microkernel`: where `microkernel import` put the (amd64) microkernel before issue 12. */
export function legacyMicrokernelDir(dataDir: string): string {
  return path.join(dataDir, 'microkernel');
}

/** `<root>/resources/ipxe`: the loaders a package carries, or a checkout's (scripts/fetch-ipxe.sh). */
export function shippedLoadersDir(root: string): string {
  return path.join(root, 'resources', 'ipxe');
}

/** `<root>/resources/microkernel/<arch>`: the microkernel a package carries. */
export function shippedMicrokernelDir(root: string, arch: MicrokernelArch): string {
  return path.join(root, 'resources', 'microkernel', arch);
}

/** `<root>/build/out/microkernel[-arm64]`: a checkout's build output. */
export function builtMicrokernelDir(root: string, arch: MicrokernelArch): string {
  return path.join(root, 'build', 'out', BUILD_DIRS[arch]);
}

/** Folders TFTP and the node plane's `/ipxe/` serve loaders from, first match wins. */
export function loaderRoots(dataDir: string, root: string): string[] {
  return [loadersDir(dataDir), shippedLoadersDir(root)];
}

/** Folders a microkernel of `arch` is looked for in, first complete one wins. */
export function microkernelCandidates(dataDir: string, root: string, arch: MicrokernelArch): string[] {
  return [
    preparedMicrokernelDir(dataDir, arch),
    ...(arch === 'amd64' ? [legacyMicrokernelDir(dataDir)] : []),
    shippedMicrokernelDir(root, arch),
    builtMicrokernelDir(root, arch),
  ];
}

/** Default cache of `prepare` (apt lists, .debs, build inputs): inside the data dir, never bundled. */
export function defaultCacheDir(dataDir: string): string {
  return path.join(dataDir, 'cache');
}
