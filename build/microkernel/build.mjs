#!/usr/bin/env node
// npm run build:microkernel [-- --arch amd64|arm64] [--debug --ssh-key KEY.pub] [--config FILE] [--out DIR] [--refresh]
// Builds build/out/microkernel/{vmlinuz,initrd.img,manifest.json} (arm64: build/out/microkernel-arm64/) from
// Debian packages (apt-get download + dpkg-deb -x into build/out/cache; nothing is installed on the host) and
// the pinned Node runtime from npm. Fails when kernel + initrd exceed the budget. See docs/microkernel.md.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { Apt } from './apt.mjs';
import { archFor, hostArch } from './arch.mjs';
import { appletList, linkApplets } from './busybox.mjs';
import { COMPRESSORS, compress } from './compress.mjs';
import { writeCpio } from './cpio.mjs';
import { isElf, machine } from './elf.mjs';
import { addEtc } from './etc.mjs';
import { cutZeroRun, holeLine } from './holes.mjs';
import { selectFirmware, selectModules } from './kmods.mjs';
import { makeCodeCache } from './code-cache.mjs';
import { zstdKernel } from './kernel-stub.mjs';
import { nodeRuntime } from './node-runtime.mjs';
import { Tree, addLibraries, imageLibDir, indexLibraries, resolveIn } from './tree.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const t0 = Date.now();
const log = (s) => console.log(`[microkernel ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${s}`);
const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const mb = (n) => `${(n / 1048576).toFixed(1)} MiB`;
/** zstd: fastest to unpack on a slow CPU for its size (docs/performance.md, "Microkernel"). */
const DEFAULT_COMPRESSOR = 'zstd';

