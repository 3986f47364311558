/**
 * The block devices from /sys/block, as the JSON `lsblk -J -b -O` prints, so the lsblk row's parser reads it:
 * the fallback of the lsblk row when util-linux's lsblk is missing, and what the register-first pass uses (it
 * runs no program). Name, size, model, vendor, serial where the driver exposes one, rotational, removable; the
 * complete pass that follows runs lsblk for the rest (WWN, transport). Always resolves.
 */
import path from 'node:path';
import { sysEntries } from './sys-read.ts';

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
  for (const { name, attr: text } of sysEntries(path.join(root, 'sys/block'), MAX_DEVICES)) {
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
    const serial = text('device/serial') ?? text('serial');
    if (model) row['model'] = model;
    if (vendor) row['vendor'] = vendor;
    if (serial) row['serial'] = serial;
    devices.push(row);
  }
  return JSON.stringify({ blockdevices: devices });
}
