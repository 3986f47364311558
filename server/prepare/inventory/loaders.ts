/**
 * Which first-stage loaders this appliance would serve, from where, and whether each file is the
 * pinned build. The roots are searched in serving order (data dir, then the package's resources,
 * then `--tftp-root`), and only the first root holding a name counts: that is the file TFTP sends.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LoaderArch, LoaderArtifact } from '../loaders/artifact.ts';
import { LOADERS } from '../loaders/registry.ts';
import type { HashCache } from './hash-cache.ts';

/** Where a root comes from, for the table ("in the data dir"). */
export type LoaderRootKind = 'data-dir' | 'package' | 'tftp-root';

/** One folder loaders are served from. */
export interface LoaderRoot {
  dir: string;
  kind: LoaderRootKind;
  /** Files here are checked against the registry's pins (a `--tftp-root` may hold the operator's own builds). */
  pinned: boolean;
}

/** One file of a loader as found. */
export interface LoaderFileState {
  name: string;
  /** verified: the pinned bytes; custom: an unpinned root's own file; mismatch: not the pinned bytes; missing. */
  status: 'verified' | 'custom' | 'mismatch' | 'missing';
  where: LoaderRootKind | null;
  path: string | null;
  bytes: number | null;
}

/** One loader artifact as found. */
export interface LoaderState {
  name: string;
  arch: LoaderArch;
  bootFile: string;
  secureBoot: boolean;
  summary: string;
  files: LoaderFileState[];
  /** Every file verified or custom. */
  ready: boolean;
}

async function findFile(roots: readonly LoaderRoot[], name: string, pin: { sha256: string; bytes: number }, hashes: HashCache) {
  for (const root of roots) {
    const p = path.join(root.dir, name);
    const st = await fs.lstat(p).catch(() => null);
    if (!st) continue;
    // A symlink or folder under a loader's name is never what firmware should get.
    if (!st.isFile()) return { name, status: 'mismatch', where: root.kind, path: p, bytes: null } as const;
    if (!root.pinned) return { name, status: 'custom', where: root.kind, path: p, bytes: st.size } as const;
    const ok = st.size === pin.bytes && (await hashes.sha256(p)) === pin.sha256;
    return { name, status: ok ? 'verified' : 'mismatch', where: root.kind, path: p, bytes: st.size } as const;
  }
  return { name, status: 'missing', where: null, path: null, bytes: null } as const;
}

/** Inspect every artifact (default: the whole registry) across `roots`, in registry order. */
export async function inspectLoaders(
  roots: readonly LoaderRoot[],
  hashes: HashCache,
  artifacts: readonly LoaderArtifact[] = LOADERS,
): Promise<LoaderState[]> {
  const out: LoaderState[] = [];
  for (const a of artifacts) {
    const files: LoaderFileState[] = [];
    for (const f of a.files) files.push(await findFile(roots, f.name, f, hashes));
    out.push({
      name: a.name,
      arch: a.arch,
      bootFile: a.bootFile,
      secureBoot: a.secureBoot,
      summary: a.summary,
      files,
      ready: files.every((f) => f.status === 'verified' || f.status === 'custom'),
    });
  }
  return out;
}
