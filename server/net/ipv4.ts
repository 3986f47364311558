/** Pure IPv4 helpers: dotted quads to integers and back, subnet checks. */

/** Parse a dotted quad to an unsigned 32-bit integer, or null if it is not one. */
export function ipToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    n = n * 256 + v;
  }
  return n >>> 0;
}

/** Format an unsigned 32-bit integer as a dotted quad. */
export function intToIp(n: number): string {
  return [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The netmask of a prefix length as an integer. */
export function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The netmask of a prefix length as a dotted quad. */
export function prefixToNetmask(prefix: number): string {
  return intToIp(prefixMask(prefix));
}

/** True when `ip` (integer) is inside `net/prefix`. */
export function inSubnet(ip: number, net: string, prefix: number): boolean {
  const base = ipToInt(net);
  if (base === null) return false;
  const m = prefixMask(prefix);
  return (ip & m) >>> 0 === (base & m) >>> 0;
}
