/**
 * The task tools overlay (`/mk/tools.img`, built by build/microkernel/build.mjs): a brotli-compressed newc
 * cpio of zstd, e2fsprogs and friends, fetched when a task starts and unpacked over the microkernel's tmpfs
 * root, so the discovery initrd does not carry them (issue 13). The archive is checked against the sha256
 * the appliance put in the job before a single byte of it is written.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import type { ToolsRef } from '../../contract/agent-tasks.ts';

/** One archive member. */
export interface CpioMember {
  path: string;
  mode: number;
  data: Buffer;
}

const S_IFMT = 0o170000;
/** Bounds: the real overlay is a few MiB; a hostile answer must not fill the tmpfs. */
export const MAX_TOOLS_BYTES = 256 * 1024 * 1024;

/** Parse a newc ("070701") cpio archive; throws on anything malformed. Pure. */
export function parseCpio(buf: Buffer): CpioMember[] {
  const out: CpioMember[] = [];
  let off = 0;
  const field = (i: number): number => {
    const s = buf.toString('latin1', off + 6 + i * 8, off + 14 + i * 8);
    if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new Error(`cpio: bad header field at ${off}`);
    return parseInt(s, 16);
  };
  for (;;) {
    if (off + 110 > buf.length) throw new Error('cpio: truncated header');
    if (buf.toString('latin1', off, off + 6) !== '070701') throw new Error(`cpio: bad magic at ${off}`);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = off + 110;
    if (nameSize < 1 || nameStart + nameSize > buf.length) throw new Error('cpio: bad name size');
    const name = buf.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = nameStart + nameSize + ((4 - ((110 + nameSize) % 4)) % 4);
    if (dataStart + size > buf.length) throw new Error(`cpio: ${name} is truncated`);
    if (name === 'TRAILER!!!') return out;
    out.push({ path: name, mode, data: buf.subarray(dataStart, dataStart + size) });
    off = dataStart + size + ((4 - (size % 4)) % 4);
  }
}

/** A member path made safe: relative, no `..`, no empty parts (the archive is network input). */
export function safeMemberPath(p: string): string | null {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.length === 0 || parts.some((x) => x === '..')) return null;
  return parts.join('/');
}

/** Check, decompress and unpack the overlay under `root`; files already there are kept (the initrd wins). */
export function unpackTools(compressed: Buffer, ref: Pick<ToolsRef, 'sha256'>, root: string): { files: number; bytes: number } {
  const got = createHash('sha256').update(compressed).digest('hex');
  if (got !== ref.sha256) throw new Error(`tools overlay sha256 ${got} is not the ${ref.sha256} the appliance announced`);
  const cpio = brotliDecompressSync(compressed, { maxOutputLength: MAX_TOOLS_BYTES });
  let files = 0;
  let bytes = 0;
  for (const m of parseCpio(cpio)) {
    const rel = safeMemberPath(m.path);
    if (!rel) throw new Error(`tools overlay: refused member path ${JSON.stringify(m.path)}`);
    const dest = path.join(root, rel);
    const type = m.mode & S_IFMT;
    if (type === 0o040000) {
      fs.mkdirSync(dest, { recursive: true });
      continue;
    }
    if (fs.existsSync(dest) || isLink(dest)) continue;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    if (type === 0o120000) fs.symlinkSync(m.data.toString('utf8'), dest);
    else if (type === 0o100000) {
      fs.writeFileSync(dest, m.data, { mode: m.mode & 0o7777 });
      files++;
      bytes += m.data.length;
    }
  }
  return { files, bytes };
}

function isLink(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}
