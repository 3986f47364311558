/**
 * Real Debian installer netboot kernel + initrd for the install step, from Debian's
 * debian-installer-12-netboot-amd64 package (apt-get download + dpkg-deb -x, cached under build/out/cache).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

const PKG = 'debian-installer-12-netboot-amd64';
/** Where the package keeps the text-mode netboot kernel and initrd. */
const IMAGE_DIR = 'usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64';

/** Paths of the installer's `linux` and `initrd.gz`, fetching the package on first use. */
export function debianInstaller(cacheDir: string): { kernel: string; initrd: string; deb: string } {
  const dir = path.join(cacheDir, 'debian-installer');
  mkdirSync(dir, { recursive: true });
  let deb = readdirSync(dir).find((f) => f.startsWith(PKG) && f.endsWith('.deb'));
  if (!deb) {
    console.log(`[e2e] downloading ${PKG} (once; cached in ${dir})`);
    try {
      execFileSync('apt-get', ['download', PKG], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(
        `apt-get download ${PKG} failed: ${(e as { stderr?: Buffer }).stderr?.toString() ?? e}\n  fix: run apt-get update (the package is in Debian 12 main)`,
      );
    }
    deb = readdirSync(dir).find((f) => f.startsWith(PKG) && f.endsWith('.deb'));
    if (!deb) throw new Error(`apt-get download ${PKG} produced no .deb in ${dir}\n  fix: run apt-get update and retry`);
  }
  const root = path.join(dir, 'root');
  const kernel = path.join(root, IMAGE_DIR, 'linux');
  const initrd = path.join(root, IMAGE_DIR, 'initrd.gz');
  if (!existsSync(kernel) || !existsSync(initrd)) {
    execFileSync('dpkg-deb', ['-x', path.join(dir, deb), root]);
    if (!existsSync(kernel) || !existsSync(initrd))
      throw new Error(`${deb} has no ${IMAGE_DIR}/{linux,initrd.gz}\n  fix: delete ${dir} and rerun`);
  }
  return { kernel, initrd, deb };
}
