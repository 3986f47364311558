/**
 * Loading one of Crashcart's own N-API addons (native/*.c, compiled by build/native.mjs into
 * build/out/native/crashcart-<name>-<platform>-<arch>.node under the install root). A missing or broken
 * addon is not fatal: the caller falls back to its JavaScript path and says why once in the start log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { REPO_ROOT } from '../boot/microkernel-assets.ts';

/** The loaded addon, or why it is not there. */
export interface LoadedAddon<T> {
  addon: T | null;
  why: string;
}

/** The addon's path for this platform and architecture, relative to the install root. */
export function addonPath(name: string): string {
  return path.join('build', 'out', 'native', `crashcart-${name}-${process.platform}-${process.arch}.node`);
}

/** Load addon `name` (e.g. 'sendfile', 'tftp-pump'). */
export function loadAddon<T>(name: string): LoadedAddon<T> {
  const rel = addonPath(name);
  const file = path.join(REPO_ROOT, rel);
  if (!fs.existsSync(file)) return { addon: null, why: `${rel} is not built (node build/native.mjs)` };
  try {
    return { addon: createRequire(import.meta.url)(file) as T, why: 'loaded' };
  } catch (e) {
    return { addon: null, why: `${rel} did not load: ${(e as Error).message}` };
  }
}
