/**
 * Size budget (issue 17): kernel + compressed initrd of each built microkernel must stay within the budget
 * in build/microkernel/config.json. The build itself refuses to write an image past it; this test reads
 * build/out/<dir>/manifest.json and the files, so an image built with `--budget-mib` (a site override) or an
 * old oversized one left in build/out fails here too. Every node downloads these bytes on every boot. With two
 * kernels (amd64: Debian's signed vmlinuz for shim/GRUB, vmlinuz-zstd for iPXE) the larger one counts.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { MICROKERNEL_DIRS, REPO_ROOT, microkernelDirFor, type MicrokernelArch } from '../../server/boot/microkernel-assets.ts';

interface BuildConfig {
  budget_bytes: Record<MicrokernelArch, number>;
}
interface Manifest {
  arch: string;
  total_bytes: number;
  budget_bytes: number;
  files: Record<string, { bytes: number }>;
}

const MiB = 1048576;
/** Issue 17's goal for the x86 microkernel: at most 45 MiB (its figures, e.g. "59 MB", are MiB). */
const AMD64_GOAL_BYTES = 45 * MiB;
const config = JSON.parse(readFileSync(path.join(REPO_ROOT, 'build/microkernel/config.json'), 'utf8')) as BuildConfig;

describe.each(Object.keys(MICROKERNEL_DIRS) as MicrokernelArch[])('microkernel size budget: %s', (arch) => {
  const dir = microkernelDirFor(arch, path.join(REPO_ROOT, 'build/out'));

  it('kernel + initrd fit the budget in config.json, which the manifest was built with', () => {
    const file = path.join(dir, 'manifest.json');
    if (!existsSync(file)) throw new Error(`${file} is missing\n  fix: npm run build:microkernel -- --arch ${arch}`);
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    const budget = config.budget_bytes[arch];
    expect(budget, 'config.json budget_bytes').toBeGreaterThan(0);
    // The real files, not only the manifest's word for them.
    // A boot downloads the initrd and one kernel: iPXE's vmlinuz-zstd (amd64) or shim/GRUB's vmlinuz.
    const kernels = ['vmlinuz', 'vmlinuz-zstd'].filter((f) => existsSync(path.join(dir, f)));
    const vmlinuz = Math.max(...kernels.map((f) => statSync(path.join(dir, f)).size));
    const initrd = statSync(path.join(dir, 'initrd.img')).size;
    expect(m.arch).toBe(arch);
    expect(kernels.sort()).toEqual(
      Object.keys(m.files)
        .filter((f) => f.startsWith('vmlinuz'))
        .sort(),
    );
    expect(m.total_bytes).toBe(vmlinuz + initrd);
    expect(m.budget_bytes, 'built with --budget-mib: rebuild without it').toBe(budget);
    console.log(
      `microkernel ${arch}: ${((vmlinuz + initrd) / MiB).toFixed(1)} MiB of ${(budget / MiB).toFixed(1)} MiB (kernel ${(vmlinuz / MiB).toFixed(1)}, initrd ${(initrd / MiB).toFixed(1)})`,
    );
    expect(vmlinuz + initrd).toBeLessThanOrEqual(budget);
  });
});

describe('microkernel size goal', () => {
  it('the amd64 budget is issue 17 goal or tighter', () => {
    expect(config.budget_bytes.amd64).toBeLessThanOrEqual(AMD64_GOAL_BYTES);
  });
});
