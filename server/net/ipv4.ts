/** Pure IPv4 helpers: dotted quads to integers and back, subnet checks. */

/**
 * Parse a dotted quad (four parts of 1-3 digits, each <= 255) to an unsigned 32-bit integer, or null if
 * it is not one. A character scan, no split or regex: the DHCP lease table calls this several times per
 * exchange.
 */
export function ipToInt(ip: string): number | null {
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return null;
      n = n * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return null;
    } else return null;
  }
  if (dots !== 3 || digits === 0) return null;
  return (n * 256 + part) >>> 0;
}

/** Format an unsigned 32-bit integer as a dotted quad. */
export function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
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
