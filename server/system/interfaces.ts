/** The machine's NICs for the Setup screen: link, addresses, speed, Wi-Fi, default route. */
import os from 'node:os';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { InterfaceInfo } from '../../contract/system.ts';
import { prefixToNetmask } from '../net/ipv4.ts';

/** One NIC as the Setup screen shows it (contract/system.ts). */
export type { InterfaceInfo };

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

/**
 * IPv4 addresses of every NIC, including NICs without carrier (Node's
 * os.networkInterfaces() hides those, but an engineer often starts Crashcart
 * before plugging the cable in). Read with `ip -j -4 addr`; falls back to Node's view.
 */
export function interfacesWithAddresses(): NodeJS.Dict<os.NetworkInterfaceInfo[]> {
  const out: NodeJS.Dict<os.NetworkInterfaceInfo[]> = {};
  let names: string[] = [];
  try {
    names = fs.readdirSync('/sys/class/net');
  } catch {
    return os.networkInterfaces();
  }
  for (const n of names) out[n] = [];
  try {
    const raw = execFileSync('ip', ['-j', '-4', 'addr'], { encoding: 'utf8', timeout: 5000 });
    for (const link of JSON.parse(raw) as { ifname: string; address?: string; addr_info?: { local: string; prefixlen: number }[] }[]) {
      out[link.ifname] = (link.addr_info ?? []).map((a) => ({
        address: a.local,
        netmask: prefixToNetmask(a.prefixlen),
        family: 'IPv4' as const,
        mac: read(`/sys/class/net/${link.ifname}/address`) ?? '00:00:00:00:00:00',
        internal: link.ifname === 'lo',
        cidr: `${a.local}/${a.prefixlen}`,
      }));
    }
  } catch {
    return { ...out, ...os.networkInterfaces() };
  }
  return out;
}
