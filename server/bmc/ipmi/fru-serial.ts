/**
 * The machine's serial in `ipmitool fru print 0` (the BMC's own FRU device, IPMI Platform Management FRU
 * Information Storage Definition 1.0), pure. SMBIOS type 1 "Serial Number" (what the machine registers with)
 * is, on servers, the FRU's product serial; the chassis serial is the next best. The board serial names the
 * mainboard alone (SMBIOS type 2) and is not used: a replaced board would name another machine.
 */
/** The FRU fields that name the whole machine, best first. */
export const FRU_SERIAL_FIELDS = ['Product Serial', 'Chassis Serial'] as const;

/** The serial and the field it came from, or null when the FRU names none (`fru print` indents every line by one space). */
export function fruSerial(stdout: string): { serial: string; field: string } | null {
  const values = new Map<string, string>();
  for (const line of stdout.split(/\r?\n/)) {
    // FRU strings are at most 63 bytes (FRU spec 13): a longer line is not a field, and is not scanned.
    if (line.length > 256) continue;
    const m = /^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*?)\s*$/.exec(line);
    if (m && !values.has(m[1]!)) values.set(m[1]!, m[2]!);
  }
  for (const f of FRU_SERIAL_FIELDS) {
    const v = values.get(f);
    if (v) return { serial: v, field: f };
  }
  return null;
}
