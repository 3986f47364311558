/**
 * The built debian12 image (build/out/images/debian12) checked from the inside without booting it: the
 * manifest matches the file, the importer records what the recipe promises (GPT with a BIOS boot
 * partition, an ESP with the fallback loader, an ext4 root; boots with both firmware types; NoCloud
 * first boot), the root filesystem carries no per-machine secrets (SSH host keys, machine-id), the
 * boot configuration names the filesystems it was built with, and the image stays within its size
 * budget. The QEMU boot is debian12-boot.test.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../server/boot/microkernel-assets.ts';
import { openStore } from '../../server/store/store.ts';
import { importDiskImage } from '../../server/images/disk-import.ts';
import { openFileSource } from '../../server/images/file-source.ts';
import { sliceSource } from '../../server/images/codec/block-source.ts';
import { openFat } from '../../server/images/codec/fat.ts';
import { openExt4, type Ext4Volume } from '../../server/images/codec/ext4.ts';
import type { DiskImageInfo } from '../../contract/disk-image.ts';
import { run, tmpDir } from './harness/tools.ts';

const DIR = path.join(REPO_ROOT, 'build/out/images/debian12');
/** Budgets: a minimal Debian with a bare-metal kernel. Growing past them is a decision, not an accident. */
const RAW_BUDGET = 1.5 * 1024 ** 3;
const ZST_BUDGET = 256 * 1024 ** 2;

const work = tmpDir('d12');
let info: DiskImageInfo;
let raw: string;
let root: Ext4Volume;
let closeRaw: () => Promise<void>;
const text = async (p: string) => {
  const ino = await root.lookup(p);
  return ino ? new TextDecoder().decode(await root.readFile(ino, 1 << 20)) : null;
};

/** Regular files below a directory of the root filesystem. */
async function filesUnder(dir: string): Promise<number> {
  const ino = await root.lookup(dir);
  if (!ino) return 0;
  let n = 0;
  for (const e of await root.readDir(ino)) {
    const child = await root.lookup(`${dir}/${e.name}`);
    if (!child) continue;
    if ((child.mode & 0xf000) === 0x4000) n += await filesUnder(`${dir}/${e.name}`);
    else n++;
  }
  return n;
}

beforeAll(async () => {
  const zst = path.join(DIR, 'disk.raw.zst');
  if (!fs.existsSync(zst)) throw new Error(`${zst} is missing\n  fix: bash scripts/ensure-test-deps.sh (builds it once)`);
  const manifest = JSON.parse(fs.readFileSync(path.join(DIR, 'manifest.json'), 'utf8'));
  expect(fs.statSync(zst).size).toBe(manifest.zst.size);
  expect(createHash('sha256').update(fs.readFileSync(zst)).digest('hex')).toBe(manifest.zst.sha256);
  const store = await openStore(path.join(work, 'data'), 0);
  try {
    const doc = await importDiskImage({
      col: store.images,
      dataDir: path.join(work, 'data'),
      name: 'debian12',
      source: fs.createReadStream(zst),
      sourceSize: manifest.zst.size,
      builder: {
        recipe: 'debian12',
        recipe_version: manifest.recipe_version,
        source_date_epoch: manifest.source_date_epoch,
        packages: manifest.packages.length,
      },
      now: () => new Date(),
    });
    info = doc.disk!;
    expect(info.sha256).toBe(manifest.raw.sha256);
  } finally {
    await store.close();
  }
  raw = path.join(work, 'disk.raw');
  run('zstd', ['-q', '-d', '--sparse', zst, '-o', raw]);
  const src = await openFileSource(raw);
  closeRaw = () => src.close();
  const p3 = info.partition_table.partitions[2]!;
  root = await openExt4(sliceSource(src, p3.start, p3.size));
}, 300_000);
afterAll(async () => {
  await closeRaw?.();
  fs.rmSync(work, { recursive: true, force: true });
});

