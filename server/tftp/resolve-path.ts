/**
 * Confine a requested name to the TFTP roots and open it read-only. The real
 * path (symlinks resolved) must stay inside the root it was found in; every
 * refusal happens before a byte of the file is read.
 *
 * The lookup, open and fstat are synchronous, as dnsmasq and tftpd-hpa make
 * them: on a local root they are a few microseconds of page-cache metadata,
 * while three trips through the thread pool (realpath, open, stat) kept a
 * request 1.1-1.3 ms from its OACK, against dnsmasq's 0.13 ms (a third of the
 * 1 MiB bench rows' gap). Reading the file stays asynchronous (or native).
 */
import fs, { constants } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { BlockReader } from './block-source.ts';

/** Longest name accepted (PXE ROMs send < 128; Linux PATH_MAX is far above). */
export const MAX_NAME_BYTES = 255;

/** A refusal: the TFTP error code to send and why. */
export interface Refusal {
  ok: false;
  /** RFC 1350: 1 file not found, 2 access violation. */
  code: 1 | 2;
  message: string;
}
/** An opened file (on disk, or rendered in memory by the core: memory-file.ts). */
export interface Opened {
  ok: true;
  fh: BlockReader;
  size: number;
  realPath: string;
  root: string;
  /** This version of the file (device, inode, size, change times): the cache key of its contents. */
  version: string;
}

/**
 * A name with one leading `/` means the same name from the TFTP root: GRUB asks for `(tftp)/grub/grub.cfg` as
 * `/grub/grub.cfg`, and tftpd-hpa reads such names from its root too. `//x`, `C:`, `..` stay refused by checkName.
 */
export function rootRelative(name: string): string {
  return /^\/(?![/\\])/.test(name) ? name.slice(1) : name;
}

/** Pure check of the name itself: no NUL, not absolute, no `..` or hidden segment, not too long. */
export function checkName(name: string): Refusal | null {
  const refuse = (message: string): Refusal => ({ ok: false, code: 2, message });
  if (name.length === 0) return { ok: false, code: 1, message: 'empty file name' };
  if (Buffer.byteLength(name, 'latin1') > MAX_NAME_BYTES) return refuse(`file name longer than ${MAX_NAME_BYTES} bytes`);
  if (name.includes('\0')) return refuse('NUL byte in file name');
  // Some Windows-era ROMs send backslashes; treat them as separators so `..\` is caught too.
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[A-Za-z]:/.test(n)) return refuse('absolute paths are not served; ask for a name relative to the TFTP root');
  const segs = n.split('/');
  if (segs.some((seg) => seg === '..')) return refuse('".." is not allowed in TFTP paths');
  // As the node plane's files (asset-server.ts): a hidden name is no boot file, and an image upload in progress
  // is written as `images/ID/.NAME.part-PID` until it is checked and renamed.
  if (segs.some((seg) => seg.startsWith('.'))) return refuse('hidden names (a part starting with ".") are not served');
  return null;
}

/** An open file as the transfer reads it: readv through the thread pool, or `fd` for the native pump's pread. */
export interface FileReader extends BlockReader {
  readonly fd: number;
}

/**
 * Wrap an open descriptor; `close` closes it once. The close is synchronous, as the open is: closing a file
 * on the appliance's disk takes microseconds, and a trip through the thread pool cost the loop more than
 * that in wake-ups (a boot storm's CPU profile, docs/perf/changes.md).
 */
export function fileReader(fd: number): FileReader {
  let closed = false;
  return {
    fd,
    readv: (buffers, position) =>
      new Promise((resolve, reject) => fs.readv(fd, buffers, position, (err, bytesRead) => (err ? reject(err) : resolve({ bytesRead })))),
    close: async () => {
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
}

/** Real paths of the roots, resolved once at start (missing roots are skipped). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const r of roots) {
    try {
      out.push(await fsp.realpath(r));
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
      real = fs.realpathSync.native(path.join(root, rel));
    } catch {
      continue; // not in this root: the next one may have it
    }
    if (!inside(root, real)) return { ok: false, code: 2, message: 'path leaves the TFTP root (symlink)' };
    let fd: number;
    try {
      // O_NOFOLLOW: the resolved path must not have become a symlink since realpath. O_NONBLOCK: a FIFO planted
      // in the root must not hang the loop in open(2); it is refused below as not a regular file.
      fd = fs.openSync(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return { ok: false, code: 2, message: 'file cannot be opened' };
    }
    let st: fs.Stats | null = null;
    try {
      st = fs.fstatSync(fd);
    } catch {
      /* refused below */
    }
    if (!st || !st.isFile()) {
      fs.closeSync(fd);
      return { ok: false, code: 1, message: 'not a regular file' };
    }
    const version = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    return { ok: true, fh: fileReader(fd), size: st.size, realPath: real, root, version };
  }
  return { ok: false, code: 1, message: 'file not found' };
}
