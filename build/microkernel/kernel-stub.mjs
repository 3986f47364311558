// The x86-64 microkernel's second kernel file, `vmlinuz-zstd`: Debian's own kernel, byte for byte, behind a boot
// stub that unpacks it with zstd instead of xz. On an emulated CPU (QEMU TCG) the xz stub spends about 3 s
// unpacking the 66 MB kernel before the kernel's first instruction; zstd takes a fraction of that
// (docs/perf/changes.md, "A zstd kernel stub"). Nothing of the kernel is rebuilt: the payload Debian compressed is
// unpacked, compressed again with zstd, and wrapped by the boot stub (arch/x86/boot: the real-mode setup, the
// decompressor, the EFI stub) built from Debian's linux-source of the same version with Debian's config.
//
// The result carries no Secure Boot signature, so `vmlinuz` (Debian's signed file, unchanged) stays beside it:
// shim/GRUB boot that one, iPXE boots this one (server/boot/microkernel-assets.ts). Built on an x86-64 host only
// (the stub is compiled with the host's gcc); the build reuses a result whose inputs have not changed.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sections } from './elf.mjs';

/** Bumped when the recipe below changes, so a cached stub from an older recipe is not reused. */
const RECIPE = 1;
/** Host programs the stub's build runs, and the Debian package of each. */
export const STUB_TOOLS = [
  ['gcc', 'gcc'],
  ['make', 'make'],
  ['flex', 'flex'],
  ['bison', 'bison'],
  ['bc', 'bc'],
  ['awk', 'mawk'],
  ['xz', 'xz-utils'],
  ['zstd', 'zstd'],
  ['tar', 'tar'],
  ['dpkg-deb', 'dpkg'],
];
/** Headers the build needs (objtool links libelf; scripts/sign-file includes OpenSSL's). */
const STUB_HEADERS = [
  ['/usr/include/gelf.h', 'libelf-dev'],
  ['/usr/include/openssl/ssl.h', 'libssl-dev'],
];
const FIX_SKIP = 'or build with --kernel-stub debian (iPXE then boots the xz kernel, about 3 s slower on an emulated CPU)';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

/** What is missing on this host for the stub's build (empty when nothing is). */
export function missingStubTools() {
  const missing = [];
  for (const [cmd, pkg] of STUB_TOOLS) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) missing.push(pkg);
  }
  for (const [file, pkg] of STUB_HEADERS) if (!existsSync(file)) missing.push(pkg);
  return [...new Set(missing)];
}

/** The fields of a bzImage's setup header this module reads (Linux boot protocol, Documentation/x86/boot.rst). */
export function readSetupHeader(buf) {
  if (buf.length < 0x270 || buf.toString('latin1', 0x202, 0x206) !== 'HdrS')
    throw new Error('not an x86 bzImage (no "HdrS" setup header at 0x202)');
  const setupSects = buf[0x1f1] || 4;
  const versionOff = buf.readUInt16LE(0x20e);
  const vstart = versionOff + 0x200;
  return {
    protocol: buf.readUInt16LE(0x206),
    /** Offset of the protected-mode code (the decompressor) in the file. */
    pmOffset: (setupSects + 1) * 512,
    kernelVersion: buf.toString('latin1', vstart, buf.indexOf(0, vstart)),
    loadflags: buf[0x211],
    kernelAlignment: buf.readUInt32LE(0x230),
    relocatable: buf[0x234],
    xloadflags: buf.readUInt16LE(0x236),
    payloadOffset: buf.readUInt32LE(0x248),
    payloadLength: buf.readUInt32LE(0x24c),
    prefAddress: buf.readBigUInt64LE(0x258),
    initSize: buf.readUInt32LE(0x260),
  };
}

/** The compressed kernel inside a bzImage, and which compressor made it (by its magic). */
export function payloadOf(buf) {
  const h = readSetupHeader(buf);
  if (h.protocol < 0x208) throw new Error(`boot protocol ${h.protocol.toString(16)} has no payload fields (2.08 or later needed)`);
  const start = h.pmOffset + h.payloadOffset;
  const payload = buf.subarray(start, start + h.payloadLength);
  const magic = payload.subarray(0, 6).toString('hex');
  const kind = magic === 'fd377a585a00' ? 'xz' : magic.startsWith('28b52ffd') ? 'zstd' : magic.startsWith('1f8b') ? 'gzip' : 'other';
  return { payload, kind, header: h };
}

