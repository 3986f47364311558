// The initramfs as an in-memory tree: path -> cpio entry, parents created on demand, plus helpers that
// copy files out of unpacked Debian packages (following their symlinks) and pull in shared libraries.
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { interpreter, isElf, needed } from './elf.mjs';

/** Directories searched for a soname inside each unpacked library package (Debian multiarch first). */
const libDirs = (arch) => [`lib/${arch.triplet}`, `usr/lib/${arch.triplet}`, 'lib64', 'lib', 'usr/lib'];
/** Where libraries go inside the image (merged /usr: /lib is a symlink to usr/lib). */
export const imageLibDir = (arch) => `usr/lib/${arch.triplet}`;

/** The image tree. */
export class Tree {
  constructor() {
    /** @type {Map<string, any>} */
    this.entries = new Map();
    /** category -> bytes, for the size report. */
    this.categories = new Map();
  }

  dir(p, mode = 0o755) {
    p = norm(p);
    if (!p || this.entries.has(p)) return;
    this.dir(path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p));
    this.entries.set(p, { path: p, type: 'dir', mode });
  }

  file(p, data, mode, category) {
    p = norm(p);
    this.dir(path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p));
    const prev = this.entries.get(p);
    if (prev?.type === 'file') this.account(prev.category, -prev.data.length);
    this.entries.set(p, { path: p, type: 'file', mode, data, category });
    this.account(category, data.length);
  }

  symlink(p, target) {
    p = norm(p);
    this.dir(path.posix.dirname(p) === '.' ? '' : path.posix.dirname(p));
    this.entries.set(p, { path: p, type: 'symlink', mode: 0o777, target });
  }

  char(p, major, minor, mode = 0o600) {
    p = norm(p);
    this.dir(path.posix.dirname(p));
    this.entries.set(p, { path: p, type: 'char', mode, rdev: [major, minor] });
  }

  has(p) {
    return this.entries.has(norm(p));
  }

  account(category, n) {
    this.categories.set(category, (this.categories.get(category) ?? 0) + n);
  }

  /** The `count` biggest files, for the "what dominates" report. */
  largest(count) {
    return [...this.entries.values()]
      .filter((e) => e.type === 'file')
      .sort((a, b) => b.data.length - a.data.length)
      .slice(0, count)
      .map((e) => ({ path: '/' + e.path, bytes: e.data.length }));
  }
}

function norm(p) {
  return p.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * Resolve `rel` inside an unpacked package root, following symlinks (absolute ones relative to the
 * root) the way they would resolve on an installed system. Returns the real host path or null.
 */
export function resolveIn(root, rel, depth = 0) {
  if (depth > 40) return null;
  const parts = norm(rel).split('/');
  let cur = '';
  for (let i = 0; i < parts.length; i++) {
    const next = cur ? `${cur}/${parts[i]}` : parts[i];
    const host = path.join(root, next);
    let st;
    try {
      st = lstatSync(host);
    } catch {
      // Debian 12 packages still ship /bin, /sbin, /lib: accept either side of the usr merge.
      const alt = next.startsWith('usr/') ? next.slice(4) : `usr/${next}`;
      if (i === 0 || !existsSync(path.join(root, alt))) return null;
      cur = alt;
      continue;
    }
    if (st.isSymbolicLink()) {
      const t = readlinkSync(host);
      const base = t.startsWith('/') ? t : path.posix.join(path.posix.dirname(next), t);
      const rest = parts.slice(i + 1).join('/');
      return resolveIn(root, rest ? `${path.posix.normalize(base)}/${rest}` : path.posix.normalize(base), depth + 1);
    }
    cur = next;
  }
  return path.join(root, cur);
}

/** soname -> host path, over every unpacked library package of architecture `arch`. */
export function indexLibraries(roots, arch) {
  const index = new Map();
  for (const root of roots) {
    for (const d of libDirs(arch)) {
      const dir = path.join(root, d);
      if (!existsSync(dir) || !statSync(dir).isDirectory()) continue;
      for (const name of readdirSync(dir)) {
        if (!name.includes('.so') || index.has(name)) continue;
        const real = resolveIn(root, `${d}/${name}`);
        if (real && statSync(real).isFile()) index.set(name, real);
      }
    }
  }
  return index;
}

/**
 * Add every shared library the ELF files in the tree need (recursively), from the library index.
 * Throws with the fix when one cannot be found.
 */
export function addLibraries(tree, libIndex, arch) {
  const libdir = imageLibDir(arch);
  const queue = [...tree.entries.values()].filter((e) => e.type === 'file' && isElf(e.data)).map((e) => ({ who: e.path, data: e.data }));
  const done = new Set();
  const missing = [];
  // libgcc_s is dlopen()ed by glibc for pthread_cancel and unwinding; nothing lists it as NEEDED.
  const always = ['libgcc_s.so.1'];
  const want = (soname, who) => {
    if (done.has(soname)) return;
    done.add(soname);
    const host = libIndex.get(soname);
    if (!host) {
      missing.push(`${soname} (needed by /${who})`);
      return;
    }
    const data = readFileSync(host);
    tree.file(`${libdir}/${soname}`, data, 0o755, 'libraries');
    queue.push({ who: `${libdir}/${soname}`, data });
  };
  for (const s of always) want(s, 'glibc');
  while (queue.length > 0) {
    const { who, data } = queue.shift();
    const interp = interpreter(data);
    if (interp) want(path.posix.basename(interp), who);
    for (const soname of needed(data)) want(soname, who);
  }
  if (missing.length > 0) {
    throw new Error(
      `shared libraries not found in the unpacked Debian packages: ${missing.join(', ')}\n  fix: add the Debian package that ships them to "extra.packages" in your build config (with an empty file list), e.g. "libfoo1": []`,
    );
  }
  // The loader at the path programs name in PT_INTERP (/lib64/... on x86-64, /lib/... on arm64; both
  // top-level directories are symlinks into usr/), pointing at the copy in the multiarch directory.
  const interp = arch.interpreter.replace(/^\/+/, '');
  const usrInterp = `usr/${interp}`;
  tree.symlink(usrInterp, path.posix.relative(path.posix.dirname(usrInterp), `${libdir}/${path.posix.basename(interp)}`));
  return [...done].sort();
}
