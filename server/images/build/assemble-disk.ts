/**
 * Put the built pieces together into one raw GPT disk, as a file (no loop device, no partition nodes):
 * the EFI system partition made with mkfs.vfat and filled with mtools, the root filesystem mke2fs
 * wrote in the mmdebstrap hook, GRUB's BIOS boot code in the MBR and BIOS boot partition, and the
 * GPT (primary and backup) from the pure layout codec.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { layoutGpt, type NewPartition } from '../codec/gpt-layout.ts';
import { GUID_BIOS_BOOT, GUID_ESP, GUID_LINUX_ROOT_X86_64 } from '../codec/partition-types.ts';
import { grubBiosBoot } from './bios-boot.ts';
import { stableUuid } from './stable-ids.ts';
import { runTool } from '../tool-run.ts';

const MIB = 1024 * 1024;
const SECTOR = 512;

/** Where each partition of the assembled disk lies. */
export interface AssembledDisk {
  file: string;
  size: number;
  partitions: { name: string; startLba: number; sectors: number }[];
}

/** Inputs: the hook's outputs in `workDir` (boot.img, core.img, BOOTX64.EFI, root.ext4). */
export interface AssembleInput {
  workDir: string;
  seed: string;
  espVolumeId: string;
  epoch: number;
  biosBootMiB: number;
  espMiB: number;
  alignMiB: number;
}

/** Make the ESP image: FAT32, EFI/BOOT/BOOTX64.EFI, reproducible (fixed volume id and times). */
async function makeEsp(inp: AssembleInput): Promise<string> {
  const esp = path.join(inp.workDir, 'esp.img');
  const loader = path.join(inp.workDir, 'BOOTX64.EFI');
  await fsp.rm(esp, { force: true });
  await fsp.utimes(loader, inp.epoch, inp.epoch);
  const env = { ...process.env, SOURCE_DATE_EPOCH: String(inp.epoch), MTOOLS_SKIP_CHECK: '1' };
  const what = 'EFI system partition';
  const volid = inp.espVolumeId.replace('-', '');
  await runTool('mkfs.vfat', ['-F', '32', '-n', 'EFI', '-i', volid, '--invariant', '-C', esp, String(inp.espMiB * 1024)], {
    env,
    code: 'CC_ERR_IMAGE_BUILD',
    what,
  });
  await runTool('mmd', ['-i', esp, '::/EFI', '::/EFI/BOOT'], { env, code: 'CC_ERR_IMAGE_BUILD', what });
  await runTool('mcopy', ['-i', esp, '-m', loader, '::/EFI/BOOT/BOOTX64.EFI'], { env, code: 'CC_ERR_IMAGE_BUILD', what });
  return esp;
}

/** Copy `src` into `fd` at `offset`, skipping all-zero chunks (the target is sparse and already zero). */
async function place(fd: fsp.FileHandle, src: string, offset: number): Promise<void> {
  const chunk = Buffer.alloc(4 * MIB);
  const h = await fsp.open(src, 'r');
  try {
    for (let pos = 0; ;) {
      const { bytesRead } = await h.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) break;
      const part = chunk.subarray(0, bytesRead);
      if (part.some((b) => b !== 0)) await fd.write(part, 0, bytesRead, offset + pos);
      pos += bytesRead;
    }
  } finally {
    await h.close();
  }
}

/** Assemble `disk.raw` in the work dir. */
export async function assembleDisk(inp: AssembleInput): Promise<AssembledDisk> {
  const esp = await makeEsp(inp);
  const rootFile = path.join(inp.workDir, 'root.ext4');
  const rootBytes = (await fsp.stat(rootFile)).size;
  if (rootBytes % SECTOR) throw new RangeError(`root.ext4 is ${rootBytes} bytes, not whole sectors`);
  const perMiB = MIB / SECTOR;
  const bbp = { startLba: inp.alignMiB * perMiB, sectors: inp.biosBootMiB * perMiB };
  const espPart = { startLba: bbp.startLba + bbp.sectors, sectors: inp.espMiB * perMiB };
  const root = { startLba: espPart.startLba + espPart.sectors, sectors: rootBytes / SECTOR };
  // One aligned MiB after the root holds the backup GPT (33 sectors).
  const total = Math.ceil((root.startLba + root.sectors) / perMiB) * perMiB + perMiB;
  const bootImg = new Uint8Array(await fsp.readFile(path.join(inp.workDir, 'boot.img')));
  const coreImg = new Uint8Array(await fsp.readFile(path.join(inp.workDir, 'core.img')));
  if (coreImg.length > bbp.sectors * SECTOR)
    throw new RangeError(`core.img (${coreImg.length} bytes) does not fit the BIOS boot partition`);
  const { bootCode, core } = grubBiosBoot(bootImg, coreImg, bbp.startLba);
  const part = (p: { startLba: number; sectors: number }, typeGuid: string, name: string, n: number): NewPartition => ({
    typeGuid,
    uniqueGuid: stableUuid(inp.seed, `partition-${n}`),
    firstLba: p.startLba,
    lastLba: p.startLba + p.sectors - 1,
    name,
  });
  const gpt = layoutGpt(
    total,
    stableUuid(inp.seed, 'disk'),
    [part(bbp, GUID_BIOS_BOOT, 'BIOS boot', 1), part(espPart, GUID_ESP, 'EFI system', 2), part(root, GUID_LINUX_ROOT_X86_64, 'root', 3)],
    bootCode,
  );
  const file = path.join(inp.workDir, 'disk.raw');
  await fsp.rm(file, { force: true });
  const fd = await fsp.open(file, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o644);
  try {
    await fd.truncate(total * SECTOR);
    await fd.write(gpt.headBytes, 0, gpt.headBytes.length, 0);
    await fd.write(core, 0, core.length, bbp.startLba * SECTOR);
    await place(fd, esp, espPart.startLba * SECTOR);
    await place(fd, rootFile, root.startLba * SECTOR);
    await fd.write(gpt.tailBytes, 0, gpt.tailBytes.length, gpt.tailOffset);
    await fd.sync();
  } finally {
    await fd.close();
  }
  return {
    file,
    size: total * SECTOR,
    partitions: [
      { name: 'BIOS boot', ...bbp },
      { name: 'EFI system', ...espPart },
      { name: 'root', ...root },
    ],
  };
}
