/**
 * The clean Debian 12 (bookworm) amd64 root test/package/deb-install.test.ts installs the package into:
 * mmdebstrap minbase + systemd + the package's declared Depends, one tarball per recipe under
 * build/out/cache/deb-install-root. scripts/ensure-test-deps.sh builds it (clean-debian-root-main.ts,
 * from Debian's mirror); the test only checks that the tarball of its recipe is there.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');
/** Where clean roots are cached, one tarball per recipe key. */
export const CLEAN_ROOT_DIR = path.join(REPO, 'build', 'out', 'cache', 'deb-install-root');
/** The Debian 12 mirror the clean root comes from (only ensure-test-deps reaches it). */
const MIRROR = 'http://deb.debian.org/debian';
/**
 * On top of mmdebstrap's minbase: systemd, as on any installed Debian 12 (so postinst takes the
 * systemd-sysusers path a real install takes). The package's own Depends are added by the caller.
 */
const BASE_PACKAGES = ['systemd'];

/** Package names of a Depends field ("libc6 (>= 2.28), libstdc++6" -> libc6, libstdc++6); alternatives take the first. */
export function dependsNames(field: string): string[] {
  return field
    .split(',')
    .map((d) => d.split('|')[0]!.trim().split(/[\s(]/)[0]!)
    .filter(Boolean);
}

/** The recipe of a root with exactly `depends` on top of the base: mmdebstrap's arguments and the tarball's path. */
export function cleanRootRecipe(depends: readonly string[]): { include: string[]; args: string[]; tar: string } {
  const include = [...new Set([...BASE_PACKAGES, ...depends])].sort();
  const args = ['--variant=minbase', `--include=${include.join(',')}`, '--aptopt=Acquire::Languages "none"', 'bookworm'];
  const key = createHash('sha256')
    .update(JSON.stringify([args, MIRROR]))
    .digest('hex')
    .slice(0, 16);
  return { include, args, tar: path.join(CLEAN_ROOT_DIR, `bookworm-${key}.tar`) };
}

/** The tarball of the root for `depends`; throws naming it and the fix when ensure-test-deps has not built it. */
export function requireCleanRoot(depends: readonly string[]): string {
  const { include, tar } = cleanRootRecipe(depends);
  if (!fs.existsSync(tar))
    throw new Error(
      `${tar} is missing (a clean Debian 12 root: minbase + ${include.join(', ')})\n` +
        '  fix: bash scripts/ensure-test-deps.sh (it builds the root for the Depends in build/package-deb.mjs, with mmdebstrap)',
    );
  return tar;
}

/** The Depends the package declares, read from its control file in build/package-deb.mjs. */
export function declaredDepends(): string[] {
  const src = fs.readFileSync(path.join(REPO, 'build', 'package-deb.mjs'), 'utf8');
  const found = [...src.matchAll(/'Depends: ([^']+)'/g)];
  if (found.length !== 1) throw new Error(`build/package-deb.mjs: expected one 'Depends: ...' line, found ${found.length}`);
  return dependsNames(found[0]![1]!);
}

/**
 * Build the root for `depends` from Debian's mirror unless it is cached, under /tmp/cc-build.lock (which
 * makes the check-then-build atomic). Downloads: for scripts/ensure-test-deps.sh only, never for a test.
 */
export function buildCleanRoot(depends: readonly string[], timeoutMs = 40 * 60_000): string {
  const { args, tar } = cleanRootRecipe(depends);
  if (fs.existsSync(tar)) return tar;
  if (spawnSync('mmdebstrap', ['--version']).status !== 0)
    throw new Error('mmdebstrap is missing\n  fix: apt-get install mmdebstrap debian-archive-keyring (scripts/deps/package.txt)');
  // mmdebstrap picks the output format from the name: the partial file ends in .tar too; renamed into place when complete.
  const partial = path.join(path.dirname(tar), `.partial-${path.basename(tar)}`);
  const script =
    'test -f "$1" && exit 0; t="$1"; p="$2"; m="$3"; shift 3; mkdir -p "$(dirname "$t")" && rm -f "$p" && mmdebstrap --quiet "$@" "$p" "$m" && mv "$p" "$t"';
  const r = spawnSync('flock', ['/tmp/cc-build.lock', 'sh', '-c', script, 'sh', tar, partial, MIRROR, ...args], {
    cwd: REPO,
    stdio: 'inherit',
    timeout: timeoutMs,
  });
  if (r.status !== 0) throw new Error(`mmdebstrap (a clean Debian 12 root) failed (${r.error?.message ?? `exit ${r.status}`})`);
  return tar;
}
