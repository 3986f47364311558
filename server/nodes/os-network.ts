/**
 * The network configuration a deployed OS gets for its reserved address (manifest `ip`, node page): the
 * address, the subnet of the served pool that holds it, and the router and name servers DHCP hands out
 * there (the operator's `--dhcp-option 3/6`, else the appliance on its own subnet, as full-server.ts does).
 * Task templates read it as `network` (docs/tasks.md). Pure.
 */
import type { Config } from '../config/schema.ts';
import { poolsFor } from '../dhcp/pools.ts';
import { poolFor } from '../dhcp/lease-table.ts';
import { ipToInt, prefixMask, prefixToNetmask } from '../net/ipv4.ts';

/** What templates see as `network`. */
export interface OsNetwork {
  ip: string;
  prefix: number;
  netmask: string;
  /** Null when DHCP hands out none on that subnet. */
  gateway: string | null;
  dns: string[];
  /** The name servers comma-joined (kickstart, netplan lists); empty when none. */
  nameservers: string;
}

const QUAD = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g;

/** The addresses of an operator option (`--dhcp-option 3=ips:10.0.0.254`), in order. */
function optionIps(c: Pick<Config, 'dhcpOptions'>, code: number): string[] | null {
  const o = c.dhcpOptions.find((x) => x.code === code);
  return o ? (o.value.match(QUAD) ?? []).filter((ip) => ipToInt(ip) !== null) : null;
}

/** The OS network for `ip`, or null when no served pool holds it (proxy mode, or an address on another network). */
export function osNetworkFor(c: Config, ip: string | null): OsNetwork | null {
  if (!ip) return null;
  const pool = poolFor(poolsFor(c), ip);
  if (!pool) return null;
  const server = c.address ? ipToInt(c.address.ip) : null;
  const own = server !== null && (server & prefixMask(pool.prefix)) >>> 0 === pool.network ? [c.address!.ip] : [];
  const dns = optionIps(c, 6) ?? own;
  return {
    ip,
    prefix: pool.prefix,
    netmask: prefixToNetmask(pool.prefix),
    gateway: (optionIps(c, 3) ?? own)[0] ?? null,
    dns,
    nameservers: dns.join(','),
  };
}
