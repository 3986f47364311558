/**
 * Real tools the disk-image tests drive (mkfs.vfat, mtools, mke2fs, sgdisk, sfdisk, zstd, qemu-img, ...),
 * with a failure that names the Debian package to install.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian package of each tool the tests run. */
const PACKAGE: Record<string, string> = {
  'mkfs.vfat': 'dosfstools',
  mcopy: 'mtools',
  mmd: 'mtools',
  mke2fs: 'e2fsprogs',
  'mkfs.ext4': 'e2fsprogs',
  sgdisk: 'gdisk',
  sfdisk: 'fdisk',
  zstd: 'zstd',
  xz: 'xz-utils',
  'qemu-img': 'qemu-utils',
  xorriso: 'xorriso',
};

/** Run a tool, returning stdout; throws with the tool's stderr and the package to install. */
export function run(tool: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): string {
  try {
    return execFileSync(tool, args, {
      encoding: 'utf8',
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      input: opts.input,
      env: { ...process.env, MTOOLS_SKIP_CHECK: '1', ...opts.env },
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    const pkg = PACKAGE[tool];
    if (err.code === 'ENOENT')
      throw new Error(`${tool} is not installed\n  fix: apt-get install ${pkg ?? tool} (or: bash scripts/ensure-test-deps.sh)`);
    throw new Error(`${tool} ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

/** A fresh temporary directory (removed by the caller's afterAll). */
export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cc-images-${tag}-${process.pid}-`));
}

/** Write files (path -> content) under `root`, creating folders. */
export function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [p, c] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), c);
  }
}
