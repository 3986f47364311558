/**
 * The block devices from /sys/block, as the JSON `lsblk -J -b -O` prints, so the lsblk row's parser reads it:
 * the fallback of the lsblk row when util-linux's lsblk is missing, and what the register-first pass uses (it
 * runs no program). Name, size, model, vendor, serial, WWN, HCTL, rotational, removable; the complete pass that follows
 * runs lsblk for the rest (transport). Always resolves.
 *
 * A disk's identity (`diskIdentity`), also what the deploy task's root device hints match (tasks/root-disk.ts):
 * - serial: NVMe and virtio disks have a `serial` file; a SATA, SAS or SCSI disk has its serial only in SCSI VPD
 *   page 0x80 (`device/vpd_pg80`);
 * - WWN: from the kernel's `wwid` attribute, spelled as lsblk prints it (parse/disk-wwid.ts);
 * - HCTL: a SCSI disk's address (host:channel:target:lun), the name of the device its `device` link leads to.
 * lsblk reads neither serial nor WWN (it asks udev, and the microkernel runs no udev), so `withSysfsIdentity` also
 * fills them into lsblk's own output; the HCTL it reads from /sys itself.
 */
import path from 'node:path';
import { wwnOfWwid } from '../parse/disk-wwid.ts';
import { HCTL } from '../parse/lsblk.ts';
import { vpdUnitSerial } from '../parse/scsi-vpd.ts';
import { readText, realName, sysEntries, sysEntry, type SysEntry } from './sys-read.ts';

/** At most this many entries of /sys/block (or rows of lsblk's output) are read. */
export const MAX_BLOCK_DEVICES = 4096;

/** lsblk's TYPE for a kernel name: what the parser keeps is `disk`. */
function typeOf(name: string): string {
  if (/^loop\d/.test(name)) return 'loop';
  if (/^sr\d/.test(name)) return 'rom';
  if (/^dm-\d/.test(name)) return 'dm';
  if (/^md\d/.test(name)) return 'raid';
  if (/^(ram|zram)\d/.test(name)) return 'disk'; // lsblk says disk; the parser drops these by name
  return 'disk';
}

/** A disk's serial, WWN and SCSI address, as lsblk with udev prints them; a field it has none of is left out. */
export interface DiskIdentity {
  serial?: string;
  wwn?: string;
  hctl?: string;
}

/** The serial, WWN and SCSI address of one /sys/block entry. */
export function diskIdentity(e: SysEntry): DiskIdentity {
  const serial = e.attr('device/serial') ?? e.attr('serial') ?? vpdSerial(e.at(VPD_PG80));
  const wwn = wwnOfWwid(e.attr('device/wwid') ?? e.attr('wwid'), e.name);
  const device = realName(e.at('device'));
  const hctl = device !== undefined && HCTL.test(device) ? device : undefined;
  return { ...(serial ? { serial } : {}), ...(wwn ? { wwn } : {}), ...(hctl ? { hctl } : {}) };
}

/** `lsblk -J -b -O`-shaped JSON for every device under `root`/sys/block. */
export async function sysfsBlockText(root: string): Promise<string> {
  const devices: Record<string, unknown>[] = [];
  for (const e of sysEntries(path.join(root, 'sys/block'), MAX_BLOCK_DEVICES)) {
    const sectors = Number(e.attr('size') ?? NaN); // always 512-byte units (linux/blkdev.h SECTOR_SHIFT)
    if (!Number.isFinite(sectors)) continue;
    // SCSI/SATA: device/model and device/vendor; NVMe: device/model; identity from diskIdentity.
    const model = e.attr('device/model');
    const vendor = e.attr('device/vendor');
    devices.push({
      kname: e.name,
      name: e.name,
      size: sectors * 512,
      type: typeOf(e.name),
      rota: e.attr('queue/rotational') === '1',
      rm: e.attr('removable') === '1',
      ...(model ? { model } : {}),
      ...(vendor ? { vendor } : {}),
      ...diskIdentity(e),
    });
  }
  return JSON.stringify({ blockdevices: devices });
}

/** Where a disk's SCSI VPD page 0x80 is, under its /sys/block entry. */
const VPD_PG80 = 'device/vpd_pg80';

/** The serial in a VPD page 0x80 file, or undefined. */
function vpdSerial(file: string): string | undefined {
  const hex = readText(file, 'hex');
  return hex === undefined ? undefined : vpdUnitSerial(Buffer.from(hex, 'hex'));
}

/** A kernel block device name as lsblk prints it (never a path). */
const KERNEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

const blank = (v: unknown) => typeof v !== 'string' || v.trim() === '';

/**
 * `lsblk -J -b -O` output with the serial and WWN of every device that has none filled from /sys, for the
 * complete pass: lsblk without udev prints `"serial": null` for SATA and SAS disks and `"wwn": null` for every
 * disk. Text that is not lsblk's JSON comes back unchanged (the parser reports it).
 */
export async function withSysfsIdentity(text: string, root: string): Promise<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  const devices = (doc as { blockdevices?: unknown } | null)?.blockdevices;
  if (!Array.isArray(devices)) return text;
  let changed = false;
  for (const d of devices.slice(0, MAX_BLOCK_DEVICES) as unknown[]) {
    if (typeof d !== 'object' || d === null) continue;
    const row = d as Record<string, unknown>;
    const name = row['kname'] ?? row['name'];
    if ((!blank(row['serial']) && !blank(row['wwn'])) || typeof name !== 'string' || !KERNEL_NAME.test(name)) continue;
    const id = diskIdentity(sysEntry(path.join(root, 'sys/block'), name));
    for (const key of ['serial', 'wwn'] as const)
      if (blank(row[key]) && id[key] !== undefined) {
        row[key] = id[key];
        changed = true;
      }
  }
  return changed ? JSON.stringify(doc) : text;
}
