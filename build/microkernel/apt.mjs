// Debian packages for the microkernel, fetched with the host's own apt-get and a private configuration:
// a sources list with non-free-firmware enabled, and lists/archives under build/out/cache. The host's apt
// configuration and dpkg database are never touched, and nothing is installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Suites read by the build; bookworm-security carries the current kernel. */
const SUITES = ['bookworm', 'bookworm-updates'];
const SECURITY_SUITE = 'bookworm-security';
const COMPONENTS = 'main non-free-firmware';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** Package lists older than this are refreshed; inside the window a rebuild sees the same versions. */
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;

/** Fail with a message that says the fix. */
function fail(msg, fix) {
  const e = new Error(`${msg}\n  fix: ${fix}`);
  e.crashcartFix = fix;
  throw e;
}

/** A private apt environment rooted in `cacheDir`, for one Debian architecture (amd64, arm64). */
export class Apt {
  /** @param {string} cacheDir  @param {{arch: string, mirror?: string, securityMirror?: string, log: (s: string) => void}} opts */
  constructor(cacheDir, opts) {
    this.arch = opts.arch;
    // One lists directory per architecture: `apt-get update` with APT::Architecture=X drops other lists.
    this.dir = path.join(cacheDir, `apt-${this.arch}`);
    this.debDir = path.join(cacheDir, 'debs');
    this.unpackDir = path.join(cacheDir, 'unpacked');
    this.log = opts.log;
    const mirror = opts.mirror ?? 'http://deb.debian.org/debian';
    const sec = opts.securityMirror ?? 'http://deb.debian.org/debian-security';
    for (const d of [
      this.dir,
      path.join(this.dir, 'lists/partial'),
      path.join(this.dir, 'cache/archives/partial'),
      this.debDir,
      this.unpackDir,
    ]) {
      mkdirSync(d, { recursive: true });
    }
    if (!existsSync(KEYRING)) fail(`Debian archive keyring ${KEYRING} is missing`, 'apt-get install debian-archive-keyring');
    const lines = [
      ...SUITES.map((s) => `deb [signed-by=${KEYRING}] ${mirror} ${s} ${COMPONENTS}`),
      `deb [signed-by=${KEYRING}] ${sec} ${SECURITY_SUITE} ${COMPONENTS}`,
    ];
    this.sourcesList = path.join(this.dir, 'sources.list');
    writeFileSync(this.sourcesList, lines.join('\n') + '\n');
    this.opts = [
      '-o',
      `Dir::Etc::sourcelist=${this.sourcesList}`,
      '-o',
      `Dir::Etc::sourceparts=${path.join(this.dir, 'no-parts')}`,
      '-o',
      `Dir::State::Lists=${path.join(this.dir, 'lists')}`,
      '-o',
      `Dir::Cache=${path.join(this.dir, 'cache')}`,
      '-o',
      'Dir::State::status=/dev/null',
      '-o',
      `APT::Architecture=${this.arch}`,
      '-o',
      `APT::Architectures=${this.arch}`,
      '-o',
      'Debug::NoLocking=1',
      '-o',
      'APT::Sandbox::User=root',
    ];
    this.records = new Map();
  }

  /** Refresh the private package lists when missing, stale or asked for. */
  update(force) {
    const stamp = path.join(this.dir, 'lists.stamp');
    const fresh = existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < LISTS_MAX_AGE_MS;
    if (fresh && !force) {
      this.log(`apt: using package lists from ${new Date(statSync(stamp).mtimeMs).toISOString()} (--refresh to update)`);
      return;
    }
    this.log(`apt: updating private package lists (${this.arch}, main + non-free-firmware)`);
    const r = spawnSync('apt-get', [...this.opts, '-q', 'update'], { encoding: 'utf8' });
    if (r.error) fail(`cannot run apt-get: ${r.error.message}`, 'build on Debian 12 (bookworm) where apt-get is available');
    if (r.status !== 0) fail(`apt-get update failed:\n${r.stderr}`, 'check that deb.debian.org is reachable (or pass --mirror URL)');
    writeFileSync(stamp, new Date().toISOString() + '\n');
  }

