/**
 * The block devices from /sys/block, as the JSON `lsblk -J -b -O` prints, so the lsblk row's parser reads it:
 * the fallback of the lsblk row when util-linux's lsblk is missing, and what the register-first pass uses (it
 * runs no program). Name, size, model, vendor, serial, rotational, removable; the complete pass that follows runs
 * lsblk for the rest (WWN, transport). Always resolves.
 *
 * Serials: NVMe and virtio disks have a `serial` file; a SATA, SAS or SCSI disk has its serial only in SCSI VPD
 * page 0x80 (`device/vpd_pg80`), which lsblk does not read (it asks udev, and the microkernel runs no udev), so
 * `withSysfsSerials` also fills it into lsblk's own output.
 */
import path from 'node:path';
import { vpdUnitSerial } from '../parse/scsi-vpd.ts';
import { readText, sysEntries } from './sys-read.ts';

const MAX_DEVICES = 4096;

/** lsblk's TYPE for a kernel name: what the parser keeps is `disk`. */
function typeOf(name: string): string {
  if (/^loop\d/.test(name)) return 'loop';
  if (/^sr\d/.test(name)) return 'rom';
  if (/^dm-\d/.test(name)) return 'dm';
  if (/^md\d/.test(name)) return 'raid';
  if (/^(ram|zram)\d/.test(name)) return 'disk'; // lsblk says disk; the parser drops these by name
  return 'disk';
}

/** `lsblk -J -b -O`-shaped JSON for every device under `root`/sys/block. */
export async function sysfsBlockText(root: string): Promise<string> {
  const devices: Record<string, unknown>[] = [];
  for (const { name, at, attr: text } of sysEntries(path.join(root, 'sys/block'), MAX_DEVICES)) {
    const sectors = Number(text('size') ?? NaN); // always 512-byte units (linux/blkdev.h SECTOR_SHIFT)
    if (!Number.isFinite(sectors)) continue;
    const row: Record<string, unknown> = {
      kname: name,
      name,
      size: sectors * 512,
      type: typeOf(name),
      rota: text('queue/rotational') === '1',
      rm: text('removable') === '1',
    };
    // SCSI/SATA: device/model and device/vendor; NVMe: device/model and device/serial; virtio: serial on the disk.
    const model = text('device/model');
    const vendor = text('device/vendor');
    const serial = text('device/serial') ?? text('serial') ?? vpdSerial(at(VPD_PG80));
    if (model) row['model'] = model;
    if (vendor) row['vendor'] = vendor;
    if (serial) row['serial'] = serial;
    devices.push(row);
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

/**
 * `lsblk -J -b -O` output with the serial of every device that has none filled from /sys (VPD page 0x80), for
 * the complete pass: lsblk without udev prints `"serial": null` for SATA and SAS disks. Text that is not lsblk's
 * JSON comes back unchanged (the parser reports it).
 */
export async function withSysfsSerials(text: string, root: string): Promise<string> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return text;
  }
  const devices = (doc as { blockdevices?: unknown } | null)?.blockdevices;
  if (!Array.isArray(devices)) return text;
  let changed = false;
  for (const d of devices.slice(0, MAX_DEVICES) as unknown[]) {
    if (typeof d !== 'object' || d === null) continue;
    const row = d as Record<string, unknown>;
    const name = row['kname'] ?? row['name'];
    if ((typeof row['serial'] === 'string' && row['serial'].trim() !== '') || typeof name !== 'string' || !KERNEL_NAME.test(name)) continue;
    const serial = vpdSerial(path.join(root, 'sys/block', name, VPD_PG80));
    if (serial !== undefined) {
      row['serial'] = serial;
      changed = true;
    }
  }
  return changed ? JSON.stringify(doc) : text;
}
