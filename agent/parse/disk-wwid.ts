/**
 * A disk's WWN as lsblk prints it on a system with udev, from the kernel's `wwid` attribute, for the microkernel,
 * which runs no udev (its lsblk prints `"wwn": null` for every disk).
 *
 * - SCSI, SAS and SATA disks: the kernel builds `device/wwid` from SCSI VPD page 0x83, the best designator first
 *   (`naa.` hex, `eui.` hex, `t10.` vendor text, ...). udev names a WWN only for an NAA designator, as `0x` and its
 *   hex digits (ID_WWN_WITH_EXTENSION, which lsblk prints): a SATA disk without a WWN in its IDENTIFY data has
 *   only a `t10.` name and no WWN.
 * - NVMe namespaces: `wwid` (`eui.`, `nvme.`, `uuid.`) is the WWN as it stands.
 *
 * Pure; never throws. The text comes from the device through the kernel, so only these shapes pass.
 */

const NAA = /^naa\.([0-9a-f]{16}|[0-9a-f]{32})$/i;
/** An NVMe namespace's kernel name (`nvme0n1`, not a partition). */
const NVME_NAMESPACE = /^nvme\d+n\d+$/;
/** What an NVMe `wwid` is made of: the kernel prints hex, dots and dashes; nothing blank or unprintable. */
const NVME_WWID = /^[\x21-\x7e]{1,256}$/;

/** The WWN for a disk's `wwid` text (undefined when it has none lsblk would print). */
export function wwnOfWwid(wwid: string | undefined, kernelName: string): string | undefined {
  if (wwid === undefined) return undefined;
  const w = wwid.trim();
  const naa = NAA.exec(w);
  if (naa) return `0x${naa[1]!.toLowerCase()}`;
  return NVME_NAMESPACE.test(kernelName) && NVME_WWID.test(w) ? w : undefined;
}

/** udev's three names of a WWN: without the vendor extension (ID_WWN), the extension, and the whole. */
export interface WwnParts {
  wwn: string;
  with_extension: string;
  vendor_extension?: string;
}

/** Split a WWN as lsblk prints it: a 16-byte NAA is the first 8 bytes and the vendor extension. */
export function wwnParts(wwn: string): WwnParts {
  const w = wwn.trim().toLowerCase();
  return /^0x[0-9a-f]{32}$/.test(w)
    ? { wwn: w.slice(0, 18), with_extension: w, vendor_extension: `0x${w.slice(18)}` }
    : { wwn: w, with_extension: w };
}

/** Which of udev's names a hint compares with (the hint's own name: `wwn`, `wwn_with_extension`, `wwn_vendor_extension`). */
export type WwnHint = 'wwn' | 'wwn_with_extension' | 'wwn_vendor_extension';

/**
 * Does a WWN hint (policy metadata `root_device`) name this WWN? Case and blanks are ignored, the kernel's `naa.`
 * spelling counts as lsblk's `0x`, and `<in> TEXT` is a substring, as for the other hints. `wwn` matches udev's
 * ID_WWN (Ironic's meaning) or the whole WWN (what lsblk and the facts show, and what metal3 tells users to give);
 * `wwn_with_extension` the whole; `wwn_vendor_extension` the extension of a 16-byte NAA.
 */
export function wwnMatches(hint: string, wwn: string | undefined, which: WwnHint = 'wwn'): boolean {
  if (wwn === undefined) return false;
  const p = wwnParts(wwn);
  const values = { wwn: [p.wwn, p.with_extension], wwn_with_extension: [p.with_extension], wwn_vendor_extension: [p.vendor_extension] }[
    which
  ];
  const h = hint.trim().toLowerCase();
  const sub = /^<in>\s*(.*)$/.exec(h);
  const want = h.startsWith('naa.') ? `0x${h.slice(4)}` : h;
  return values.some((v) => v !== undefined && (sub ? v.includes(sub[1]!.trim()) : v === want));
}
