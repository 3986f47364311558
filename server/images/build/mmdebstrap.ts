/**
 * Run mmdebstrap for an image recipe: the argument list is a pure function of the options (so a test
 * can check it and the cache key can hash it); running it streams mmdebstrap's stage lines and counts
 * the packages dpkg sets up, for the progress display. Its hooks (build/disk-image/*.sh) configure
 * the tree and pack it into an ext4 image; `format=null` because the tree is not wanted afterwards.
 */
import path from 'node:path';
import { runTool } from '../tool-run.ts';

/** What mmdebstrap is asked to do. */
export interface MmdebstrapOptions {
  suite: string;
  mirror: string;
  securityMirror: string;
  components: string[];
  packages: string[];
  dpkgExcludes: string[];
  dpkgIncludes: string[];
  /** Folder with customize.sh and pack-rootfs.sh. */
  hookDir: string;
  /** Where the hooks write boot.img, core.img, BOOTX64.EFI, root.ext4, packages.txt. */
  outDir: string;
  /** Downloaded .deb files kept between builds (sync-in before, sync-out after). */
  debCacheDir: string;
  env: Record<string, string>;
  /** `root` as root; `unshare` (user namespaces) otherwise. */
  mode: 'root' | 'unshare';
}

/** The mmdebstrap command line (pure). */
export function mmdebstrapArgs(o: MmdebstrapOptions): string[] {
  const sources = [
    `deb ${o.mirror} ${o.suite} ${o.components.join(' ')}`,
    `deb ${o.mirror} ${o.suite}-updates ${o.components.join(' ')}`,
    `deb ${o.securityMirror} ${o.suite}-security ${o.components.join(' ')}`,
  ];
  return [
    '--verbose',
    '--variant=minbase',
    `--mode=${o.mode}`,
    '--format=null',
    `--include=${o.packages.join(',')}`,
    // No fsync per unpacked file while building (a chroot build redone from scratch on failure);
    // pack-rootfs.sh drops this line again so the deployed system's dpkg is safe.
    '--dpkgopt=force-unsafe-io',
    // No translated package descriptions: nothing reads them.
    '--aptopt=Acquire::Languages "none"',
    ...o.dpkgExcludes.map((p) => `--dpkgopt=path-exclude=${p}`),
    ...o.dpkgIncludes.map((p) => `--dpkgopt=path-include=${p}`),
    // Keep downloaded packages for the next build (mmdebstrap's documented cache recipe).
    '--skip=essential/unlink',
    `--setup-hook=mkdir -p "$1"/var/cache/apt/archives/`,
    `--setup-hook=sync-in ${o.debCacheDir} /var/cache/apt/archives/`,
    `--customize-hook=${path.join(o.hookDir, 'customize.sh')}`,
    `--customize-hook=sync-out /var/cache/apt/archives ${o.debCacheDir}`,
    `--customize-hook=${path.join(o.hookDir, 'pack-rootfs.sh')}`,
    o.suite,
    '/dev/null',
    ...sources,
  ];
}

/** Run mmdebstrap; `onStage` gets the current stage and the running count of packages set up. */
export async function runMmdebstrap(o: MmdebstrapOptions, onStage: (stage: string, packagesSetUp: number) => void): Promise<number> {
  let setUp = 0;
  let stage = 'starting';
  await runTool('mmdebstrap', mmdebstrapArgs(o), {
    env: { ...process.env, ...o.env },
    code: 'CC_ERR_IMAGE_BUILD',
    what: 'mmdebstrap',
    onLine: (l) => {
      // mmdebstrap's own stage lines ("I: installing essential packages..."); maintainer scripts also
      // print "I: /vmlinuz is now a symlink ...", which are not stages.
      const m = /^I: ([a-z][^/]*)$/.exec(l);
      if (m) {
        stage = m[1]!.replace(/\.\.\.$/, '');
        onStage(stage, setUp);
      } else if (/^Setting up \S+/.test(l)) {
        setUp++;
        onStage(stage, setUp);
      }
    },
  });
  return setUp;
}
