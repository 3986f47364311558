/**
 * Where the discovery microkernel comes from: `--microkernel` alone when given, else the data dir
 * (`crashcart prepare` / `microkernel import`), then what a package or a build carries
 * (server/prepare/layout.ts lists the folders in order).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { microkernelCandidates, type MicrokernelArch } from '../prepare/layout.ts';

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
}

const complete = (dir: string) => fs.existsSync(path.join(dir, 'vmlinuz')) && fs.existsSync(path.join(dir, 'initrd.img'));

/** Find the microkernel to serve for `arch` (checked on every boot, so an import takes effect at once). */
export function findMicrokernel(dataDir: string, flagDir: string | null, arch: MicrokernelArch = 'amd64'): MicrokernelAssets | null {
  // An explicit --microkernel (the x86 one) is the only place looked at (no silent fallback).
  const dirs = flagDir && arch === 'amd64' ? [flagDir] : microkernelCandidates(dataDir, REPO_ROOT, arch);
  for (const dir of dirs) {
    if (!complete(dir)) continue;
    let version = 'unversioned';
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { version?: string; initrd?: { sha256?: string } };
      version = m.version ?? m.initrd?.sha256?.slice(0, 12) ?? version;
    } catch {
      /* manifest is optional */
    }
    return { dir, version };
  }
  return null;
}
