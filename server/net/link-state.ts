/** Read and watch one NIC's state and IPv4 addresses (stop serving when it goes down or changes). */
import fs from 'node:fs';
import os from 'node:os';

/** What a NIC looks like right now. */
export interface LinkState {
  exists: boolean;
  /** operstate `up`, or `unknown` (virtual devices that do not report carrier). */
  up: boolean;
  ipv4: string[];
}

/** Read a NIC's state from /sys and os.networkInterfaces(). */
export function readLinkState(iface: string): LinkState {
  let oper: string | null = null;
  try {
    oper = fs.readFileSync(`/sys/class/net/${iface}/operstate`, 'utf8').trim();
  } catch {
    return { exists: false, up: false, ipv4: [] };
  }
  const addrs = (os.networkInterfaces()[iface] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address);
  return { exists: true, up: oper === 'up' || oper === 'unknown', ipv4: addrs };
}

/** True when the NIC is up and still carries `ip`. */
export function linkServes(s: LinkState, ip: string): boolean {
  return s.exists && s.up && s.ipv4.includes(ip);
}

/**
 * Poll the NIC every `intervalMs` and call `onChange(serving)` when "up with
 * our address" flips. Polling (not netlink) keeps this dependency-free and works in Electron.
 */
export function watchLink(iface: string, ip: string, intervalMs: number, onChange: (serving: boolean, s: LinkState) => void): () => void {
  let last = linkServes(readLinkState(iface), ip);
  const t = setInterval(() => {
    const s = readLinkState(iface);
    const now = linkServes(s, ip);
    if (now !== last) {
      last = now;
      onChange(now, s);
    }
  }, intervalMs);
  t.unref();
  return () => clearInterval(t);
}
