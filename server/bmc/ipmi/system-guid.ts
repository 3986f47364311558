/**
 * The System GUID (IPMI 2.0 22.14, Get System GUID) as the machine's SMBIOS UUID, pure. IPMI leaves the byte
 * order of the 16 bytes to the implementation; BMCs that mirror the host's SMBIOS UUID (the common case, and what
 * matches what the machine itself reports) keep SMBIOS order: SMBIOS 3.x 7.2.1 stores time_low, time_mid and
 * time_hi_and_version little-endian and the rest as written. `dmidecode` and /sys/class/dmi/id/product_uuid
 * read the host's bytes the same way, so the decoded UUID is what the machine registers with.
 */

/** Length of a GUID in bytes. */
export const GUID_BYTES = 16;

/** The 16 bytes `ipmitool raw 0x06 0x37` printed (hex pairs, spaces and line breaks), or null when it is not that. */
export function parseRawBytes(stdout: string): number[] | null {
  const words = stdout.trim().split(/\s+/).filter(Boolean);
  if (words.length !== GUID_BYTES || !words.every((w) => /^[0-9a-f]{2}$/i.test(w))) return null;
  return words.map((w) => parseInt(w, 16));
}

// Byte positions of the dashed text form, in SMBIOS order: the first three fields reversed (little-endian).
const ORDER = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

/** SMBIOS-ordered bytes -> `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase). */
export function uuidFromSmbiosBytes(bytes: readonly number[]): string {
  if (bytes.length !== GUID_BYTES) throw new RangeError(`a GUID is ${GUID_BYTES} bytes, not ${bytes.length}`);
  const hex = ORDER.map((i) => bytes[i]!.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The inverse: a dashed UUID -> its 16 bytes in SMBIOS order (what a BMC that mirrors SMBIOS returns). */
export function smbiosBytesFromUuid(uuid: string): number[] {
  const hex = uuid.toLowerCase().replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/.test(hex)) throw new RangeError(`"${uuid}" is not a UUID`);
  const text = hex.match(/../g)!.map((h) => parseInt(h, 16));
  const out = new Array<number>(GUID_BYTES);
  ORDER.forEach((from, to) => (out[from] = text[to]!));
  return out;
}
