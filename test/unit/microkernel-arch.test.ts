/**
 * The on-disk layout of per-architecture microkernels is written by the build (build/microkernel/arch.mjs)
 * and read by the appliance (server/boot/microkernel-assets.ts): both must name the same folders, and the
 * names machines use for themselves must land on the right one.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MICROKERNEL_DIRS, REPO_ROOT, microkernelArch, microkernelDirFor } from '../../server/boot/microkernel-assets.ts';

interface BuildArch {
  debian: string;
  outDir: string;
  uname: string;
  elfMachine: number;
}
const build = (await import(pathToFileURL(path.join(REPO_ROOT, 'build/microkernel/arch.mjs')).href)) as {
  ARCHES: Record<string, BuildArch>;
  archFor: (name: string) => BuildArch;
};

describe('microkernel architectures', () => {
  it('the build writes each architecture where the appliance looks for it', () => {
    expect(Object.keys(build.ARCHES).sort()).toEqual(Object.keys(MICROKERNEL_DIRS).sort());
    for (const [arch, a] of Object.entries(build.ARCHES)) {
      expect(a.outDir).toBe(MICROKERNEL_DIRS[arch as keyof typeof MICROKERNEL_DIRS]);
      expect(microkernelDirFor(arch as 'amd64' | 'arm64', '/data')).toBe(path.join('/data', a.outDir));
    }
    // x86 keeps the historic folder, so `crashcart serve` and the e2e find it where they always did.
    expect(microkernelDirFor('amd64', path.join(REPO_ROOT, 'build/out'))).toBe(path.join(REPO_ROOT, 'build/out/microkernel'));
  });

  it('maps iPXE ${buildarch}, uname -m and Debian names to one microkernel, and refuses the rest', () => {
    for (const n of ['x86_64', 'X86_64', 'amd64', 'x64', 'i386']) expect(microkernelArch(n), n).toBe('amd64');
    for (const n of ['arm64', 'aarch64', 'AArch64']) expect(microkernelArch(n), n).toBe('arm64');
    for (const n of ['arm32', 'riscv64', 'ppc64le', '', 'amd64 ', '../amd64']) expect(microkernelArch(n), n).toBeNull();
    // The build accepts the same names for --arch (i386 excepted: nothing is built for it).
    for (const n of ['x86_64', 'amd64', 'x64', 'arm64', 'aarch64']) expect(build.archFor(n).debian).toBe(microkernelArch(n));
    expect(() => build.archFor('i386')).toThrow(/--arch amd64/);
    // What the agent reports as its machine is what uname -m says in that image.
    expect(build.ARCHES['arm64']!.uname).toBe('aarch64');
    expect(build.ARCHES['arm64']!.elfMachine).toBe(183);
    expect(build.ARCHES['amd64']!.elfMachine).toBe(62);
  });
});
