// Busybox applet links for the image. `busybox --list-full` names every applet with its install path;
// the build runs it on this host. For another architecture (an arm64 image built on x86-64) the target
// binary cannot run here, so the list comes from the host architecture's busybox-static of the same
// upstream version (Debian builds the static flavour from one .config on every architecture), and every
// name on it must appear in the target binary's applet table, or the build stops.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** "1:1.35.0-4+deb12u1+b1" -> "1.35.0" (no epoch, no Debian revision). */
export function upstreamVersion(debVersion) {
  return debVersion.replace(/^\d+:/, '').replace(/-[^-]*$/, '');
}

/**
 * The applet list (paths like "/usr/bin/wget", "/sbin/modprobe") for the target busybox.
 * `target` and `host` are { root: unpacked package dir, version: Debian version }; host is used only
 * when the target cannot run on this machine (`runnable` false).
 */
export function appletList(target, runnable, host) {
  const listOf = (root) =>
    execFileSync(path.join(root, 'bin/busybox'), ['--list-full'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((a) => (a.startsWith('/') ? a : `/${a}`));
  if (runnable) return listOf(target.root);
  if (!host || upstreamVersion(host.version) !== upstreamVersion(target.version)) {
    throw new Error(
      `cannot list the applets of busybox ${target.version} for another architecture: this host's busybox-static is ${host?.version ?? 'missing'}\n  fix: rerun with --refresh so both architectures' package lists carry the same busybox version`,
    );
  }
  const list = listOf(host.root);
  // The applet names table is one NUL-separated string list in the binary: each name must be there.
  const bin = readFileSync(path.join(target.root, 'bin/busybox'));
  const absent = list.map((a) => path.posix.basename(a)).filter((n) => bin.indexOf(Buffer.from(`\0${n}\0`, 'latin1')) < 0);
  if (absent.length > 0) {
    throw new Error(
      `the target busybox lacks applets the host's busybox ${host.version} has: ${absent.slice(0, 10).join(', ')}\n  fix: the two builds differ in configuration; build on a machine of the target architecture`,
    );
  }
  return list;
}

/**
 * Link every applet into the tree as a symlink to /usr/bin/busybox, except where a real program of the
 * same name is already there (the real tool wins). Returns the number of links made.
 */
export function linkApplets(tree, applets) {
  const real = new Set([...tree.entries.keys()].filter((p) => /^usr\/s?bin\//.test(p)).map((p) => path.posix.basename(p)));
  let n = 0;
  for (const a of [...applets].sort()) {
    const name = path.posix.basename(a);
    const dest = a.includes('sbin/') ? `usr/sbin/${name}` : `usr/bin/${name}`;
    if (real.has(name) || tree.has(dest)) continue;
    tree.symlink(dest, '/usr/bin/busybox');
    n++;
  }
  return n;
}
