/** Validation of the Setup form's address and range (RFC 4632 CIDR notation). Pure. */

/** Dotted quad -> 32-bit number, or null. */
export function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** 32-bit number -> dotted quad. */
export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** A parsed `IP/PREFIX`. */
export interface Cidr {
  ip: number;
  prefix: number;
  network: number;
  broadcast: number;
}

/** Parse `10.0.0.1/24`; null when malformed. */
export function parseCidr(s: string): Cidr | null {
  const [ipText, prefixText, extra] = s.trim().split('/');
  if (extra !== undefined || !ipText || !prefixText || !/^\d{1,2}$/.test(prefixText)) return null;
  const ip = parseIpv4(ipText);
  const prefix = Number(prefixText);
  if (ip === null || prefix < 8 || prefix > 30) return null;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ip & mask) >>> 0;
  return { ip, prefix, network, broadcast: (network | (~mask >>> 0)) >>> 0 };
}

/** Problem with the address field, or null. */
export function addressProblem(s: string): string | null {
  if (s.trim() === '') return null; // empty = keep the NIC's own address
  const c = parseCidr(s);
  if (!c) return 'Write it as IP/PREFIX with a prefix from 8 to 30, e.g. 10.42.0.1/24.';
  if (c.ip === c.network || c.ip === c.broadcast) return 'That is the network or broadcast address; pick a host address.';
  return null;
}

/** Problem with the range `START-END` given the subnet, or null. */
export function rangeProblem(range: string, address: string): string | null {
  if (range.trim() === '') return null; // empty = the server picks one
  const [a, b, extra] = range.split('-').map((x) => x.trim());
  const start = a ? parseIpv4(a) : null;
  const end = b ? parseIpv4(b) : null;
  if (extra !== undefined || start === null || end === null) return 'Write the range as START-END, e.g. 10.42.0.100-10.42.0.199.';
  if (start > end) return 'The range starts after it ends.';
  const c = parseCidr(address);
  if (c) {
    if (start <= c.network || end >= c.broadcast)
      return `The range must lie inside ${formatIpv4(c.network)}/${c.prefix}, excluding its network and broadcast addresses.`;
    if (c.ip >= start && c.ip <= end) return "The range includes the appliance's own address.";
  }
  return null;
}

/** A reasonable default range for a subnet: the upper half, leaving low addresses for static use. */
export function suggestRange(address: string): string | null {
  const c = parseCidr(address);
  if (!c) return null;
  const start = c.network + Math.max(1, Math.floor((c.broadcast - c.network + 1) / 2));
  const end = c.broadcast - 1;
  if (c.ip >= start && c.ip <= end) return `${formatIpv4(c.ip + 1)}-${formatIpv4(end)}`;
  return `${formatIpv4(start)}-${formatIpv4(end)}`;
}