describe('the built debian12 image', () => {
  it('is recorded as the recipe promises', () => {
    expect(info.partition_table.type).toBe('gpt');
    expect(info.partition_table.partitions.map((p) => [p.number, p.role, p.filesystem, p.start, p.name])).toEqual([
      [1, 'bios-boot', 'unknown', 1024 ** 2, 'BIOS boot'],
      [2, 'esp', 'vfat', 2 * 1024 ** 2, 'EFI system'],
      [3, 'linux-root', 'ext4', 66 * 1024 ** 2, 'root'],
    ]);
    expect(info).toMatchObject({
      firmware: 'both',
      first_boot: 'nocloud',
      first_boot_source: 'detected',
      os: 'Debian GNU/Linux 12 (bookworm)',
      root_partition: 3,
      warnings: [],
    });
    expect(info.stored_sha256).toBe(info.source.sha256); // a zstd input is stored as it came
  });

  it('stays within its size budget', () => {
    expect(info.size).toBeLessThan(RAW_BUDGET);
    expect(info.stored_size).toBeLessThan(ZST_BUDGET);
  });

  it('the ESP holds the UEFI fallback loader', async () => {
    const src = await openFileSource(raw);
    try {
      const p2 = info.partition_table.partitions[1]!;
      const fat = await openFat(sliceSource(src, p2.start, p2.size));
      expect(fat.type).toBe('fat32');
      const loader = await fat.lookup('EFI/BOOT/BOOTX64.EFI');
      expect(loader?.size).toBeGreaterThan(100_000);
    } finally {
      await src.close();
    }
  });

  it('carries no per-machine secrets or identity', async () => {
    const ssh = (await root.readDir((await root.lookup('/etc/ssh'))!)).map((e) => e.name);
    expect(ssh.filter((n) => n.startsWith('ssh_host_'))).toEqual([]);
    expect(await text('/etc/machine-id')).toBe('');
    expect(await text('/etc/hostname')).toBe('localhost\n');
    expect(await text('/etc/resolv.conf')).toBe('');
    expect(await text('/etc/systemd/system/ssh.service.d/10-crashcart-hostkeys.conf')).toContain('ssh-keygen -A');
  });

  it('boots by filesystem UUID, with NoCloud first', async () => {
    const fstab = (await text('/etc/fstab'))!;
    expect(fstab).toContain(`UUID=${root.uuid} / ext4`);
    const grub = (await text('/boot/grub/grub.cfg'))!;
    expect(grub).toContain(`search.fs_uuid ${root.uuid} root`);
    expect(grub).toContain(`root=UUID=${root.uuid}`);
    expect(grub).toContain('console=ttyS0,115200n8');
    expect(await root.lookup('/boot/grub/i386-pc/normal.mod')).not.toBeNull();
    expect(await root.lookup('/boot/grub/x86_64-efi/normal.mod')).not.toBeNull();
    expect(await root.lookup('/vmlinuz')).not.toBeNull();
    expect(await root.lookup('/initrd.img')).not.toBeNull();
    expect(await text('/etc/cloud/cloud.cfg.d/90-crashcart.cfg')).toContain('datasource_list: [ NoCloud, None ]');
    expect(await root.lookup('/usr/bin/growpart')).not.toBeNull();
  });

  it('left out what the recipe excludes (docs, sound and Wi-Fi modules)', async () => {
    const mods = (await root.readDir((await root.lookup('/usr/lib/modules'))!)).map((e) => e.name);
    expect(mods).toHaveLength(1);
    const kernel = `/usr/lib/modules/${mods[0]}/kernel`;
    // dpkg's path-exclude leaves the (empty) directories.
    expect(await filesUnder(`${kernel}/sound`)).toBe(0);
    expect(await filesUnder(`${kernel}/drivers/net/wireless`)).toBe(0);
    expect(await filesUnder(`${kernel}/drivers/net/ethernet/intel`)).toBeGreaterThan(10);
    expect(await root.lookup('/usr/share/man/man1')).toBeNull();
    expect(await root.lookup('/usr/share/doc/openssh-server/copyright')).not.toBeNull();
  });
});
