/**
 * Secure Boot state from the UEFI global variable `SecureBoot` (UEFI 2.10 section 3.3: one byte, 1 =
 * enforcing), as the collector saved it: `SecureBoot=<hex of the efivarfs file>` (efivarfs puts the four
 * attribute bytes first), `SecureBoot=absent` when efivarfs is mounted but the firmware has no such
 * variable (no Secure Boot support), or nothing (BIOS, or efivarfs not mounted). Pure.
 */

/** True/false when the text says; undefined when it cannot be known. */
export function parseSecureBoot(text: string): boolean | undefined {
  const m = /^SecureBoot=(absent|[0-9a-f]{2,64})$/m.exec(text.trim());
  if (!m) return undefined;
  const v = m[1]!;
  if (v === 'absent') return false;
  // efivarfs: 4 attribute bytes, then the value; a bare value (another reader) is its one byte.
  const value = v.length >= 10 ? v.slice(8, 10) : v.slice(-2);
  return value === '01';
}
