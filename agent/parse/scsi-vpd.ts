/**
 * SCSI Vital Product Data page 0x80, Unit Serial Number (SPC-4 7.8.19), as the kernel exposes it in
 * /sys/block/<disk>/device/vpd_pg80: byte 1 the page code (0x80), bytes 2-3 the page length (big-endian), then the
 * serial in ASCII, padded with spaces. For a SATA disk behind libata the kernel builds the page from the ATA
 * IDENTIFY serial; SAS and SCSI disks answer it themselves. This is where a disk's serial is when no udev reads it
 * (the microkernel runs none, and util-linux's lsblk takes the serial from udev). Pure; never throws.
 */

/** The longest serial kept (SPC allows up to 251 bytes; real disks use 20-40). */
const MAX_SERIAL = 128;

/** The serial in a VPD page 0x80 (raw bytes), or undefined when the page is not one or holds no printable text. */
export function vpdUnitSerial(page: Uint8Array | undefined): string | undefined {
  if (!page || page.length < 4 || page[1] !== 0x80) return undefined;
  const len = (page[2]! << 8) | page[3]!;
  const body = page.subarray(4, 4 + Math.min(len, page.length - 4));
  let s = '';
  // Printable ASCII only: a hostile or broken device cannot put control bytes or escapes into the facts.
  for (const b of body) if (b >= 0x20 && b <= 0x7e) s += String.fromCharCode(b);
  s = s.trim().slice(0, MAX_SERIAL);
  return s === '' ? undefined : s;
}