function usage(msg) {
  console.error(`${msg ? msg + '\n' : ''}usage: node build/microkernel/build.mjs [--arch amd64|arm64] [--debug --ssh-key FILE.pub] [--config FILE]
       [--agent FILE] [--out DIR] [--cache DIR] [--compress ${Object.keys(COMPRESSORS).join('|')}] [--fast] [--refresh]
       [--mirror URL] [--security-mirror URL] [--budget-mib N] [--kernel-stub zstd|debian]`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = {
    arch: hostArch().debian,
    debug: false,
    sshKey: null,
    config: null,
    agent: path.join(repo, 'build/out/agent/crashcart-agent.mjs'),
    out: null,
    cache: path.join(repo, 'build/out/cache'),
    compress: DEFAULT_COMPRESSOR,
    refresh: false,
    fast: false,
    budgetMib: null,
    /** zstd: also write vmlinuz-zstd, Debian's kernel behind a zstd boot stub (kernel-stub.mjs); amd64 on an x86-64 host. */
    kernelStub: process.arch === 'x64' ? 'zstd' : 'debian',
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => argv[++i] ?? usage(`${k} needs a value`);
    if (k === '--arch') a.arch = v();
    else if (k === '--debug') a.debug = true;
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
    else if (k === '--budget-mib') a.budgetMib = Number(v());
    else if (k === '--kernel-stub') a.kernelStub = v();
    else if (k === '--help' || k === '-h') usage();
    else usage(`unknown option ${k}`);
  }
  if (!COMPRESSORS[a.compress]) usage(`--compress must be one of ${Object.keys(COMPRESSORS).join(', ')}`);
  if (a.debug && !a.sshKey) usage('--debug needs --ssh-key FILE.pub (the public key allowed to log in as root)');
  if (a.sshKey && !a.debug) usage('--ssh-key only makes sense with --debug: production images have no SSH');
  if (a.budgetMib !== null && !(a.budgetMib > 0)) usage('--budget-mib needs a positive number of MiB');
  if (!['zstd', 'debian'].includes(a.kernelStub)) usage('--kernel-stub must be zstd or debian');
  if (a.kernelStub === 'zstd' && process.arch !== 'x64')
    usage("--kernel-stub zstd builds an x86-64 boot stub with this host's gcc: on this host pass --kernel-stub debian");
  return a;
}

/** Base config, its per-architecture additions, and the user's extension file (extra packages, modules, firmware). */
function loadConfig(file, arch) {
  const base = JSON.parse(readFileSync(path.join(here, 'config.json'), 'utf8'));
  const own = base.arch?.[arch.debian] ?? {};
  for (const key of ['module_paths', 'module_exclude', 'boot_modules', 'settle_modules']) base[key] = [...base[key], ...(own[key] ?? [])];
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
    // A same-directory symlink (e.g. lldpctl -> lldpcli) stays a symlink: same behaviour, no second copy.
    const own = path.join(root, f);
    if (lstatSync(own).isSymbolicLink() && !readlinkSync(own).includes('/')) {
      tree.symlink(dest, readlinkSync(own));
      continue;
    }
    tree.file(dest, readFileSync(host), /\/s?bin\//.test(dest) ? 0o755 : 0o644, category);
  }
}

/** Every ELF file in the tree must be for the target machine (a host binary slipping in would not run). */
function checkMachines(tree, arch) {
  const wrong = [...tree.entries.values()]
    .filter((e) => e.type === 'file' && isElf(e.data) && !e.path.endsWith('.ko') && machine(e.data) !== arch.elfMachine)
    .map((e) => `/${e.path} (e_machine ${machine(e.data)})`);
  if (wrong.length > 0)
    throw new Error(`not ${arch.debian} binaries: ${wrong.join(', ')}\n  fix: every file must come from the ${arch.debian} packages`);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const arch = archFor(args.arch);
  const out = args.out ?? path.join(repo, 'build/out', arch.outDir);
  const cfg = loadConfig(args.config, arch);
  const budget = args.budgetMib !== null ? Math.round(args.budgetMib * 1048576) : cfg.budget_bytes[arch.debian];
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? 0);
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new Error(
      'SOURCE_DATE_EPOCH must be a non-negative integer (seconds)\n  fix: unset it or export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)',
    );
  need('dpkg-deb', 'dpkg');
  need('apt-get', 'apt');
  need('npm', 'npm (it comes with Node.js)');
  need('icupkg', 'icu-devtools');
  need(arch.strip.cmd, arch.strip.pkg);
  need(COMPRESSORS[args.compress].cmd, COMPRESSORS[args.compress].pkg);
  if (!existsSync(args.agent)) {
    throw new Error(
      `the agent bundle ${path.relative(repo, args.agent)} does not exist\n  fix: run "node build/agent-bundle.mjs" first (it bundles agent/cli.ts), or pass --agent FILE`,
    );
  }
  log(`${arch.debian} ${args.debug ? 'DEBUG' : 'production'} image, compression ${args.compress}, SOURCE_DATE_EPOCH=${epoch}`);

  const apt = new Apt(args.cache, { arch: arch.debian, log, mirror: args.mirror, securityMirror: args.securityMirror });
  apt.update(args.refresh);

  // 1. Packages: the kernel the metapackage names, the tools, their library closure, firmware.
  const [meta] = apt.show([arch.kernelPackage]);
  const kpkg = /^(linux-image-[^\s(,]+)/.exec(meta.Depends ?? '')?.[1];
  if (!kpkg) throw new Error(`${arch.kernelPackage} does not depend on a linux-image package\n  fix: rerun with --refresh`);
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
  for (const d of ['dev', 'proc', 'sys', 'run', 'tmp', 'root', 'etc', 'var', 'usr/bin', 'usr/sbin', 'mnt']) tree.dir(d);
  tree.dir('tmp', 0o1777);
  tree.dir('root', 0o700);
  const links = [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
    ['var/run', '/run'],
  ];
  if (arch.interpreter.startsWith('/lib64/')) links.push(['lib64', 'usr/lib64']);
  for (const [l, t] of links) tree.symlink(l, t);
  tree.char('dev/console', 5, 1);
  tree.char('dev/null', 1, 3, 0o666);

  // 2. Tools and busybox applets.
  for (const pkg of toolPkgs) addPackageFiles(tree, pkg, root.get(pkg), toolSets[pkg], pkg === 'busybox-static' ? 'busybox' : 'tools');
  const bb = { root: root.get('busybox-static'), version: rec.get('busybox-static').Version };
  let hostBb = null;
  if (arch !== hostArch()) {
    const hostApt = new Apt(args.cache, { arch: hostArch().debian, log, mirror: args.mirror, securityMirror: args.securityMirror });
    hostApt.update(args.refresh);
    const [r] = hostApt.fetch(['busybox-static']);
    hostBb = { root: hostApt.unpack(r), version: r.Version };
  }
  const applets = linkApplets(tree, appletList(bb, arch === hostArch(), hostBb));
  log(`busybox ${bb.version}: ${applets} applets linked; tools: ${toolPkgs.filter((p) => p !== 'busybox-static').join(', ')}`);

  // 3. Node runtime: the pinned official binary for the target architecture, stripped.
  const node = nodeRuntime(arch, args.cache, log);
  tree.file('usr/bin/node', node.bytes, 0o755, 'node');
  log(
    `node ${node.version} (${node.package}, ${mb(node.bytes.length)} stripped; ICU data ${mb(node.icu.bytes_before)} -> ${mb(node.icu.bytes_after)})`,
  );

  // 4. Shared libraries for every ELF file so far, from the Debian library packages.
  const libIndex = indexLibraries(libPkgs.map((p) => root.get(p)).concat(toolPkgs.map((p) => root.get(p))), arch);
  const sonames = addLibraries(tree, libIndex, arch);
  log(`${sonames.length} shared libraries`);
  const tools = buildTaskTools(tree, cfg.task_tools ?? {}, taskPkgs, root, libPkgs, arch);

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
  const fw = selectFirmware(fwRoots, mods.firmwareWanted, cfg.extra.firmware, cfg.firmware_exclude ?? []);
  for (const f of fw.files) tree.file(`usr/lib/firmware/${f.name}`, f.data, 0o644, 'firmware');
  log(
    `firmware: ${fw.files.length} files (${mb(fw.files.reduce((n, f) => n + f.data.length, 0))}); ${fw.missing.length} names the drivers declare are not in Debian's packages`,
  );

  // 7. Agent (CommonJS, its loader and the V8 code cache: code-cache.mjs), init and configuration.
  const agentCjsPath = args.agent.replace(/\.mjs$/, '.cjs');
  if (!existsSync(agentCjsPath))
    throw new Error(
      `${agentCjsPath} is missing (the microkernel runs the CommonJS build of the agent)\n  fix: node build/agent-bundle.mjs`,
    );
  const agent = readFileSync(agentCjsPath);
  const loader = readFileSync(path.join(here, 'rootfs', 'agent-loader.cjs'));
  tree.file('usr/lib/crashcart/crashcart-agent.cjs', agent, 0o644, 'agent');
  tree.file('usr/lib/crashcart/agent-loader.cjs', loader, 0o644, 'agent');
  const codeCache = makeCodeCache({
    nodeBytes: node.bytes,
    loader,
    agentCjs: agent,
    superviseText: readFileSync(path.join(here, 'rootfs', 'supervise-agent'), 'utf8'),
    runnable: arch === hostArch(),
  });
  if (codeCache.cache) tree.file('usr/lib/crashcart/crashcart-agent.cjs.cache', codeCache.cache, 0o644, 'agent');
  log(codeCache.cache ? `agent code cache: ${mb(codeCache.cache.length)}` : `agent code cache: none (${codeCache.why})`);
  addEtc(tree, {
    rootfs: path.join(here, 'rootfs'),
    bootModules: cfg.boot_modules,
    settleModules: cfg.settle_modules,
    debug: args.debug,
    sshKey: args.sshKey,
  });
  checkMachines(tree, arch);

  // 8. Node stored without the zeros the ICU trim left (holes.mjs), now that nothing reads its ELF headers any more;
  // rootfs/fill-holes puts the file back at the start of init. Then archive, compress, write.
  const nodeCut = cutZeroRun(node.bytes);
  const holes = [];
  if (nodeCut) {
    tree.file('usr/bin/node', nodeCut.head, 0o755, 'node');
    tree.file('usr/lib/crashcart/holes/node.tail', nodeCut.tail, 0o644, 'node');
    holes.push({ ...nodeCut, file: '/usr/bin/node', tailFile: '/usr/lib/crashcart/holes/node.tail' });
    log(`node stored without its ${mb(nodeCut.offset - nodeCut.head.length)} run of zeros`);
  }
  tree.file('etc/crashcart/holes', Buffer.from(holes.map((h) => holeLine(h, h.file, h.tailFile) + '\n').join('')), 0o644, 'init');
  log(`writing cpio (${tree.entries.size} entries)`);
  const cpio = writeCpio([...tree.entries.values()], epoch);
  log(`compressing ${mb(cpio.length)} with ${args.compress}${args.fast ? ' (fast)' : ''} (single thread, deterministic)`);
  const initrd = compress(args.compress, cpio, args.fast);
  const vmlinuz = readFileSync(path.join(kroot, 'boot', `vmlinuz-${mods.release}`));
  // amd64: the same kernel behind a zstd boot stub, for iPXE (kernel-stub.mjs); vmlinuz stays Debian's signed file.
  const stub =
    arch.debian === 'amd64' && args.kernelStub === 'zstd'
      ? zstdKernel({ apt, kernelRec: rec.get(kpkg), kroot, release: mods.release, cacheDir: args.cache, log })
      : null;
  mkdirSync(out, { recursive: true });
  const writeAtomic = (name, data) => {
    writeFileSync(path.join(out, name + '.tmp'), data);
    renameSync(path.join(out, name + '.tmp'), path.join(out, name));
  };
  const toolsImg = packTaskTools(tools, epoch);

  // What one boot downloads at most: the initrd and the larger of the two kernels (iPXE's or shim/GRUB's).
  const total = Math.max(vmlinuz.length, stub?.bytes.length ?? 0) + initrd.length;
  const categories = Object.fromEntries([...tree.categories.entries()].sort((a, b) => b[1] - a[1]));
  const libdirs = ['lib', 'usr/lib'].map((d) => `${d}/${arch.triplet}`).concat(['lib64', imageLibDir(arch)]);
  const manifest = {
    format: 2,
    /** What `crashcart serve` shows as the microkernel version: kernel release + initrd digest. */
    version: `${mods.release}+${sha256(initrd).slice(0, 12)}`,
    arch: arch.debian,
    uname_machine: arch.uname,
    debug: args.debug,
    source_date_epoch: epoch,
    compression: `${args.compress}${args.fast ? ' (fast, dev loop)' : ''}`,
    kernel: { package: kpkg, version: rec.get(kpkg).Version, release: mods.release },
    node: {
      version: node.version,
      package: node.package,
      tarball_sha256: node.tarballSha256,
      icu: node.icu,
      /** The binary as it runs (after fill-holes), whatever the image stores. */
      bytes: node.bytes.length,
      sha256: sha256(node.bytes),
    },
    /** Files stored without a run of zeros (holes.mjs): the run's bytes are in no file of the initramfs. */
    holes: holes.map((h) => ({ file: h.file, tail: h.tailFile, bytes: h.size, hole_from: h.head.length, hole_to: h.offset })),
    agent: {
      file: path.relative(repo, agentCjsPath),
      bytes: agent.length,
      sha256: sha256(agent),
      code_cache: codeCache.cache ? { bytes: codeCache.cache.length, sha256: sha256(codeCache.cache) } : { bytes: 0, why: codeCache.why },
    },
    files: {
      vmlinuz: { bytes: vmlinuz.length, sha256: sha256(vmlinuz) },
      ...(stub ? { 'vmlinuz-zstd': { bytes: stub.bytes.length, sha256: sha256(stub.bytes), ...stub.info } } : {}),
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
    budget_bytes: budget,
    uncompressed_by_category: categories,
    largest_files: tree.largest(12),
    modules: { count: mods.modules.length, boot_modules: cfg.boot_modules, settle_modules: cfg.settle_modules },
    firmware: { files: fw.files.map((f) => `${f.pkg}: ${f.name}`), not_in_debian: fw.missing },
    packages: recs
      .filter(
        (r) =>
          r.Package === kpkg ||
          toolPkgs.includes(r.Package) ||
          cfg.firmware_packages.includes(r.Package) ||
          sonames.some((s) => libdirs.some((d) => existsSync(path.join(root.get(r.Package), d, s)))),
      )
      .map((r) => ({ name: r.Package, version: r.Version, sha256: r.SHA256 })),
    config: args.config ? path.relative(repo, args.config) : null,
  };
  // The budget is checked before anything is written, so an oversized image never replaces a good one.
  // --fast (dev loop, low compression levels) only warns: its images are larger by design and the budget
  // test rejects them anyway.
  if (total > budget && args.fast) log(`WARNING: ${mb(total)} is over the ${mb(budget)} budget (fast build, dev loop only)`);
  else if (total > budget) {
    throw new Error(
      `kernel + initrd are ${mb(total)} (${total} bytes), over the ${mb(budget)} budget; largest: ${manifest.largest_files
        .slice(0, 5)
        .map((f) => `${f.path} ${mb(f.bytes)}`)
        .join(
          ', ',
        )}\n  fix: remove what grew (build/microkernel/config.json: tools, module_paths, firmware), or for a site image that needs it pass --budget-mib N`,
    );
  }
  writeAtomic('vmlinuz', vmlinuz);
  if (stub) writeAtomic('vmlinuz-zstd', stub.bytes);
  writeAtomic('initrd.img', initrd);
  writeAtomic('tools.img', toolsImg.data);
  writeAtomic('manifest.json', JSON.stringify(manifest, null, 2) + '\n');
  // Without a stub, an old vmlinuz-zstd would be booted with this initrd: removed once the manifest no longer names it.
  if (!stub) rmSync(path.join(out, 'vmlinuz-zstd'), { force: true });

  log(`done: ${path.relative(repo, out)}`);
  console.log(`  vmlinuz     ${mb(vmlinuz.length).padStart(10)}  sha256 ${manifest.files.vmlinuz.sha256}`);
  if (stub) console.log(`  vmlinuz-zstd ${mb(stub.bytes.length).padStart(9)}  sha256 ${sha256(stub.bytes)} (the same kernel, zstd stub)`);
  console.log(
    `  initrd.img  ${mb(initrd.length).padStart(10)}  sha256 ${manifest.files['initrd.img'].sha256} (${mb(cpio.length)} uncompressed)`,
  );
  console.log(`  total       ${mb(total).padStart(10)}  (budget ${mb(budget)})`);
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
function buildTaskTools(initrdTree, taskTools, taskPkgs, root, libPkgs, arch) {
  const tools = new Tree();
  for (const pkg of taskPkgs) addPackageFiles(tools, pkg, root.get(pkg), taskTools[pkg], 'task-tools');
  addLibraries(tools, indexLibraries(libPkgs.map((p) => root.get(p)).concat(taskPkgs.map((p) => root.get(p))), arch), arch);
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

try {
  main();
} catch (e) {
  console.error(`\nmicrokernel build failed: ${e.message}`);
  process.exit(1);
}