/**
 * The four link-time addresses the decompressor is built against (arch/x86/boot/voffset.h), in System.map's
 * format. Debian's linux-image ships no real System.map, so they come from the kernel's own section headers:
 * `_text` and `__start_rodata` open .text and .rodata, `__bss_start` opens .bss, and `_end` is the page after .brk
 * (arch/x86/kernel/vmlinux.lds.S). Checked against the -dbg package's System.map for 6.1.0-57 (docs/microkernel.md).
 */
export function voffsetMap(vmlinux) {
  const { byName } = sections(vmlinux);
  const addr = (name) => {
    const s = byName.get(name);
    if (!s) throw new Error(`the kernel has no ${name} section\n  fix: ${FIX_SKIP}`);
    return s;
  };
  const brk = addr('.brk');
  const end = (brk.addr + BigInt(brk.size) + 0xfffn) & ~0xfffn;
  const line = (a, t, n) => `${a.toString(16).padStart(16, '0')} ${t} ${n}`;
  return [
    line(addr('.text').addr, 'T', '_text'),
    line(addr('.rodata').addr, 'D', '__start_rodata'),
    line(addr('.bss').addr, 'B', '__bss_start'),
    line(end, 'B', '_end'),
    '',
  ].join('\n');
}

/** `6.1.0-57-amd64 (user@host) #1 SMP ...` -> its parts, for the stub's own copy of the string. */
export function splitKernelVersion(s) {
  const m = /^(\S+) \(([^@()\s]+)@([^()\s]+)\) (#.*)$/.exec(s);
  if (!m) throw new Error(`unexpected kernel version string: ${JSON.stringify(s)}`);
  return { release: m[1], user: m[2], host: m[3], version: m[4] };
}

/** Replace `from` by `to` in `text`, exactly once, or fail (the source changed shape: the recipe needs a look). */
function replaceOnce(text, from, to, file) {
  const n = text.split(from).length - 1;
  if (n !== 1) throw new Error(`${file}: expected "${from}" once, found it ${n} times\n  fix: ${FIX_SKIP}`);
  return text.replace(from, to);
}

/**
 * Make (or reuse from the cache) `vmlinuz-zstd` for Debian's kernel package.
 * @param {{ apt: import('./apt.mjs').Apt, kernelRec: any, kroot: string, release: string, cacheDir: string, log: (s: string) => void }} o
 * @returns {{ bytes: Buffer, info: object }}
 */
export function zstdKernel(o) {
  const vmlinuz = readFileSync(path.join(o.kroot, 'boot', `vmlinuz-${o.release}`));
  const config = readFileSync(path.join(o.kroot, 'boot', `config-${o.release}`), 'utf8');
  const orig = payloadOf(vmlinuz);
  if (orig.kind !== 'xz' && orig.kind !== 'zstd')
    throw new Error(`${o.kernelRec.Package}: its payload is ${orig.kind}, not xz\n  fix: ${FIX_SKIP}`);
  const series = /^(\d+\.\d+)\./.exec(o.release)?.[1];
  const srcName = `linux-source-${series}`;
  const [srcRec] = o.apt.show([srcName]);
  if (srcRec.Version !== o.kernelRec.Version)
    throw new Error(
      `the mirror's ${srcName} is ${srcRec.Version}, the kernel ${o.kernelRec.Package} is ${o.kernelRec.Version}: the stub must come from the kernel's own source\n  fix: rerun with --refresh (the two are published together), ${FIX_SKIP}`,
    );
  const gcc = spawnSync('gcc', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  const key = sha256([RECIPE, sha256(vmlinuz), sha256(config), srcRec.SHA256, gcc].join('\n')).slice(0, 24);
  const dir = path.join(o.cacheDir, 'kernel-stub');
  const cached = path.join(dir, `${o.release}-${key}.bzImage`);
  const infoFile = cached.replace(/\.bzImage$/, '.json');
  if (existsSync(cached) && existsSync(infoFile)) {
    o.log(`kernel stub: reusing ${path.relative(process.cwd(), cached)}`);
    return { bytes: readFileSync(cached), info: JSON.parse(readFileSync(infoFile, 'utf8')) };
  }
  const missing = missingStubTools();
  if (missing.length > 0)
    throw new Error(
      `the zstd kernel stub needs ${missing.join(', ')} on this host\n  fix: apt-get install ${missing.join(' ')}, ${FIX_SKIP}`,
    );

  mkdirSync(dir, { recursive: true });
  const work = mkdtempSync(path.join(dir, 'work-'));
  try {
    const [rec] = o.apt.fetch([srcName]);
    o.log(`kernel stub: unpacking ${srcName} ${rec.Version}`);
    run('bash', [
      '-o',
      'pipefail',
      '-c',
      `dpkg-deb --fsys-tarfile "$0" | tar -xO ./usr/src/${srcName}.tar.xz | xz -dc | tar -x -C "$1"`,
      rec.deb,
      work,
    ]);
    const src = path.join(work, srcName);
    if (!existsSync(path.join(src, 'Makefile'))) throw new Error(`${srcName}: no ${srcName}/ tree in its tarball\n  fix: ${FIX_SKIP}`);

    const ver = splitKernelVersion(orig.header.kernelVersion);
    const jobs = String(Math.max(1, os.cpus().length));
    const makeVars = [`KERNELRELEASE=${ver.release}`, `KBUILD_BUILD_USER=${ver.user}`, `KBUILD_BUILD_HOST=${ver.host}`];
    const make = (...targets) => run('make', ['-s', '-C', src, `-j${jobs}`, ...makeVars, ...targets]);

    // Debian's config, with zstd as the kernel's compressor (Kconfig's choice: one on, the others off).
    writeFileSync(path.join(src, '.config'), config);
    run(path.join(src, 'scripts', 'config'), [
      '--file',
      path.join(src, '.config'),
      '--disable',
      'KERNEL_XZ',
      '--disable',
      'KERNEL_GZIP',
      '--enable',
      'KERNEL_ZSTD',
    ]);
    make('olddefconfig');
    if (!/^CONFIG_KERNEL_ZSTD=y$/m.test(readFileSync(path.join(src, '.config'), 'utf8')))
      throw new Error(`${srcName}: Kconfig did not keep CONFIG_KERNEL_ZSTD=y\n  fix: ${FIX_SKIP}`);
    o.log('kernel stub: make prepare, the EFI stub library');
    make('prepare');
    make('drivers/firmware/efi/libstub/');
    // Two files the stub includes that the full build generates on its way to vmlinux.
    make('arch/x86/kernel/cpu/capflags.o');
    const inat = run('awk', [
      '-f',
      path.join(src, 'arch/x86/tools/gen-insn-attr-x86.awk'),
      path.join(src, 'arch/x86/lib/x86-opcode-map.txt'),
    ]);
    writeFileSync(path.join(src, 'arch/x86/lib/inat-tables.c'), inat);
    writeFileSync(path.join(src, 'include/generated/utsversion.h'), `#define UTS_VERSION ${JSON.stringify(ver.version)}\n`);

    // The decompressor's inputs come from Debian's kernel instead of a vmlinux built here: the payload as Debian
    // compressed it (the stripped ELF with its relocations appended), and the link-time addresses from it.
    const unpacked = decompress(orig.kind, orig.payload);
    const cdir = path.join(src, 'arch/x86/boot/compressed');
    writeFileSync(path.join(cdir, 'vmlinux.bin.all'), unpacked);
    writeFileSync(path.join(cdir, 'System.map'), voffsetMap(unpacked));
    const mf = path.join(cdir, 'Makefile');
    let text = readFileSync(mf, 'utf8');
    text = replaceOnce(text, 'vmlinux.bin.all-y := $(obj)/vmlinux.bin\n', 'vmlinux.bin.all-y := $(obj)/vmlinux.bin.all\n', mf);
    text = replaceOnce(text, 'vmlinux.bin.all-$(CONFIG_X86_NEED_RELOCS) += $(obj)/vmlinux.relocs\n', '\n', mf);
    text = replaceOnce(text, '$(obj)/../voffset.h: vmlinux FORCE', '$(obj)/../voffset.h: $(obj)/System.map FORCE', mf);
    text = replaceOnce(text, 'cmd_voffset = $(NM) $< | sed', 'cmd_voffset = cat $< | sed', mf);
    writeFileSync(mf, text);
    // `-o vmlinux`: the top level must not build a kernel; arch/x86/boot only reads the files above.
    writeFileSync(path.join(src, 'vmlinux'), '');
    o.log(`kernel stub: compressing ${(unpacked.length / 1048576).toFixed(1)} MiB with zstd -22 and building the stub`);
    make('-o', 'vmlinux', 'bzImage');
    const bytes = readFileSync(path.join(src, 'arch/x86/boot/bzImage'));
    const info = check(bytes, vmlinuz, unpacked, { source: `${srcName} ${rec.Version}`, gcc });
    writeFileSync(cached + '.tmp', bytes);
    writeFileSync(infoFile, JSON.stringify(info, null, 2) + '\n');
    renameSync(cached + '.tmp', cached);
    return { bytes, info };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Unpack a kernel payload with the host's tool for its kind. Kbuild appends the unpacked size (4 bytes, little
 * endian) to the compressed stream; it is checked here and not given to the tool.
 */
function decompress(kind, payload) {
  const r = spawnSync(kind === 'xz' ? 'xz' : 'zstd', ['-dc'], { input: payload.subarray(0, payload.length - 4), maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`cannot unpack the kernel's ${kind} payload: ${r.stderr}\n  fix: ${FIX_SKIP}`);
  const said = payload.readUInt32LE(payload.length - 4);
  if (r.stdout.length !== said)
    throw new Error(`the kernel's ${kind} payload unpacks to ${r.stdout.length} bytes, its size trailer says ${said}\n  fix: ${FIX_SKIP}`);
  return r.stdout;
}

/**
 * What makes the new file trustworthy: its payload unpacks to exactly Debian's kernel, and the boot-protocol
 * fields a loader reads (and the version string tools show) are Debian's. Only the stub's size, the payload and
 * the memory it asks for (init_size) may differ.
 */
function check(bytes, debian, unpacked, extra) {
  const mine = payloadOf(bytes);
  if (mine.kind !== 'zstd') throw new Error(`the built stub's payload is ${mine.kind}, not zstd\n  fix: ${FIX_SKIP}`);
  if (sha256(decompress('zstd', mine.payload)) !== sha256(unpacked))
    throw new Error(`the zstd payload does not unpack to Debian's kernel\n  fix: ${FIX_SKIP}`);
  const d = readSetupHeader(debian);
  const m = mine.header;
  for (const k of ['protocol', 'kernelVersion', 'loadflags', 'kernelAlignment', 'relocatable', 'xloadflags', 'prefAddress']) {
    if (m[k] !== d[k]) throw new Error(`the built stub's ${k} is ${m[k]}, Debian's ${d[k]}\n  fix: ${FIX_SKIP}`);
  }
  return {
    stub: 'zstd',
    ...extra,
    kernel_sha256: sha256(unpacked),
    debian_payload: { kind: payloadOf(debian).kind, bytes: d.payloadLength },
    payload_bytes: m.payloadLength,
    init_size: m.initSize,
    kernel_version: m.kernelVersion,
  };
}

/** Run a program; its stdout, or an error with its last lines and the fix. */
function run(cmd, args) {
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, env: { ...process.env, LC_ALL: 'C' } });
  if (r.error || r.status !== 0) {
    const tail = `${r.stderr ?? ''}`.trim().split('\n').slice(-6).join('\n    ');
    throw new Error(`kernel stub: ${cmd} ${args.slice(0, 6).join(' ')} failed: ${r.error?.message ?? tail}\n  fix: ${FIX_SKIP}`);
  }
  return r.stdout;
}
