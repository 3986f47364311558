/**
 * What package repository an unpacked ISO tree holds, decided from its entry list: Debian-style archives
 * have `dists/SUITE/Release` (or `InRelease`) next to `pool/` (Debian Repository Format, "dists"); RPM
 * repositories have `repodata/repomd.xml`, at the root (a plain repository) or one folder down (RHEL-family
 * DVDs: `BaseOS/`, `AppStream/`), and an Anaconda installation tree has `.treeinfo` at its root. Pure.
 */
import type { IsoEntry } from './iso-walk.ts';

/** The repository found, or null. */
export interface DetectedRepo {
  kind: 'deb' | 'rpm';
  suites: string[];
  repos: string[];
  installTree: boolean;
}

/** Detect the repository in a tree's entries. */
export function detectRepo(entries: readonly IsoEntry[]): DetectedRepo | null {
  const files = new Set(entries.filter((e) => e.kind === 'file').map((e) => e.path));
  const suites = entries
    .filter((e) => e.kind === 'dir' && /^dists\/[^/]+$/.test(e.path))
    .map((e) => e.path.slice('dists/'.length))
    .filter((s) => files.has(`dists/${s}/Release`) || files.has(`dists/${s}/InRelease`))
    .sort();
  if (suites.length) return { kind: 'deb', suites, repos: [], installTree: false };
  const repos = [...files]
    .map((f) => /^(?:([^/]+)\/)?repodata\/repomd\.xml$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => m[1] ?? '')
    .sort();
  if (repos.length) return { kind: 'rpm', suites: [], repos, installTree: files.has('.treeinfo') };
  return null;
}
