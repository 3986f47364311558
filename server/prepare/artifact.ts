/**
 * One thing `crashcart prepare` makes ready in a data dir: a first-stage loader, a microkernel of
 * one architecture, a disk image. Each is one entry of the registry (registry.ts) with one job:
 * make itself present in the target, reporting progress on its own line, and say what it did.
 */
import type { Prepared } from '../../contract/prepared.ts';
import type { HashCache } from './inventory/hash-cache.ts';
import type { InstallTarget } from './targets.ts';

/** What an artifact's progress line shows. */
export interface LineUpdate {
  /** Short state word: checking, downloading, building, installing, present, installed, failed, unavailable. */
  state: string;
  detail?: string;
  /** Bytes so far and in all, when known (shown as a bar and a percentage). */
  done?: number;
  total?: number;
}

/** Everything an entry may use. */
export interface PrepareEnv {
  target: InstallTarget;
  /** What the data dir held when the run started. */
  prepared: Prepared;
  /** The install root (REPO_ROOT): resources/, build scripts. */
  root: string;
  /** prepare's own cache (apt lists, .debs, staging). */
  cacheDir: string;
  /** The microkernel build's apt cache (`--build-cache`; default inside cacheDir). */
  buildCacheDir: string;
  mirror?: string;
  securityMirror?: string;
  /** Rebuild or refetch even when present. */
  rebuild: boolean;
  hashes: HashCache;
  /** Report progress on entry `id`'s line. */
  progress(id: string, u: LineUpdate): void;
}

/** How one entry ended. */
export interface PrepareOutcome {
  status: 'present' | 'installed' | 'failed' | 'unavailable';
  /** What is there now, or what went wrong. */
  detail: string;
  /** Size in the data dir. */
  bytes?: number;
  /** The catalog error of a failure, with its fix. */
  error?: { code: string; message: string; fix: string };
}

/** One registry entry. */
export interface PrepareArtifact {
  /** `loader:ipxe-bios`, `microkernel:amd64`, `image:debian12`. */
  id: string;
  label: string;
  kind: 'loader' | 'microkernel' | 'image';
  /** Whether making it needs root (the summary and docs/prepare.md say so). */
  needsRoot: boolean;
  run(env: PrepareEnv): Promise<PrepareOutcome>;
}
