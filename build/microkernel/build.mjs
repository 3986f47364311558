#!/usr/bin/env node
// npm run build:microkernel [-- --debug --ssh-key KEY.pub] [--config FILE] [--out DIR] [--refresh]
// Builds build/out/microkernel/{vmlinuz,initrd.img,manifest.json} from Debian packages only
// (apt-get download + dpkg-deb -x into build/out/cache; nothing is installed on the host). See docs/microkernel.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { Apt } from './apt.mjs';
import { writeCpio } from './cpio.mjs';
import { selectFirmware, selectModules } from './kmods.mjs';
import { Tree, addLibraries, indexLibraries, resolveIn } from './tree.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const t0 = Date.now();
const log = (s) => console.log(`[microkernel ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${s}`);
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const mb = (n) => `${(n / 1048576).toFixed(1)} MiB`;
/** Size goal for kernel + compressed initrd (issue 6); exceeding it is reported, not fatal. */
const BUDGET_BYTES = 60 * 1024 * 1024;

function usage(msg) {
  console.error(`${msg ? msg + '\n' : ''}usage: node build/microkernel/build.mjs [--debug --ssh-key FILE.pub] [--config FILE] [--agent FILE]
       [--out DIR] [--cache DIR] [--compress zstd|xz] [--fast] [--refresh] [--mirror URL] [--security-mirror URL]`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = {
    debug: false,
    sshKey: null,
    config: null,
    agent: path.join(repo, 'build/out/agent/crashcart-agent.mjs'),
    out: path.join(repo, 'build/out/microkernel'),
    cache: path.join(repo, 'build/out/cache'),
    // xz keeps kernel+initrd under the 60 MiB goal (zstd -19: ~68 MiB, but ~10 s faster to unpack under TCG).
    compress: 'xz',
    refresh: false,
    mirror: undefined,
    securityMirror: undefined,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? usage(`${k} needs a value`);
    if (k === '--debug') a.debug = true;
    else if (k === '--ssh-key' || k === '-k') a.sshKey = path.resolve(v());
    else if (k === '--config') a.config = path.resolve(v());
    else if (k === '--agent') a.agent = path.resolve(v());
    else if (k === '--out') a.out = path.resolve(v());
    else if (k === '--cache') a.cache = path.resolve(v());
    else if (k === '--compress') a.compress = v();
    else if (k === '--refresh') a.refresh = true;
    else if (k === '--fast') a.fast = true;
    else if (k === '--mirror') a.mirror = v();
    else if (k === '--security-mirror') a.securityMirror = v();
    else if (k === '--help' || k === '-h') usage();
    else usage(`unknown option ${k}`);
  }
  if (!['zstd', 'xz'].includes(a.compress)) usage('--compress must be zstd or xz');
  if (a.debug && !a.sshKey) usage('--debug needs --ssh-key FILE.pub (the public key allowed to log in as root)');
  if (a.sshKey && !a.debug) usage('--ssh-key only makes sense with --debug: production images have no SSH');
  return a;
}

/** Base config merged with the user's extension file (extra packages, modules, firmware). */
function loadConfig(file) {
  const base = JSON.parse(readFileSync(path.join(here, 'config.json'), 'utf8'));
  if (!file) return base;
  let ext;
  try {
    ext = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(
      `cannot read build config ${file}: ${e.message}\n  fix: pass a JSON file shaped like build/microkernel/config.example.json`,
    );
  }
  const x = ext.extra ?? {};
  for (const key of Object.keys(x)) {
    if (!['packages', 'modules', 'firmware'].includes(key))
      throw new Error(`build config ${file}: unknown key extra.${key}\n  fix: use extra.packages, extra.modules or extra.firmware`);
  }
  base.extra = {
    packages: { ...base.extra.packages, ...(x.packages ?? {}) },
    modules: [...base.extra.modules, ...(x.modules ?? [])],
    firmware: [...base.extra.firmware, ...(x.firmware ?? [])],
  };
  if (Array.isArray(ext.firmware_packages)) base.firmware_packages = [...new Set([...base.firmware_packages, ...ext.firmware_packages])];
  return base;
}

function need(cmd, pkg) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} is not installed\n  fix: apt-get install ${pkg}`);
}

/** Copy the files a tool package provides into the tree (usr-merged paths). */
function addPackageFiles(tree, pkg, root, files, category) {
  for (const f of files) {
    const host = resolveIn(root, f);
    if (!host || !existsSync(host))
      throw new Error(
        `package ${pkg} has no file ${f}\n  fix: correct the path in the build config ("apt-file list ${pkg}" or "dpkg-deb -c" shows the contents)`,
      );
    const dest = f.startsWith('usr/') ? f : `usr/${f}`;
    // A same-directory symlink (lldpctl -> lldpcli) stays a symlink: same behaviour, no second copy.
    const own = path.join(root, f);
    if (lstatSync(own).isSymbolicLink() && !readlinkSync(own).includes('/')) {
      tree.symlink(dest, readlinkSync(own));
      continue;
    }
    const data = readFileSync(host);
    tree.file(dest, data, /\/s?bin\//.test(dest) ? 0o755 : 0o644, category);
  }
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const cfg = loadConfig(args.config);
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new Error(
      'SOURCE_DATE_EPOCH must be a non-negative integer (seconds)\n  fix: unset it or export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)',
    );
  need('dpkg-deb', 'dpkg');
  need('apt-get', 'apt');
  need('strip', 'binutils');
  need(args.compress, args.compress === 'xz' ? 'xz-utils' : 'zstd');
  if (!existsSync(args.agent)) {
    throw new Error(
      `the agent bundle ${path.relative(repo, args.agent)} does not exist\n  fix: run "node build/agent-bundle.mjs" first (it bundles agent/cli.ts), or pass --agent FILE`,
    );
  }
  log(`${args.debug ? 'DEBUG' : 'production'} image, compression ${args.compress}, SOURCE_DATE_EPOCH=${epoch}`);

  const apt = new Apt(args.cache, { log, mirror: args.mirror, securityMirror: args.securityMirror });
  apt.update(args.refresh);

  // 1. Kernel: the metapackage names the real image package.
  const [meta] = apt.show([cfg.kernel_package]);
  const kpkg = /^(linux-image-[^\s(,]+)/.exec(meta.Depends ?? '')?.[1];
  if (!kpkg)
    throw new Error(`${cfg.kernel_package} does not depend on a linux-image package\n  fix: set kernel_package to a linux-image-* package`);
  const toolSets = { ...cfg.tools, ...(args.debug ? cfg.debug_tools : {}), ...cfg.extra.packages };
  const toolPkgs = Object.keys(toolSets).sort();
  const taskPkgs = Object.keys(cfg.task_tools ?? {}).sort();
  log(`resolving library dependencies of ${toolPkgs.length} tool packages and ${taskPkgs.length} task tool packages`);
  const libPkgs = apt
    .dependencyClosure([...new Set([...toolPkgs, ...taskPkgs]), 'libc6', 'libstdc++6', 'libgcc-s1'])
    .filter((p) => /^lib|^zlib1g$/.test(p) && !/-(perl|common|data|base|bin|modules|config)$/.test(p));
  const allPkgs = [...new Set([kpkg, ...toolPkgs, ...taskPkgs, ...libPkgs, ...cfg.firmware_packages])].sort();
  const recs = apt.fetch(allPkgs);
  const rec = new Map(recs.map((r) => [r.Package, r]));
  log(`unpacking ${recs.length} packages`);
  const root = new Map(recs.map((r) => [r.Package, apt.unpack(r)]));

  const tree = new Tree();
  for (const d of ['dev', 'proc', 'sys', 'run', 'tmp', 'root', 'etc', 'var', 'usr/bin', 'usr/sbin', 'usr/lib64', 'mnt']) tree.dir(d);
  tree.dir('tmp', 0o1777);
  tree.dir('root', 0o700);
  for (const [l, t] of [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
    ['var/run', '/run'],
  ])
    tree.symlink(l, t);
  tree.char('dev/console', 5, 1);
  tree.char('dev/null', 1, 3, 0o666);

  // 2. Tools.
  for (const pkg of toolPkgs) addPackageFiles(tree, pkg, root.get(pkg), toolSets[pkg], pkg === 'busybox-static' ? 'busybox' : 'tools');
  const bbList = execFileSync(path.join(root.get('busybox-static'), 'bin/busybox'), ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
  const real = new Set([...tree.entries.keys()].filter((p) => /^usr\/s?bin\//.test(p)).map((p) => path.posix.basename(p)));
  let applets = 0;
  for (const a of bbList.sort()) {
    const name = path.posix.basename(a);
    const dest = a.includes('sbin/') ? `usr/sbin/${name}` : `usr/bin/${name}`;
    if (real.has(name) || tree.has(dest)) continue;
    tree.symlink(dest, '/usr/bin/busybox');
    applets++;
  }
  log(
    `busybox ${rec.get('busybox-static').Version}: ${applets} applets linked; tools: ${toolPkgs.filter((p) => p !== 'busybox-static').join(', ')}`,
  );

  // 3. Node runtime: this machine's node (the agent targets Node 20), stripped of debug info.
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  if (nodeMajor < 20)
    throw new Error(
      `the build runs on Node ${process.versions.node}; the image needs Node >= 20\n  fix: run the build with Node 20 (the node binary that runs it goes into the image)`,
    );
  const stripped = path.join(args.cache, 'node.stripped');
  execFileSync('strip', ['--strip-all', '-o', stripped, process.execPath]);
  tree.file('usr/bin/node', readFileSync(stripped), 0o755, 'node');
  log(`node ${process.version} from ${process.execPath} (${mb(readFileSync(stripped).length)} stripped)`);

  // 4. Shared libraries for every ELF file so far, from the Debian library packages.
  const libIndex = indexLibraries(libPkgs.map((p) => root.get(p)).concat(toolPkgs.map((p) => root.get(p))));
  const sonames = addLibraries(tree, libIndex);
  log(`${sonames.length} shared libraries`);
  const tools = buildTaskTools(tree, cfg.task_tools ?? {}, taskPkgs, root, libPkgs);

  // 5. Kernel and modules.
  const kroot = root.get(kpkg);
  const mods = selectModules(kroot, {
    paths: cfg.module_paths,
    exclude: cfg.module_exclude,
    extra: cfg.extra.modules,
    firmwareUnder: [...cfg.firmware_for_modules_under],
  });
  const mdir = `usr/lib/modules/${mods.release}`;
  for (const m of mods.modules) tree.file(`${mdir}/kernel/${m.rel}`, m.data, 0o644, 'modules');
  tree.file(`${mdir}/modules.dep`, Buffer.from(mods.depLines.join('\n') + '\n'), 0o644, 'modules');
  tree.file(`${mdir}/modules.alias`, Buffer.from(mods.aliasLines.join('\n') + '\n'), 0o644, 'modules');
  for (const s of mods.shipped) tree.file(`${mdir}/${s.name}`, s.data, 0o644, 'modules');
  log(
    `kernel ${mods.release}: ${mods.modules.length} modules (${mb(mods.modules.reduce((n, m) => n + m.data.length, 0))}), ${mods.aliasLines.length} aliases`,
  );

  // 6. Firmware the NIC drivers ask for, plus extras.
  const fwRoots = cfg.firmware_packages.map((p) => ({ pkg: p, root: root.get(p) }));
  const fw = selectFirmware(fwRoots, mods.firmwareWanted, cfg.extra.firmware);
  for (const f of fw.files) tree.file(`usr/lib/firmware/${f.name}`, f.data, 0o644, 'firmware');
  log(
    `firmware: ${fw.files.length} files (${mb(fw.files.reduce((n, f) => n + f.data.length, 0))}); ${fw.missing.length} names the drivers declare are not in Debian's packages`,
  );

  // 7. Agent, init and configuration.
  const agent = readFileSync(args.agent);
  tree.file('usr/lib/crashcart/crashcart-agent.mjs', agent, 0o644, 'agent');
  const rootfs = path.join(here, 'rootfs');
  tree.file('init', readFileSync(path.join(rootfs, 'init')), 0o755, 'init');
  tree.file('usr/share/crashcart/udhcpc.script', readFileSync(path.join(rootfs, 'udhcpc.script')), 0o755, 'init');
  tree.file('usr/share/crashcart/supervise-agent', readFileSync(path.join(rootfs, 'supervise-agent')), 0o755, 'init');
  tree.file('etc/crashcart/boot-modules', Buffer.from(cfg.boot_modules.join('\n') + '\n'), 0o644, 'init');
  tree.file(
    'etc/passwd',
    Buffer.from(
      `root:x:0:0:root:/root:/bin/sh\n_lldpd:x:100:101:lldpd:/run/lldpd:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n`,
    ),
    0o644,
    'init',
  );
  tree.file('etc/group', Buffer.from(`root:x:0:\n_lldpd:x:101:\nnogroup:x:65534:\n`), 0o644, 'init');
  // Production: root has no password hash at all ('*' = no login). Debug: empty password on the console.
  tree.file('etc/shadow', Buffer.from(`root:${args.debug ? '' : '*'}:19000:0:99999:7:::\n_lldpd:*:19000:0:99999:7:::\n`), 0o600, 'init');
  tree.file('etc/nsswitch.conf', Buffer.from('passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n'), 0o644, 'init');
  tree.file('etc/hosts', Buffer.from('127.0.0.1 localhost crashcart-mk\n'), 0o644, 'init');
  tree.file(
    'etc/os-release',
    Buffer.from(
      `NAME="Crashcart microkernel"\nID=crashcart-mk\nVERSION_ID="1"\nPRETTY_NAME="Crashcart microkernel (Debian 12 packages)"\n`,
    ),
    0o644,
    'init',
  );
  tree.dir('etc/lldpd.d');
  if (args.debug) {
    tree.file('usr/share/crashcart/debug.sh', readFileSync(path.join(rootfs, 'debug.sh')), 0o755, 'init');
    tree.file('root/.ssh/authorized_keys', readFileSync(args.sshKey), 0o600, 'init');
  }

  // 8. Archive, compress, write.
  log(`writing cpio (${tree.entries.size} entries)`);
  const cpio = writeCpio([...tree.entries.values()], epoch);
  log(`compressing ${mb(cpio.length)} with ${args.compress} (single thread, deterministic)`);
  // --fast (dev loop only): low levels, same formats. The kernel's xz decoder needs CRC32 (or none).
  const level = args.fast ? (args.compress === 'zstd' ? '-3' : '-1') : args.compress === 'zstd' ? '-19' : '-9';
  const cmd =
    args.compress === 'zstd' ? ['zstd', [level, '-T1', '-q', '-c', '--no-progress']] : ['xz', ['--check=crc32', level, '-T1', '-c']];
  const z = spawnSync(cmd[0], cmd[1], { input: cpio, maxBuffer: 1 << 30 });
  if (z.status !== 0) throw new Error(`${cmd[0]} failed: ${z.stderr}\n  fix: check free disk space and memory`);
  const initrd = z.stdout;
  const vmlinuz = readFileSync(path.join(kroot, 'boot', `vmlinuz-${mods.release}`));
  mkdirSync(args.out, { recursive: true });
  const writeAtomic = (name, data) => {
    writeFileSync(path.join(args.out, name + '.tmp'), data);
    renameSync(path.join(args.out, name + '.tmp'), path.join(args.out, name));
  };
  writeAtomic('vmlinuz', vmlinuz);
  writeAtomic('initrd.img', initrd);
  const toolsImg = packTaskTools(tools, epoch);
  writeAtomic('tools.img', toolsImg.data);

  const total = vmlinuz.length + initrd.length;
  const categories = Object.fromEntries([...tree.categories.entries()].sort((a, b) => b[1] - a[1]));
  const manifest = {
    format: 1,
    /** What `crashcart serve` shows as the microkernel version: kernel release + initrd digest. */
    version: `${mods.release}+${sha256(initrd).slice(0, 12)}`,
    debug: args.debug,
    source_date_epoch: epoch,
    compression: `${args.compress}${args.fast ? ' (fast, dev loop)' : ''}`,
    kernel: { package: kpkg, version: rec.get(kpkg).Version, release: mods.release },
    node: { version: process.version, source: process.execPath },
    agent: { file: path.relative(repo, args.agent), bytes: agent.length, sha256: sha256(agent) },
    files: {
      vmlinuz: { bytes: vmlinuz.length, sha256: sha256(vmlinuz) },
      'initrd.img': { bytes: initrd.length, sha256: sha256(initrd), uncompressed_bytes: cpio.length },
    },
    /** The task tools overlay (not part of the boot download, so not in total_bytes). */
    tools: {
      file: 'tools.img',
      bytes: toolsImg.data.length,
      sha256: sha256(toolsImg.data),
      uncompressed_bytes: toolsImg.uncompressed,
      packages: taskPkgs,
      files: [...tools.entries.values()]
        .filter((e) => e.type !== 'dir')
        .map((e) => '/' + e.path)
        .sort(),
    },
    total_bytes: total,
    budget_bytes: BUDGET_BYTES,
    uncompressed_by_category: categories,
    largest_files: tree.largest(12),
    modules: { count: mods.modules.length, boot_modules: cfg.boot_modules },
    firmware: { files: fw.files.map((f) => `${f.pkg}: ${f.name}`), not_in_debian: fw.missing },
    packages: recs
      .filter(
        (r) =>
          r.Package === kpkg || toolPkgs.includes(r.Package) || cfg.firmware_packages.includes(r.Package) || sonamesFrom(r, root, sonames),
      )
      .map((r) => ({ name: r.Package, version: r.Version, sha256: r.SHA256 })),
    config: args.config ? path.relative(repo, args.config) : null,
  };
  writeAtomic('manifest.json', JSON.stringify(manifest, null, 2) + '\n');

  log(`done: ${path.relative(repo, args.out)}`);
  console.log(`  vmlinuz     ${mb(vmlinuz.length).padStart(10)}  sha256 ${manifest.files.vmlinuz.sha256}`);
  console.log(
    `  initrd.img  ${mb(initrd.length).padStart(10)}  sha256 ${manifest.files['initrd.img'].sha256} (${mb(cpio.length)} uncompressed)`,
  );
  console.log(`  total       ${mb(total).padStart(10)}  (goal <= ${mb(BUDGET_BYTES)}${total > BUDGET_BYTES ? ', OVER BUDGET' : ''})`);
  console.log(
    `  uncompressed by part: ${Object.entries(categories)
      .map(([k, v]) => `${k} ${mb(v)}`)
      .join(', ')}`,
  );
}

