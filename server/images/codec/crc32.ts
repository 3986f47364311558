/**
 * CRC-32 as used by GPT (UEFI 2.10 section 5.3.2: the header and entry-array checksums are the
 * IEEE 802.3 CRC-32, reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF), and by
 * iPXE's packed BIOS images (server/prepare/loaders/ipxe-packed.ts).
 * Pure: bytes in, a number out.
 */

/** The 256-entry lookup table of the reflected polynomial, computed once. */
const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `bytes` (unsigned 32-bit). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
