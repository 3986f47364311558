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
