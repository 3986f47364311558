/**
 * Confine a requested name to the TFTP roots and open it read-only. The real
 * path (symlinks resolved) must stay inside the root it was found in; every
 * refusal happens before a byte of the file is read.
 */
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Longest name accepted (PXE ROMs send < 128; Linux PATH_MAX is far above). */
export const MAX_NAME_BYTES = 255;

/** A refusal: the TFTP error code to send and why. */
export interface Refusal {
  ok: false;
  /** RFC 1350: 1 file not found, 2 access violation. */
  code: 1 | 2;
  message: string;
}
/** An opened file. */
export interface Opened {
  ok: true;
  fh: FileHandle;
  size: number;
  realPath: string;
  root: string;
  /** This version of the file (device, inode, size, change times): the cache key of its contents. */
  version: string;
}

/** Pure check of the name itself: no NUL, not absolute, no `..` segment, not too long. */
export function checkName(name: string): Refusal | null {
  const refuse = (message: string): Refusal => ({ ok: false, code: 2, message });
  if (name.length === 0) return { ok: false, code: 1, message: 'empty file name' };
  if (Buffer.byteLength(name, 'latin1') > MAX_NAME_BYTES) return refuse(`file name longer than ${MAX_NAME_BYTES} bytes`);
  if (name.includes('\0')) return refuse('NUL byte in file name');
  // Some Windows-era ROMs send backslashes; treat them as separators so `..\` is caught too.
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[A-Za-z]:/.test(n)) return refuse('absolute paths are not served; ask for a name relative to the TFTP root');
  if (n.split('/').some((seg) => seg === '..')) return refuse('".." is not allowed in TFTP paths');
  return null;
}

/** Real paths of the roots, resolved once at start (missing roots are skipped). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    try {
      out.push(await fs.realpath(r));
    } catch {
      /* a root that does not exist serves nothing */
    }
  }
  return out;
}

const inside = (root: string, p: string) => p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);

/** Find `name` in the first root that has it and open it, or say why not. */
export async function openConfined(roots: readonly string[], name: string): Promise<Opened | Refusal> {
  const bad = checkName(name);
  if (bad) return bad;
  const rel = name.replace(/\\/g, '/');
  for (const root of roots) {
    let real: string;
    try {
      real = await fs.realpath(path.join(root, rel));
    } catch {
      continue; // not in this root: the next one may have it
    }
    if (!inside(root, real)) return { ok: false, code: 2, message: 'path leaves the TFTP root (symlink)' };
    let fh: FileHandle;
    try {
      // O_NOFOLLOW: the resolved path must not have become a symlink since realpath.
      fh = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return { ok: false, code: 2, message: 'file cannot be opened' };
    }
    const st = await fh.stat().catch(() => null);
    if (!st || !st.isFile()) {
      await fh.close().catch(() => undefined);
      return { ok: false, code: 1, message: 'not a regular file' };
    }
    const version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    return { ok: true, fh, size: st.size, realPath: real, root, version };
  }
  return { ok: false, code: 1, message: 'file not found' };
}
