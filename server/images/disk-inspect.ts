/**
 * Look inside a raw disk image without mounting it: the partition table, what each partition holds,
 * which firmware can boot it and what first-boot configuration it understands. Pure over a
 * BlockSource (the importer passes the staged raw file); every reader it calls bounds its reads.
 */
import { MalformedPacket } from '../net/malformed.ts';
import { readExact, sliceSource, type BlockSource } from './codec/block-source.ts';
import { decodeDiskHead, DISK_HEAD_READ, type DiskHead } from './codec/partition-table.ts';
import { decodeGptHeader, gptHeaderCrc, GPT_ATTR_LEGACY_BIOS_BOOTABLE, isUsedEntry } from './codec/gpt.ts';
import { MBR_ACTIVE, MBR_TYPE_GPT_PROTECTIVE } from './codec/mbr.ts';
import { gptRole, mbrRole } from './codec/partition-types.ts';
import { probeFs, FS_PROBE_BYTES } from './codec/fs-probe.ts';
import { openFat } from './codec/fat.ts';
import { openExt4, type Ext4Volume } from './codec/ext4.ts';
import { bootVerdict, type BootEvidence } from './boot-firmware.ts';
import { firstBootFrom, type CloudInitFiles } from './first-boot.ts';
import type { DiskPartition, DiskFacts } from '../../contract/disk-image.ts';

/** Largest config file we read out of an image. */
const MAX_CONFIG_BYTES = 256 * 1024;

/** Partitions of a decoded head, in bytes. */
export function partitionsOf(head: DiskHead): DiskPartition[] {
  if (head.kind === 'mbr') {
    return head.mbr.entries.flatMap((e, i) =>
      e.type === 0 || e.sectors === 0
        ? []
        : [
            {
              number: i + 1,
              start: e.lbaStart * 512,
              size: e.sectors * 512,
              type: `0x${e.type.toString(16).padStart(2, '0')}`,
              type_name: mbrRole(e.type).description,
              role: mbrRole(e.type).role,
              name: '',
              guid: null,
              bootable: e.status === MBR_ACTIVE,
              filesystem: 'unknown',
            },
          ],
    );
  }
  const s = head.sectorSize;
  return head.entries.filter(isUsedEntry).map((e) => ({
    number: e.index + 1,
    start: e.firstLba * s,
    size: (e.lastLba - e.firstLba + 1) * s,
    type: e.typeGuid,
    type_name: gptRole(e.typeGuid).description,
    role: gptRole(e.typeGuid).role,
    name: e.name,
    guid: e.uniqueGuid,
    bootable: (e.attributes & GPT_ATTR_LEGACY_BIOS_BOOTABLE) !== 0n,
    filesystem: 'unknown',
  }));
}

/** Read the files that decide first-boot support from a root filesystem. */
async function cloudInitFiles(fs: Ext4Volume): Promise<CloudInitFiles> {
  const text = async (p: string) => {
    const ino = await fs.lookup(p);
    return ino ? new TextDecoder().decode(await fs.readFile(ino, MAX_CONFIG_BYTES)) : null;
  };
  const dropIns: Record<string, string> = {};
  const dir = await fs.lookup('/etc/cloud/cloud.cfg.d');
  if (dir) {
    for (const e of (await fs.readDir(dir)).filter((x) => x.name.endsWith('.cfg')).slice(0, 256)) {
      dropIns[e.name] = (await text(`/etc/cloud/cloud.cfg.d/${e.name}`)) ?? '';
    }
  }
  return {
    binary: (await fs.lookup('/usr/bin/cloud-init')) !== null,
    disabled: (await fs.lookup('/etc/cloud/cloud-init.disabled')) !== null,
    cloudCfg: await text('/etc/cloud/cloud.cfg'),
    dropIns,
  };
}

/** PRETTY_NAME from an os-release text (freedesktop os-release(5)). */
export function prettyName(osRelease: string): string | null {
  const m = /^PRETTY_NAME=(?:"([^"\n]*)"|'([^'\n]*)'|([^\n]*))$/m.exec(osRelease);
  return m ? (m[1] ?? m[2] ?? m[3] ?? '').trim().slice(0, 128) : null;
}

