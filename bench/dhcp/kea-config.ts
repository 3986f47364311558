/**
 * kea-dhcp4's configuration for the bench, in two kinds of reply.
 *
 * `same`: Kea answers with the options Crashcart's replies carry on its own subnet (full-server.ts leaseOptions):
 * router and name server = the server, the broadcast address, T1 and T2 at RFC 2131's fractions of the lease, on top
 * of what Kea always sends (53, 54, 51, 1, and 61 echoed, RFC 6842). Sent whatever the client's parameter request
 * list says, as Crashcart sends them. Until 2026-12-03 the bench ran only `minimal`: Kea's replies carried 5 options
 * and 271 bytes, Crashcart's 9 and 300, and perfdhcp, which parses every option of every reply on one core, did less
 * work for Kea in the same run.
 *
 * `minimal`: no option-data and no timers: Kea's 53, 54, 51, 1 and 61 (the configuration of every run before).
 */
import path from 'node:path';
import { DEFAULT_LEASE_S, REBINDING_FRACTION, RENEWAL_FRACTION } from '../../server/dhcp/defaults.ts';
import { intToIp, ipToInt, prefixMask } from '../../server/net/ipv4.ts';

export type KeaReplies = 'same' | 'minimal';

export interface KeaNet {
  server: string;
  prefix: number;
  start: string;
  end: string;
}

/** The network and broadcast addresses of `ip`/`prefix` (as full-server.ts computes option 28). */
export function subnetOf(ip: string, prefix: number): { network: string; broadcast: string } {
  const n = ipToInt(ip);
  if (n === null) throw new Error(`${ip} is not an IPv4 address`);
  const mask = prefixMask(prefix);
  return { network: intToIp((n & mask) >>> 0), broadcast: intToIp((n | ~mask) >>> 0) };
}

/** The `Dhcp4` document for kea-dhcp4 serving `net` from `dir` (memfile appends, no fsync, no lease file cleanup). */
export function keaConfig(net: KeaNet, dir: string, replies: KeaReplies): object {
  const lease = DEFAULT_LEASE_S;
  const { network, broadcast } = subnetOf(net.server, net.prefix);
  const same =
    replies === 'same'
      ? {
          'renew-timer': Math.floor(lease * RENEWAL_FRACTION),
          'rebind-timer': Math.floor(lease * REBINDING_FRACTION),
          'option-data': [
            { name: 'routers', data: net.server, 'always-send': true },
            { name: 'domain-name-servers', data: net.server, 'always-send': true },
            { name: 'broadcast-address', data: broadcast, 'always-send': true },
          ],
        }
      : {};
  return {
    Dhcp4: {
      'interfaces-config': { interfaces: [`s0/${net.server}`], 'dhcp-socket-type': 'udp' },
      'lease-database': { type: 'memfile', persist: true, name: path.join(dir, 'kea-leases4.csv'), 'lfc-interval': 0 },
      'valid-lifetime': lease,
      ...same,
      subnet4: [{ id: 1, subnet: `${network}/${net.prefix}`, pools: [{ pool: `${net.start} - ${net.end}` }] }],
      loggers: [{ name: 'kea-dhcp4', output_options: [{ output: path.join(dir, 'kea.log') }], severity: 'WARN' }],
    },
  };
}
