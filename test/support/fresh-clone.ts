/**
 * A fresh clone of this checkout, as a new user gets it: `git clone` of the committed state into a
 * temporary folder, with node_modules linked to this checkout's (no `npm ci` here). Nothing that git
 * ignores comes along: no loaders in resources/ipxe, no build/out, no UI bundle. The issue 12 tests
 * run the real CLI from such a clone to prove what `prepare` fetches and what serving needs.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { tmpDir } from './appliance.ts';

/** Clone HEAD of this checkout; returns the clone's folder. */
export async function freshClone(prefix = 'cc-clone-'): Promise<string> {
  const dir = await tmpDir(prefix);
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO_ROOT, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  await fs.symlink(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}