/** Inspect a raw disk. Throws MalformedPacket when the partition table is missing or corrupt. */
export async function inspectDisk(src: BlockSource): Promise<DiskFacts> {
  const headBytes = await src.read(0, Math.min(src.size, DISK_HEAD_READ));
  const head = decodeDiskHead(headBytes);
  const warnings: string[] = [];
  const sector = head.sectorSize;
  const diskSectors = Math.floor(src.size / sector);
  if (head.kind === 'gpt') {
    if (head.header.alternateLba >= diskSectors)
      throw new MalformedPacket(
        'gpt',
        sector + 32,
        `the backup header is at LBA ${head.header.alternateLba}, past the image's last LBA ${diskSectors - 1}: the image is truncated`,
      );
    try {
      const backup = decodeGptHeader(await readExact(src, 'gpt', head.header.alternateLba * sector, sector));
      if (gptHeaderCrc(backup) !== backup.headerCrc || backup.myLba !== head.header.alternateLba)
        warnings.push('the backup GPT header is damaged');
    } catch {
      warnings.push('no backup GPT header at the end of the image');
    }
  } else if (head.mbr.entries.every((e) => e.type === 0 || e.type === MBR_TYPE_GPT_PROTECTIVE)) {
    throw new MalformedPacket('mbr', 446, 'the MBR lists no partitions');
  }
  const partitions = partitionsOf(head);
  for (const p of partitions) {
    if (p.start + p.size > src.size)
      throw new MalformedPacket(
        head.kind,
        0,
        `partition ${p.number} ends at byte ${p.start + p.size}, past the end of the ${src.size}-byte image: the image is truncated`,
      );
    p.filesystem = probeFs(await src.read(p.start, Math.min(p.size, FS_PROBE_BYTES)));
  }
  const evidence: BootEvidence = {
    table: head.kind,
    bootCode: head.mbr.bootCode,
    partitions: partitions.map((p) => ({
      number: p.number,
      role: p.role,
      active: head.kind === 'mbr' && p.bootable,
      legacyBiosBootable: head.kind === 'gpt' && p.bootable,
    })),
    esps: [],
  };
  for (const p of partitions.filter((x) => x.role === 'esp' && x.filesystem === 'vfat')) {
    try {
      const fat = await openFat(sliceSource(src, p.start, p.size));
      const efi = await fat.lookup('EFI');
      const vendors = efi?.isDir
        ? (await fat.readDir(efi))
            .filter((e) => e.isDir)
            .map((e) => e.name)
            .slice(0, 32)
        : [];
      const fallback = await fat.lookup('EFI/BOOT/BOOTX64.EFI');
      evidence.esps.push({ number: p.number, fallback: !!fallback && !fallback.isDir && fallback.size > 0, vendors });
    } catch (e) {
      warnings.push(`partition ${p.number}: the EFI system partition could not be read (${(e as Error).message})`);
    }
  }
  const verdict = bootVerdict(evidence);
  let os: string | null = null;
  let root: number | null = null;
  let firstBoot: DiskFacts['first_boot'] = 'none';
  let firstBootReason = 'no Linux root filesystem Crashcart can read (ext2/3/4) was found';
  let readable = false;
  for (const p of partitions.filter((x) => x.filesystem === 'ext4' && (x.role === 'linux-root' || x.role === 'linux'))) {
    try {
      const fs = await openExt4(sliceSource(src, p.start, p.size));
      const rel = (await fs.lookup('/etc/os-release')) ?? (await fs.lookup('/usr/lib/os-release'));
      if (!rel) continue;
      root = p.number;
      os = prettyName(new TextDecoder().decode(await fs.readFile(rel, MAX_CONFIG_BYTES)));
      const fb = firstBootFrom(await cloudInitFiles(fs));
      firstBoot = fb.firstBoot;
      firstBootReason = fb.reason;
      readable = true;
      break;
    } catch (e) {
      warnings.push(`partition ${p.number}: the filesystem could not be read (${(e as Error).message})`);
    }
  }
  if (!readable) {
    const other = partitions.find((x) => ['xfs', 'btrfs', 'lvm2', 'luks'].includes(x.filesystem));
    if (other)
      firstBootReason = `the root filesystem looks like ${other.filesystem} (partition ${other.number}), which Crashcart does not read`;
  }
  return {
    partition_table: {
      type: head.kind,
      sector_size: sector,
      disk_guid: head.kind === 'gpt' ? head.header.diskGuid : null,
      partitions,
    },
    firmware: verdict.firmware,
    boot: { bios: verdict.bios, uefi: verdict.uefi },
    root_partition: root,
    os,
    first_boot: firstBoot,
    first_boot_source: readable ? 'detected' : 'unreadable',
    first_boot_reason: firstBootReason,
    warnings,
  };
}
