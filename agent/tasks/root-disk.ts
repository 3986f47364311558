/**
 * Which disk an image goes to: Ironic-style root device hints (policy metadata `root_device`), else the
 * smallest disk of at least the image's size (the default keeps a small boot disk next to big data disks).
 * Pure over a list of disks; `listDisks` reads them from sysfs.
 */
import type { RootDeviceHints } from '../../contract/agent-tasks.ts';
import { diskIdentity, MAX_BLOCK_DEVICES } from '../collect/sysfs-block.ts';
import { sysEntries } from '../collect/sys-read.ts';
import { wwnParts } from '../parse/disk-wwid.ts';

/** A whole disk as the agent sees it. */
export interface Disk {
  name: string;
  path: string;
  size: number;
  model?: string;
  vendor?: string;
  serial?: string;
  wwn?: string;
  /** A SCSI disk's address, host:channel:target:lun. */
  hctl?: string;
  rotational?: boolean;
}

/** The chosen disk and why, or why none fits. */
export type DiskChoice = { ok: true; disk: Disk; reason: string } | { ok: false; reason: string };

const GIB = 1024 ** 3;

/** Compare a hint string with a disk value: whole value, case and blanks ignored; `<in> X` is a substring. */
export function textMatches(hint: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.trim().toLowerCase();
  const h = hint.trim().toLowerCase();
  const m = /^<in>\s*(.*)$/.exec(h);
  return m ? v.includes(m[1]!.trim()) : v === h;
}

/** Which of udev's names of a WWN a hint compares with (the hint's own name). */
export type WwnHint = 'wwn' | 'wwn_with_extension' | 'wwn_vendor_extension';

/**
 * Does a WWN hint name this WWN? As `textMatches`, with the kernel's `naa.` spelling counted as lsblk's `0x`.
 * `wwn` matches udev's ID_WWN (Ironic's meaning) or the whole WWN (what lsblk and the facts show, and what metal3
 * tells users to give); `wwn_with_extension` the whole; `wwn_vendor_extension` the extension of a 16-byte NAA.
 */
export function wwnMatches(hint: string, wwn: string | undefined, which: WwnHint = 'wwn'): boolean {
  if (wwn === undefined) return false;
  const p = wwnParts(wwn);
  const values = { wwn: [p.wwn, p.with_extension], wwn_with_extension: [p.with_extension], wwn_vendor_extension: [p.vendor_extension] }[
    which
  ];
  const h = hint.trim().replace(/^naa\./i, '0x');
  return values.some((v) => textMatches(h, v));
}

/** Ironic compares sizes in whole GiB: an integer is equality, a string may carry >=, <=, >, <, ==. */
export function sizeMatches(hint: number | string, bytes: number): boolean {
  const gib = Math.floor(bytes / GIB);
  if (typeof hint === 'number') return gib === hint;
  const m = /^\s*(>=|<=|==|>|<)?\s*(\d+)\s*$/.exec(hint);
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1]) {
    case '>=':
      return gib >= n;
    case '<=':
      return gib <= n;
    case '>':
      return gib > n;
    case '<':
      return gib < n;
    default:
      return gib === n;
  }
}

function hintMatches(h: RootDeviceHints, d: Disk): boolean {
  const p = h.path ?? h.name;
  if (p !== undefined && d.name !== p.replace(/^\/dev\//, '') && d.path !== p) return false;
  if (h.size !== undefined && !sizeMatches(h.size, d.size)) return false;
  if (h.model !== undefined && !textMatches(h.model, d.model)) return false;
  if (h.vendor !== undefined && !textMatches(h.vendor, d.vendor)) return false;
  if (h.serial !== undefined && !textMatches(h.serial, d.serial)) return false;
  if (h.wwn !== undefined && !wwnMatches(h.wwn, d.wwn, 'wwn')) return false;
  if (h.wwn_with_extension !== undefined && !wwnMatches(h.wwn_with_extension, d.wwn, 'wwn_with_extension')) return false;
  if (h.wwn_vendor_extension !== undefined && !wwnMatches(h.wwn_vendor_extension, d.wwn, 'wwn_vendor_extension')) return false;
  if (h.hctl !== undefined && h.hctl.trim() !== d.hctl) return false;
  if (h.rotational !== undefined && d.rotational !== h.rotational) return false;
  return true;
}

function describe(d: Disk): string {
  return `${d.name} (${(d.size / GIB).toFixed(1)} GiB${d.model ? `, ${d.model}` : ''}${d.serial ? `, serial ${d.serial}` : ''})`;
}

/** Choose the root disk for an image of `minBytes` bytes. */
export function pickRootDisk(disks: readonly Disk[], hints: RootDeviceHints | null, minBytes: number): DiskChoice {
  const all = disks.map(describe).join(', ') || 'none';
  if (hints && Object.keys(hints).length > 0) {
    const matching = disks.filter((d) => hintMatches(hints, d));
    const want = JSON.stringify(hints);
    if (matching.length === 0) return { ok: false, reason: `no disk matches the root device hints ${want}; disks: ${all}` };
    const fits = matching.filter((d) => d.size >= minBytes).sort((a, b) => a.size - b.size || a.name.localeCompare(b.name));
    if (fits.length === 0)
      return {
        ok: false,
        reason: `the disks matching ${want} are smaller than the image (${minBytes} bytes): ${matching.map(describe).join(', ')}`,
      };
    return { ok: true, disk: fits[0]!, reason: `matches the root device hints ${want}` };
  }
  const fits = disks.filter((d) => d.size >= minBytes).sort((a, b) => a.size - b.size || a.name.localeCompare(b.name));
  if (fits.length === 0) return { ok: false, reason: `no disk holds the image (${minBytes} bytes); disks: ${all}` };
  return { ok: true, disk: fits[0]!, reason: `smallest disk of at least ${minBytes} bytes` };
}

/** Names of block devices that are not disks an OS is installed on. */
const NOT_DISKS = /^(loop|ram|zram|sr|fd|dm-|md|nbd|mtdblock)/;

/**
 * The machine's whole disks from sysfs (`/sys/block`), without removable or read-only ones. Serial and WWN are
 * read as the facts read them (collect/sysfs-block.ts `diskIdentity`), so a hint copied from a node's facts
 * matches the disk it came from: a SATA or SAS disk's serial from VPD page 0x80, a WWN spelled as lsblk prints it.
 */
export function listDisks(sysBlock = '/sys/block'): Disk[] {
  const out: Disk[] = [];
  for (const e of sysEntries(sysBlock, MAX_BLOCK_DEVICES)) {
    if (NOT_DISKS.test(e.name)) continue;
    if (e.attr('removable') === '1' || e.attr('ro') === '1') continue;
    // The size attribute counts 512-byte sectors whatever the logical block size (include/linux/genhd.h).
    const size = Number(e.attr('size') ?? 0) * 512;
    if (!(size > 0)) continue;
    const rotational = e.attr('queue/rotational');
    out.push({
      name: e.name,
      path: `/dev/${e.name}`,
      size,
      model: e.attr('device/model'),
      vendor: e.attr('device/vendor'),
      ...diskIdentity(e),
      rotational: rotational === undefined ? undefined : rotational === '1',
    });
  }
  return out;
}