  /** Candidate records (Package, Version, Filename, SHA256, Depends...) for the given names. */
  show(names) {
    const want = names.filter((n) => !this.records.has(n));
    if (want.length > 0) {
      const r = spawnSync('apt-cache', [...this.opts, 'show', '--no-all-versions', ...want], { encoding: 'utf8', maxBuffer: 64 << 20 });
      for (const block of r.stdout.split(/\n\n+/)) {
        const rec = parseRecord(block);
        if (rec.Package && !this.records.has(rec.Package)) this.records.set(rec.Package, rec);
      }
      const missing = want.filter((n) => !this.records.has(n));
      if (missing.length > 0) {
        fail(
          `Debian has no package named ${missing.join(', ')}`,
          'fix the package name in build/microkernel/config.json (or your --config file); `apt-cache search NAME` finds it',
        );
      }
    }
    return names.map((n) => this.records.get(n));
  }

  /** Real packages in the Depends/Pre-Depends closure of `names` (no recommends). */
  dependencyClosure(names) {
    const r = spawnSync(
      'apt-cache',
      [
        ...this.opts,
        'depends',
        '--recurse',
        '--no-recommends',
        '--no-suggests',
        '--no-conflicts',
        '--no-breaks',
        '--no-replaces',
        '--no-enhances',
        ...names,
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    if (r.status !== 0) fail(`apt-cache depends failed:\n${r.stderr}`, 'run the build with --refresh to rebuild the package lists');
    return [...new Set(r.stdout.split('\n').filter((l) => l && !l.startsWith(' ') && !l.startsWith('<')))].sort();
  }

  /** Download (into the cache) and verify every package; returns records with a `deb` path. */
  fetch(names) {
    const recs = this.show(names);
    const missing = recs.filter((r) => !existsSync(this.debPath(r)));
    if (missing.length > 0) {
      this.log(`apt: downloading ${missing.length} package(s): ${missing.map((r) => r.Package).join(' ')}`);
      const tmp = path.join(this.debDir, '.download');
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp);
      const r = spawnSync('apt-get', [...this.opts, '-q', 'download', ...missing.map((m) => `${m.Package}=${m.Version}`)], {
        cwd: tmp,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      if (r.status !== 0)
        fail(`apt-get download failed:\n${r.stderr}`, 'check that deb.debian.org is reachable; run with --refresh if the lists are old');
      for (const f of readdirSync(tmp)) renameSync(path.join(tmp, f), path.join(this.debDir, f));
      rmSync(tmp, { recursive: true, force: true });
    }
    for (const rec of recs) {
      const p = this.debPath(rec);
      if (!existsSync(p)) fail(`apt-get did not produce ${path.basename(p)}`, 'delete build/out/cache/debs and rerun with --refresh');
      if (!rec.verified) {
        const sum = createHash('sha256').update(readFileSync(p)).digest('hex');
        if (sum !== rec.SHA256) {
          rmSync(p);
          fail(`${path.basename(p)} has sha256 ${sum}, the index says ${rec.SHA256}`, 'rerun the build: the corrupt file was deleted');
        }
        rec.verified = true;
      }
      rec.deb = p;
    }
    return recs;
  }

  /** Unpack a fetched package once (dpkg-deb -x) and return the directory (named like the .deb: arches differ). */
  unpack(rec) {
    const dir = path.join(this.unpackDir, `${rec.Package}_${rec.Version.replace(/:/g, '%3a')}_${rec.Architecture}`);
    if (!existsSync(path.join(dir, '.done'))) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      execFileSync('dpkg-deb', ['-x', rec.deb, dir]);
      writeFileSync(path.join(dir, '.done'), '');
    }
    return dir;
  }

  /** Where the cached .deb of a record lives (the name apt-get download gives it). */
  debPath(rec) {
    return path.join(this.debDir, `${rec.Package}_${rec.Version.replace(/:/g, '%3a')}_${rec.Architecture}.deb`);
  }
}

/** Parse one deb822 record into key -> value (continuation lines joined). */
function parseRecord(block) {
  const rec = {};
  let key = null;
  for (const line of block.split('\n')) {
    if (/^\s/.test(line) && key) rec[key] += '\n' + line.trim();
    else {
      const i = line.indexOf(':');
      if (i > 0) {
        key = line.slice(0, i);
        rec[key] = line.slice(i + 1).trim();
      }
    }
  }
  return rec;
}
