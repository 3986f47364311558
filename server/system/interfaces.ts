/** The machine's NICs for the Setup screen: link, addresses, speed, Wi-Fi, default route. */
import os from 'node:os';
import fs from 'node:fs';

/** One NIC as the Setup screen shows it. */
export interface InterfaceInfo {
  name: string;
  mac: string | null;
  up: boolean;
  addresses: string[];
  speed_mbps: number | null;
  wireless: boolean;
  default_route: boolean;
  ifindex: number | null;
}

const read = (p: string): string | null => {
  try {
    return fs.readFileSync(p, 'utf8').trim();
  } catch {
    return null;
  }
};

/** Interface names that carry an IPv4 default route (/proc/net/route, destination 0). */
export function defaultRouteIfaces(routeTable: string | null = read('/proc/net/route')): Set<string> {
  const out = new Set<string>();
  for (const line of (routeTable ?? '').split('\n').slice(1)) {
    const [iface, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (iface && dest === '00000000' && mask === '00000000') out.add(iface);
  }
  return out;
}

/** Interface index from sysfs. */
export function ifindexOf(name: string): number | null {
  const v = read(`/sys/class/net/${name}/ifindex`);
  return v && /^\d+$/.test(v) ? Number(v) : null;
}

/** List every NIC but loopback. */
export function listInterfaces(): InterfaceInfo[] {
  const addrs = os.networkInterfaces();
  const defaults = defaultRouteIfaces();
  let names: string[];
  try {
    names = fs.readdirSync('/sys/class/net');
  } catch {
    names = Object.keys(addrs);
  }
  return names
    .filter((n) => n !== 'lo')
    .sort()
    .map((name) => {
      const speed = Number(read(`/sys/class/net/${name}/speed`) ?? NaN);
      return {
        name,
        mac: read(`/sys/class/net/${name}/address`),
        up: read(`/sys/class/net/${name}/operstate`) === 'up' || read(`/sys/class/net/${name}/carrier`) === '1',
        addresses: (addrs[name] ?? []).map((a) => a.cidr ?? a.address),
        speed_mbps: Number.isFinite(speed) && speed > 0 ? speed : null,
        wireless: fs.existsSync(`/sys/class/net/${name}/wireless`) || fs.existsSync(`/sys/class/net/${name}/phy80211`),
        default_route: defaults.has(name),
        ifindex: ifindexOf(name),
      };
    });
}
