// Kernel modules and firmware for the image. Modules are chosen by path prefix under
// lib/modules/<release>/kernel, closed over their `depends=` and `softdep=` (read from each module's
// .modinfo section), and indexed with our own modules.dep/modules.alias (the formats depmod(8) writes and
// busybox modprobe reads), so the build does not need kmod on the host. Firmware is what the chosen
// modules declare with MODULE_FIRMWARE() and the firmware packages actually ship, plus explicit extras.
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { modinfo } from './elf.mjs';
import { resolveIn } from './tree.mjs';

function walk(dir, rel = '', out = []) {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(p);
    if (st.isDirectory()) walk(p, r, out);
    else out.push(r);
  }
  return out;
}

/**
 * Does module path `rel` match config entry `pattern`? "dir/" matches everything under dir, "a/b_*.ko"
 * matches within one path segment (`*` never crosses a slash), anything else matches exactly.
 */
export function pathMatches(rel, pattern) {
  if (pattern.endsWith('/')) return rel.startsWith(pattern);
  if (!pattern.includes('*')) return rel === pattern;
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  return re.test(rel);
}

/** Module name as the kernel knows it: file name without .ko, dashes as underscores. */
function modName(rel) {
  return path.posix
    .basename(rel)
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');
}

/** The kernel release directory inside an unpacked linux-image package. */
export function kernelRelease(kroot) {
  const dirs = readdirSync(path.join(kroot, 'lib/modules'));
  if (dirs.length !== 1) throw new Error(`expected one kernel release in the linux-image package, found: ${dirs.join(', ')}`);
  return dirs[0];
}

/**
 * Select modules. `paths` are prefixes relative to kernel/ ("drivers/scsi/"), `exclude` likewise, `extra`
 * are prefixes or module names. Returns { release, modules: [{rel, name, data, info}], depLines, aliasLines }.
 */
export function selectModules(kroot, { paths, exclude, extra, firmwareUnder }) {
  const release = kernelRelease(kroot);
  const base = path.join(kroot, 'lib/modules', release);
  const all = walk(path.join(base, 'kernel')).filter((r) => /\.ko(\.(xz|zst|gz))?$/.test(r));
  if (all.some((r) => !r.endsWith('.ko'))) {
    throw new Error(
      'this kernel package ships compressed modules; the build reads .modinfo from plain .ko files\n  fix: teach kmods.mjs to decompress them (xz/zstd) before reading',
    );
  }
  const byName = new Map(all.map((r) => [modName(r), r]));
  const chosen = new Set();
  const matches = (r, list) => list.some((p) => pathMatches(r, p));
  for (const r of all) if (matches(r, paths) && !matches(r, exclude)) chosen.add(r);
  for (const x of extra) {
    const byPath = all.filter((r) => pathMatches(r, x));
    const hit = byPath.length > 0 ? byPath : byName.has(x.replace(/-/g, '_')) ? [byName.get(x.replace(/-/g, '_'))] : [];
    if (hit.length === 0) {
      throw new Error(
        `extra module "${x}" is not in kernel ${release}\n  fix: use a path under lib/modules/${release}/kernel/ (e.g. drivers/net/bonding/bonding.ko) or a module name; it may be built in (see modules.builtin)`,
      );
    }
    hit.forEach((r) => chosen.add(r));
  }
  // Close over dependencies.
  const info = new Map();
  const load = (r) => {
    if (!info.has(r)) info.set(r, { data: readFileSync(path.join(base, 'kernel', r)) });
    const m = info.get(r);
    if (!m.info) m.info = modinfo(m.data);
    return m;
  };
  const depsOf = (r) => {
    const mi = load(r).info;
    const names = (mi.get('depends') ?? []).flatMap((d) => d.split(',')).filter(Boolean);
    for (const sd of mi.get('softdep') ?? []) names.push(...sd.split(/\s+/).filter((w) => w && !w.endsWith(':')));
    return names.map((n) => byName.get(n.replace(/-/g, '_'))).filter(Boolean);
  };
  const hardDeps = (r) =>
    (load(r).info.get('depends') ?? [])
      .flatMap((d) => d.split(','))
      .filter(Boolean)
      .map((n) => byName.get(n.replace(/-/g, '_')))
      .filter(Boolean);
  const queue = [...chosen];
  while (queue.length > 0) {
    for (const d of depsOf(queue.shift())) {
      if (!chosen.has(d)) {
        chosen.add(d);
        queue.push(d);
      }
    }
  }
  const sorted = [...chosen].sort();
  const depLines = [];
  const aliasLines = [];
  const firmware = new Set();
  for (const r of sorted) {
    // depmod order: what to load before r, the last entry first (dependents before their dependencies).
    // Only depends= edges go here; softdeps are in the image and loaded by modalias or boot_modules.
    const post = [];
    const seen = new Set([r]);
    const visit = (x) => {
      for (const d of hardDeps(x)) {
        if (seen.has(d)) continue;
        seen.add(d);
        visit(d);
        post.push(d);
      }
    };
    visit(r);
    depLines.push(
      `kernel/${r}: ${post
        .reverse()
        .map((d) => `kernel/${d}`)
        .join(' ')}`.trimEnd(),
    );
    for (const a of load(r).info.get('alias') ?? []) aliasLines.push(`alias ${a} ${modName(r)}`);
    if (firmwareUnder.some((p) => r.startsWith(p))) for (const f of load(r).info.get('firmware') ?? []) firmware.add(f);
  }
  const modules = sorted.map((r) => ({ rel: r, name: modName(r), data: info.get(r).data }));
  const shipped = ['modules.builtin', 'modules.builtin.modinfo', 'modules.order']
    .filter((f) => existsSync(path.join(base, f)))
    .map((f) => ({ name: f, data: readFileSync(path.join(base, f)) }));
  return { release, modules, depLines, aliasLines, firmwareWanted: [...firmware].sort(), shipped };
}

/**
 * Pick firmware files: every wanted name that a firmware package ships (symlinks resolved) and that
 * `exclude` does not name, plus the explicit extras, which must exist. Returns { files: [{name, data, pkg}], missing: [...] }.
 */
export function selectFirmware(fwRoots, wanted, extras, exclude = []) {
  const find = (name) => {
    for (const { pkg, root } of fwRoots) {
      const hit = resolveIn(root, `lib/firmware/${name}`);
      if (hit && existsSync(hit) && lstatSync(hit).isFile()) return { pkg, host: hit };
    }
    return null;
  };
  const files = [];
  const missing = [];
  for (const name of wanted) {
    if (exclude.includes(name)) continue;
    const hit = find(name);
    if (hit) files.push({ name, pkg: hit.pkg, data: readFileSync(hit.host) });
    else missing.push(name);
  }
  for (const name of extras) {
    const hit = find(name);
    if (!hit) {
      throw new Error(
        `extra firmware "${name}" is not in the firmware packages (${fwRoots.map((f) => f.pkg).join(', ')})\n  fix: add the Debian package that ships lib/firmware/${name} to "firmware_packages" in your build config, or correct the path`,
      );
    }
    if (!files.some((f) => f.name === name)) files.push({ name, pkg: hit.pkg, data: readFileSync(hit.host) });
  }
  return { files, missing };
}
