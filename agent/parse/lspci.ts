/** `lspci -Dvmmnk` (machine-readable, numeric ids, kernel driver) -> PCI devices. Pure. */
import { lines, splitPair } from './kv-text.ts';

/** One PCI function. */
export interface PciFunction {
  slot: string;
  class_id: string;
  vendor_id: string;
  device_id: string;
  driver?: string;
}

const MAX_DEVICES = 4096;

/** Parse the blank-line separated records of `lspci -vmmnk`. */
export function parseLspci(text: string): PciFunction[] {
  const out: PciFunction[] = [];
  let cur: Record<string, string> = {};
  const flush = (): void => {
    const slot = cur['Slot'];
    const cls = cur['Class'];
    const vendor = cur['Vendor'];
    const device = cur['Device'];
    if (slot && cls && vendor && device && out.length < MAX_DEVICES) {
      out.push({
        slot,
        class_id: cls.toLowerCase(),
        vendor_id: vendor.toLowerCase(),
        device_id: device.toLowerCase(),
        driver: cur['Driver'],
      });
    }
    cur = {};
  };
  for (const line of lines(text)) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    const p = splitPair(line);
    if (p && !(p[0] in cur)) cur[p[0]] = p[1];
  }
  flush();
  return out;
}

/** PCI class 02xx is a network controller (PCI Code and ID Assignment spec, base class 02h). */
export function isNetworkClass(classId: string): boolean {
  return /^(0x)?02/.test(classId);
}
