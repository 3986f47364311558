/**
 * The registry's loaders installed the way `crashcart prepare` installs them (prepareLoaders: each .deb and each
 * file against its pin, the patches applied), from the loader cache scripts/ensure-test-deps.sh fills
 * (build/out/cache/loaders) and never from the network. For the tests and benches that need the files, not the
 * fetch (test/loaders/registry-fetch.test.ts covers the fetch, from a loopback mirror).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { LoaderArtifact, LoaderOutcome } from '../../server/prepare/loaders/artifact.ts';
import { prepareLoaders } from '../../server/prepare/loaders/prepare-loaders.ts';
import { debFileName } from '../../server/prepare/loaders/private-apt.ts';
import { cachedLoaderArchive } from './loopback-debian-mirror.ts';

/**
 * Where the private apt would look if a .deb were still missing after the check below: a `file:` archive that is
 * not there, so such a run fails (CC_ERR_LOADER_FETCH) without opening a socket, instead of falling back to
 * Debian's CDN, prepareLoaders' default.
 */
const NO_MIRROR = 'file:///nonexistent/crashcart-tests-use-the-loader-cache';

/** What `prepareCachedLoaders` needs. */
export interface CachedLoadersOptions {
  /** Folder the loader files are installed into. */
  readonly targetDir: string;
  /** Scratch folder for prepareLoaders' cache (a copy of the cached .debs, and its unpack folders). */
  readonly scratchDir: string;
  /** Artifacts to install (default: the whole registry); their packages must be the registry's. */
  readonly artifacts?: readonly LoaderArtifact[];
  /** The loader cache (default: the one ensure-test-deps fills). */
  readonly cacheDir?: string;
}

/**
 * Install `artifacts` into `targetDir` from the loader cache. Throws, naming every missing piece and the fix
 * (`bash scripts/ensure-test-deps.sh`), when the cache lacks any of it (cachedLoaderArchive, the check
 * ensure-test-deps itself runs). The pinned .debs are copied into `scratchDir`, so prepareLoaders finds each one
 * there and runs no apt, and the shared cache is never written (a private apt rewrites its sources list).
 */
export async function prepareCachedLoaders(o: CachedLoadersOptions): Promise<LoaderOutcome[]> {
  const { debs } = cachedLoaderArchive(o.cacheDir);
  const debDir = path.join(o.scratchDir, 'debs');
  mkdirSync(debDir, { recursive: true });
  for (const d of debs) copyFileSync(d.file, path.join(debDir, debFileName(d.pin)));
  return prepareLoaders({
    targetDir: o.targetDir,
    cacheDir: o.scratchDir,
    ...(o.artifacts ? { artifacts: o.artifacts } : {}),
    mirror: NO_MIRROR,
    securityMirror: NO_MIRROR,
  });
}
