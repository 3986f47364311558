/**
 * Resolve a path inside an unpacked package tree, following symlinks as if the tree were `/`.
 *
 * Why (issue 12): in Debian's `ipxe` package `usr/lib/ipxe/ipxe.efi` is a symlink to `/boot/ipxe.efi`.
 * Copying it out of the unpacked .deb with the host's path resolution reads the host's `/boot`, which
 * holds that file only when the `ipxe` package happens to be installed. Here an absolute link target
 * restarts at the tree's root and `..` never climbs above it, the way a chroot resolves names.
 */
import { lstat, readlink } from 'node:fs/promises';
import path from 'node:path';
import { ccError } from '../../errors/cc-error.ts';

/** Linux's limit on symlinks followed in one lookup (MAXSYMLINKS, path_resolution(7)); more means a loop. */
const MAX_SYMLINKS = 40;

/** Split a path into its components (empty and `.` dropped). */
function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * The host path of `rel` inside `root` with every symlink resolved inside `root`.
 * Throws CC_ERR_LOADER_UNPACK when a component is missing or the links loop.
 */
export async function resolveInTree(root: string, rel: string): Promise<string> {
  const todo = components(rel);
  const done: string[] = [];
  let links = 0;
  while (todo.length > 0) {
    const c = todo.shift() as string;
    if (c === '..') {
      done.pop(); // `..` at the root stays at the root
      continue;
    }
    const here = path.join(root, ...done, c);
    let st;
    try {
      st = await lstat(here);
    } catch {
      throw ccError('CC_ERR_LOADER_UNPACK', `${rel}: /${[...done, c].join('/')} is not in the package`);
    }
    if (!st.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw ccError('CC_ERR_LOADER_UNPACK', `${rel}: more than ${MAX_SYMLINKS} symlinks (a loop)`);
    const target = await readlink(here);
    if (target.startsWith('/')) done.length = 0; // absolute: from the tree's root, not the host's
    todo.unshift(...components(target));
  }
  return path.join(root, ...done);
}
