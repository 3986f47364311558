/**
 * Real Debian installer netboot kernel + initrd for the install step, from Debian's
 * debian-installer-12-netboot-amd64 package. scripts/deps/e2e.txt installs it (ensure-test-deps), so the files
 * are read where the package puts them; no download at test time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

const PKG = 'debian-installer-12-netboot-amd64';
/** Where the package keeps the text-mode netboot kernel and initrd. */
const IMAGE_DIR = '/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';

/** Paths of the installer's `linux` and `initrd.gz`, and the package version they came from. */
export function debianInstaller(): { kernel: string; initrd: string; version: string } {
  const kernel = path.join(IMAGE_DIR, 'linux');
  const initrd = path.join(IMAGE_DIR, 'initrd.gz');
  if (!existsSync(kernel) || !existsSync(initrd)) {
    throw new Error(
      `${PKG} is not installed (no ${IMAGE_DIR}/{linux,initrd.gz})\n  fix: bash scripts/ensure-test-deps.sh (as root), or apt-get update && apt-get install ${PKG}`,
    );
  }
  const version = execFileSync('dpkg-query', ['-W', '-f=${Version}', PKG], { encoding: 'utf8' }).trim();
  return { kernel, initrd, version };
}
