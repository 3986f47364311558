/**
 * Debian packages downloaded with the host's own apt-get and a private configuration: a sources list,
 * package lists and an archive cache of our own under `dir`, no dpkg status, amd64 and arm64 indexes.
 * The host's apt configuration and dpkg database are never changed and nothing is installed
 * (PXE-NOTES, "arm64"). apt checks the index signatures with Debian's archive keyring; the caller
 * then checks each .deb against its pinned sha256.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { ccError } from '../../errors/cc-error.ts';
import type { DebPin } from './artifact.ts';

const run = promisify(execFile);

/** Debian 12 (bookworm) is the release the pins come from; point releases land in bookworm itself. */
const SUITES = ['bookworm', 'bookworm-updates'] as const;
const SECURITY_SUITE = 'bookworm-security';
/** Where Debian's archive signing keys live (package debian-archive-keyring). */
export const DEBIAN_KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Lists younger than this are reused: a rerun within a day needs no index download. */
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;
/** apt-get gets this long per call; an index update is about 30 MB. */
const APT_TIMEOUT_MS = 15 * 60 * 1000;

/** Mirrors the private configuration reads (defaults: Debian's CDN). */
export interface AptMirrors {
  /** Base URL of the Debian archive, e.g. http://deb.debian.org/debian or a snapshot.debian.org archive. */
  readonly mirror?: string;
  /** Base URL of the security archive. */
  readonly securityMirror?: string;
}

/** The .deb file name apt-get download gives a package (`:` of an epoch escaped as %3a). */
export function debFileName(pin: DebPin): string {
  return `${pin.package}_${pin.version.replace(/:/g, '%3a')}_${pin.arch}.deb`;
}

/** A private apt environment rooted in one folder. */
export class PrivateApt {
  private readonly dir: string;
  private readonly mirrors: AptMirrors;
  private readonly onUpdate: () => void;
  private updatedThisRun = false;

  /** `dir` holds sources.list, lists/ and cache/ (created on first use); `onUpdate` hears each index download. */
  constructor(dir: string, mirrors: AptMirrors = {}, onUpdate: () => void = () => {}) {
    this.dir = dir;
    this.mirrors = mirrors;
    this.onUpdate = onUpdate;
  }

  /** apt-get/apt-cache options that point every state and config path into `dir`. */
  private options(): string[] {
    const o: [string, string][] = [
      ['Dir::Etc::sourcelist', path.join(this.dir, 'sources.list')],
      ['Dir::Etc::sourceparts', path.join(this.dir, 'empty')],
      ['Dir::Etc::preferencesparts', path.join(this.dir, 'empty')],
      ['Dir::State::Lists', path.join(this.dir, 'lists')],
      ['Dir::Cache', path.join(this.dir, 'cache')],
      ['Dir::State::status', '/dev/null'],
      ['APT::Architecture', 'amd64'],
      ['APT::Architectures::', 'amd64'],
      ['APT::Architectures::', 'arm64'],
      ['Acquire::Languages', 'none'],
    ];
    // As root apt drops to the `_apt` user for downloads, which cannot write into our folders.
    if (process.getuid?.() === 0) o.push(['APT::Sandbox::User', 'root']);
    return o.flatMap(([k, v]) => ['-o', `${k}=${v}`]);
  }

  /** Write the sources list and the folders apt expects. */
  private async setUp(): Promise<void> {
    if (!existsSync(DEBIAN_KEYRING)) throw ccError('CC_ERR_LOADER_TOOLS', `${DEBIAN_KEYRING} is missing (package debian-archive-keyring)`);
    for (const d of ['lists/partial', 'cache/archives/partial', 'empty']) await mkdir(path.join(this.dir, d), { recursive: true });
    const mirror = this.mirrors.mirror ?? 'http://deb.debian.org/debian';
    const security = this.mirrors.securityMirror ?? 'http://deb.debian.org/debian-security';
    const lines = [
      ...SUITES.map((s) => `deb [signed-by=${DEBIAN_KEYRING}] ${mirror} ${s} main`),
      `deb [signed-by=${DEBIAN_KEYRING}] ${security} ${SECURITY_SUITE} main`,
    ];
    await writeFile(path.join(this.dir, 'sources.list'), lines.join('\n') + '\n');
  }

  /** Run apt-get with the private options; failures become catalog errors naming the fix. */
  private async aptGet(args: string[], cwd?: string): Promise<void> {
    try {
      await run('apt-get', [...this.options(), '-q', ...args], {
        cwd,
        env: { ...process.env, LC_ALL: 'C' },
        timeout: APT_TIMEOUT_MS,
        maxBuffer: 16 << 20,
      });
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') throw ccError('CC_ERR_LOADER_TOOLS', 'apt-get is not installed');
      const why = (err.stderr ?? err.message).trim().split('\n').slice(-3).join(' | ');
      throw ccError('CC_ERR_LOADER_FETCH', `apt-get ${args[0]}: ${why}`);
    }
  }

  /** Download the package indexes unless this run already did or they are less than a day old. */
  async ensureLists(force = false): Promise<boolean> {
    await this.setUp();
    const stamp = path.join(this.dir, 'lists.stamp');
    const age = await stat(stamp).then(
      (s) => Date.now() - s.mtimeMs,
      () => Infinity,
    );
    if (this.updatedThisRun || (!force && age < LISTS_MAX_AGE_MS)) return false;
    this.onUpdate();
    await this.aptGet(['update']);
    await writeFile(stamp, new Date().toISOString() + '\n');
    this.updatedThisRun = true;
    return true;
  }

  /**
   * Download the pinned packages into `destDir` with one apt-get call (apt reads its ~40 MB of lists
   * once per call) and return their paths. The caller checks the sha256s. A version missing from
   * day-old lists is retried once after refreshing them.
   */
  async download(pins: readonly DebPin[], destDir: string): Promise<string[]> {
    if (pins.length === 0) return [];
    await this.ensureLists();
    // An `all` package has no `:arch` qualifier of its own; apt maps it to the native architecture.
    const specs = pins.map((p) => `${p.package}${p.arch === 'all' ? '' : `:${p.arch}`}=${p.version}`);
    await mkdir(destDir, { recursive: true });
    const tmp = await mkdtemp(path.join(destDir, '.download-'));
    try {
      try {
        await this.aptGet(['download', ...specs], tmp);
      } catch (e) {
        if (!(await this.ensureLists(true))) throw e;
        await this.aptGet(['download', ...specs], tmp);
      }
      const got = new Set(await readdir(tmp));
      const out: string[] = [];
      for (const pin of pins) {
        const name = debFileName(pin);
        if (!got.has(name)) throw ccError('CC_ERR_LOADER_FETCH', `apt-get download did not produce ${name}`);
        await rename(path.join(tmp, name), path.join(destDir, name));
        out.push(path.join(destDir, name));
      }
      return out;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
}