/**
 * The task tools overlay: the task tool packages' files plus the shared libraries they need that the
 * initrd does not already carry. Unpacked over the microkernel's tmpfs root by the agent, so paths are
 * the same as in the initrd and the dynamic loader finds the libraries without configuration.
 */
function buildTaskTools(initrdTree, taskTools, taskPkgs, root, libPkgs) {
  const tools = new Tree();
  for (const pkg of taskPkgs) addPackageFiles(tools, pkg, root.get(pkg), taskTools[pkg], 'task-tools');
  addLibraries(tools, indexLibraries(libPkgs.map((p) => root.get(p)).concat(taskPkgs.map((p) => root.get(p)))));
  for (const [p, e] of [...tools.entries]) if (e.type !== 'dir' && initrdTree.has(p)) tools.entries.delete(p);
  log(`task tools: ${taskPkgs.join(', ')} (${[...tools.entries.values()].filter((e) => e.type === 'file').length} files)`);
  return tools;
}

/** cpio (deterministic) + brotli: Node has the decoder, so the agent unpacks it without any tool. */
function packTaskTools(tools, epoch) {
  const cpio = writeCpio([...tools.entries.values()], epoch);
  const data = brotliCompressSync(cpio, {
    params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: cpio.length },
  });
  return { data, uncompressed: cpio.length };
}

/** Did this library package contribute one of the sonames in the image? (for the manifest) */
function sonamesFrom(r, root, sonames) {
  const dir = root.get(r.Package);
  return sonames.some((s) => ['lib/x86_64-linux-gnu', 'usr/lib/x86_64-linux-gnu', 'lib64'].some((d) => existsSync(path.join(dir, d, s))));
}

try {
  main();
} catch (e) {
  console.error(`\nmicrokernel build failed: ${e.message}`);
  process.exit(1);
}
