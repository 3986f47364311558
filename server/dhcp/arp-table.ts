/** IP -> MAC from the kernel's neighbour table (proxy mode: the address came from another server). */
import fs from 'node:fs/promises';

/** Parse /proc/net/arp text: "IP HWtype Flags HWaddress Mask Device" rows. Pure. */
export function parseArpTable(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const ip = f[0];
    const mac = f[3];
    if (ip && mac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(mac) && mac !== '00:00:00:00:00:00') out.set(ip, mac.toLowerCase());
  }
  return out;
}

/** The MAC the kernel has for `ip`, or null. */
export async function macForIp(ip: string): Promise<string | null> {
  try {
    return parseArpTable(await fs.readFile('/proc/net/arp', 'utf8')).get(ip) ?? null;
  } catch {
    return null;
  }
}
