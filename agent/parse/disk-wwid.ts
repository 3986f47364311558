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

/**
 * Does a `wwn` hint (policy metadata `root_device`) name this WWN? Case and blanks are ignored, the kernel's
 * `naa.` spelling counts as lsblk's `0x`, and for a 16-byte NAA the first half also matches: Ironic's `wwn` hint is
 * udev's ID_WWN, the WWN without its vendor extension. `<in> TEXT` is a substring, as for the other hints.
 */
export function wwnMatches(hint: string, wwn: string | undefined): boolean {
  if (wwn === undefined) return false;
  const v = wwn.trim().toLowerCase();
  const h = hint.trim().toLowerCase();
  const sub = /^<in>\s*(.*)$/.exec(h);
  if (sub) return v.includes(sub[1]!.trim());
  const want = h.startsWith('naa.') ? `0x${h.slice(4)}` : h;
  return want === v || (/^0x[0-9a-f]{32}$/.test(v) && want === v.slice(0, 18));
}
